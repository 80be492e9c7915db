//! Either backend, chosen when the relay starts: SQLite in its data folder, or PostgreSQL
//! when it is given a database address.

use std::path::Path;

use tokio::sync::watch;
use tsunagi_line::ChannelId;
use tsunagi_proto::{DeviceId, Entry, Seq, UnixMillis};

use super::{
    Appended, Channel, Device, Fence, Invite, LogStore, NewDevice, NewEntry, OutstandingInvite,
    PgStore, Result, SqliteStore,
};
use crate::metrics::Metrics;
use crate::secret::Sealed;

/// The store a relay process runs on.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// PostgreSQL at `database` (`postgres://…`) when given, else SQLite at `sqlite_file`.
    pub async fn open(database: Option<&str>, sqlite_file: &Path) -> Result<AnyStore> {
        Ok(match database {
            Some(url) => AnyStore::Postgres(PgStore::connect(url).await?),
            None => AnyStore::Sqlite(SqliteStore::open(sqlite_file).await?),
        })
    }

    /// What it runs on, for the log: "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "SQLite",
            AnyStore::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The same call on whichever store it is.
macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call,
            AnyStore::Postgres($store) => $call,
        }
    };
}

impl LogStore for AnyStore {
    async fn erased_files(&self, channel: &ChannelId) -> Result<Vec<(String, String)>> {
        each!(self, s => s.erased_files(channel).await)
    }

    async fn erased_file_deleted(&self, channel: &ChannelId, kind: &str, name: &str) -> Result<()> {
        each!(self, s => s.erased_file_deleted(channel, kind, name).await)
    }

    async fn upload_named(&self, channel: &ChannelId, name: &str) -> Result<bool> {
        each!(self, s => s.upload_named(channel, name).await)
    }

    async fn ready(&self) -> Result<()> {
        each!(self, s => s.ready().await)
    }

    fn is_shared(&self) -> bool {
        each!(self, s => s.is_shared())
    }

    async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> Result<()> {
        each!(self, s => s.add_channel(channel, secret, at).await)
    }

    async fn channels(&self) -> Result<Vec<Channel>> {
        each!(self, s => s.channels().await)
    }

    async fn replace_channel_secret(&self, channel: &ChannelId, secret: &Sealed) -> Result<()> {
        each!(self, s => s.replace_channel_secret(channel, secret).await)
    }

    async fn channel_secret(&self, channel: &ChannelId) -> Result<Option<Sealed>> {
        each!(self, s => s.channel_secret(channel).await)
    }

    async fn set_credential(
        &self,
        channel: &ChannelId,
        name: &str,
        sealed: Option<&Sealed>,
        at: UnixMillis,
    ) -> Result<()> {
        each!(self, s => s.set_credential(channel, name, sealed, at).await)
    }

    async fn credential(&self, channel: &ChannelId, name: &str) -> Result<Option<Sealed>> {
        each!(self, s => s.credential(channel, name).await)
    }

    async fn append(&self, channel: &ChannelId, entries: Vec<NewEntry>) -> Result<Vec<Appended>> {
        each!(self, s => s.append(channel, entries).await)
    }

    async fn append_fenced(
        &self,
        channel: &ChannelId,
        fence: Fence,
        entries: Vec<NewEntry>,
    ) -> Result<Vec<Appended>> {
        each!(self, s => s.append_fenced(channel, fence, entries).await)
    }

    async fn read(&self, channel: &ChannelId, after: Seq, limit: u32) -> Result<Vec<Entry>> {
        each!(self, s => s.read(channel, after, limit).await)
    }

    async fn head(&self, channel: &ChannelId) -> Result<Seq> {
        each!(self, s => s.head(channel).await)
    }

    fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq> {
        each!(self, s => s.subscribe(channel))
    }

    fn metrics(&self) -> &Metrics {
        each!(self, s => s.metrics())
    }

    async fn create_invite(&self, invite: &Invite) -> Result<()> {
        each!(self, s => s.create_invite(invite).await)
    }

    async fn invites(
        &self,
        channel: &ChannelId,
        now: UnixMillis,
    ) -> Result<Vec<OutstandingInvite>> {
        each!(self, s => s.invites(channel, now).await)
    }

    async fn withdraw_invite(
        &self,
        channel: &ChannelId,
        id: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        each!(self, s => s.withdraw_invite(channel, id, now).await)
    }

    async fn enroll(&self, code_hash: &[u8], device: NewDevice, now: UnixMillis) -> Result<Device> {
        each!(self, s => s.enroll(code_hash, device, now).await)
    }

    async fn device(&self, id: &DeviceId) -> Result<Option<Device>> {
        each!(self, s => s.device(id).await)
    }

    async fn seen(&self, id: &DeviceId, at: UnixMillis) -> Result<()> {
        each!(self, s => s.seen(id, at).await)
    }

    async fn devices(&self, channel: &ChannelId) -> Result<Vec<Device>> {
        each!(self, s => s.devices(channel).await)
    }

    async fn has_relay_owner(&self) -> Result<bool> {
        each!(self, s => s.has_relay_owner().await)
    }

    async fn lease_executors(
        &self,
        channels: &[ChannelId],
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> Result<Vec<ChannelId>> {
        each!(self, s => s.lease_executors(channels, holder, now, until).await)
    }

    async fn release_executor(&self, channel: &ChannelId, holder: &str) -> Result<()> {
        each!(self, s => s.release_executor(channel, holder).await)
    }

    async fn executor_cursor(&self, channel: &ChannelId) -> Result<Option<Seq>> {
        each!(self, s => s.executor_cursor(channel).await)
    }

    async fn move_executor_cursor(
        &self,
        channel: &ChannelId,
        holder: &str,
        seq: Seq,
        now: UnixMillis,
    ) -> Result<bool> {
        each!(self, s => s.move_executor_cursor(channel, holder, seq, now).await)
    }

    async fn save_executor_snapshot(
        &self,
        channel: &ChannelId,
        fence: Fence,
        seq: Seq,
        state: Vec<u8>,
    ) -> Result<()> {
        each!(self, s => s.save_executor_snapshot(channel, fence, seq, state).await)
    }

    async fn executor_snapshot(&self, channel: &ChannelId) -> Result<Option<(Seq, Vec<u8>)>> {
        each!(self, s => s.executor_snapshot(channel).await)
    }

    async fn revoked_since(&self, since: UnixMillis) -> Result<Vec<DeviceId>> {
        each!(self, s => s.revoked_since(since).await)
    }

    async fn revoke_device(&self, id: &DeviceId, now: UnixMillis) -> Result<bool> {
        each!(self, s => s.revoke_device(id, now).await)
    }
}
