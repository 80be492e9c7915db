//! The trait every backend implements, and what it promises.

use std::future::Future;

use tokio::sync::watch;
use tsunagi_line::ChannelId;
use tsunagi_proto::{DeviceId, Entry, Seq, UnixMillis};

use super::{
    Appended, Channel, Device, Fence, Invite, NewDevice, NewEntry, OutstandingInvite, Result,
};
use crate::secret::Sealed;

/// The log of every channel.
///
/// `append` returns only once its entries are durable (committed and synced); a failed
/// append wrote nothing. Seqs are 1, 2, 3… per channel with no gaps, in commit order.
pub trait LogStore: Send + Sync + 'static {
    /// Whether the store answers at all.
    fn ready(&self) -> impl Future<Output = Result<()>> + Send;

    /// Whether other relay processes write to this store too: then nothing read from it
    /// may be kept in memory as settled (a channel's secret, say).
    fn is_shared(&self) -> bool;

    fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every channel, by id.
    fn channels(&self) -> impl Future<Output = Result<Vec<Channel>>> + Send;

    /// Replaces a channel's secret (LINE issued a new one).
    fn replace_channel_secret(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The channel's sealed secret, if the channel exists.
    fn channel_secret(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<Sealed>>> + Send;

    /// Keeps `sealed` as the channel's credential `name`, replacing the one before; with
    /// `None`, the channel has none any more.
    fn set_credential(
        &self,
        channel: &ChannelId,
        name: &str,
        sealed: Option<&Sealed>,
        at: UnixMillis,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The channel's sealed credential `name`, if it has one.
    fn credential(
        &self,
        channel: &ChannelId,
        name: &str,
    ) -> impl Future<Output = Result<Option<Sealed>>> + Send;

    /// Appends in order. Entries already logged are not appended again: their place in
    /// the log is returned instead.
    fn append(
        &self,
        channel: &ChannelId,
        entries: Vec<NewEntry>,
    ) -> impl Future<Output = Result<Vec<Appended>>> + Send;

    /// [`append`](LogStore::append), only while `fence` holds the channel's executor lease:
    /// [`StoreError::LeaseLost`](super::StoreError::LeaseLost) otherwise, with nothing
    /// written.
    fn append_fenced(
        &self,
        channel: &ChannelId,
        fence: Fence,
        entries: Vec<NewEntry>,
    ) -> impl Future<Output = Result<Vec<Appended>>> + Send;

    /// Up to `limit` entries after `after`, in order.
    fn read(
        &self,
        channel: &ChannelId,
        after: Seq,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Entry>>> + Send;

    /// The newest seq of a channel's log.
    fn head(&self, channel: &ChannelId) -> impl Future<Output = Result<Seq>> + Send;

    /// Follows a channel's head as entries are committed.
    fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq>;

    /// The relay's metrics, which the store also feeds (commit groups, heads).
    fn metrics(&self) -> &crate::metrics::Metrics;

    /// Keeps a new code. A new setup code (no channel) withdraws every earlier one still
    /// unused, in the same write.
    fn create_invite(&self, invite: &Invite) -> impl Future<Output = Result<()>> + Send;

    /// The channel's codes that still work at `now`, oldest first.
    fn invites(
        &self,
        channel: &ChannelId,
        now: UnixMillis,
    ) -> impl Future<Output = Result<Vec<OutstandingInvite>>> + Send;

    /// Withdraws the channel's unused code `id`; false if it has none such.
    fn withdraw_invite(
        &self,
        channel: &ChannelId,
        id: &str,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Uses the code with this hash, once, to add `device` to the invite's channel with
    /// the invite's role. Returns the device as stored.
    fn enroll(
        &self,
        code_hash: &[u8],
        device: NewDevice,
        now: UnixMillis,
    ) -> impl Future<Output = Result<Device>> + Send;

    fn device(&self, id: &DeviceId) -> impl Future<Output = Result<Option<Device>>> + Send;

    /// The device called the relay at `at`.
    fn seen(&self, id: &DeviceId, at: UnixMillis) -> impl Future<Output = Result<()>> + Send;

    /// The devices that reach `channel`: its own, and the owners of the whole relay.
    fn devices(&self, channel: &ChannelId) -> impl Future<Output = Result<Vec<Device>>> + Send;

    /// Whether some device, not revoked, owns the whole relay. Until one does, the relay
    /// offers a setup code on start.
    fn has_relay_owner(&self) -> impl Future<Output = Result<bool>> + Send;
    /// Takes or renews the leases on these channels' executors for `holder` until `until`,
    /// in one write. Returns the channels `holder` has now: their lease was free, had
    /// lapsed by `now`, or was `holder`'s.
    fn lease_executors(
        &self,
        channels: &[ChannelId],
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> impl Future<Output = Result<Vec<ChannelId>>> + Send;
    /// [`lease_executors`](LogStore::lease_executors) for one channel: whether `holder`
    /// has its lease now.
    fn lease_executor(
        &self,
        channel: &ChannelId,
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move {
            let held = self
                .lease_executors(std::slice::from_ref(channel), holder, now, until)
                .await?;
            Ok(!held.is_empty())
        }
    }
    /// Gives the lease up at once, if `holder` has it.
    fn release_executor(
        &self,
        channel: &ChannelId,
        holder: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// How far the channel's executor has acted; `None` for no such channel.
    fn executor_cursor(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<Seq>>> + Send;
    /// Moves the executor's cursor, if `holder` still has the lease at `now`. False when
    /// it has lost it: another executor took over, and this one must stop.
    fn move_executor_cursor(
        &self,
        channel: &ChannelId,
        holder: &str,
        seq: Seq,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Keeps the executor's folded state as of `seq` (at or before its cursor), while
    /// `fence` holds the lease: [`StoreError::LeaseLost`](super::StoreError::LeaseLost)
    /// otherwise.
    fn save_executor_snapshot(
        &self,
        channel: &ChannelId,
        fence: Fence,
        seq: Seq,
        state: Vec<u8>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The newest snapshot of the executor's state, with its seq.
    fn executor_snapshot(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<(Seq, Vec<u8>)>>> + Send;

    /// The files erases left to delete in the channel: `("media", message id)` and
    /// `("upload", name)`.
    fn erased_files(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;

    /// The file is deleted: it is no longer listed.
    fn erased_file_deleted(
        &self,
        channel: &ChannelId,
        kind: &str,
        name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Whether an op of the channel still names the upload `name` (one sent only to an
    /// erased patient is named by none any more). It reads every op: after an erase only.
    fn upload_named(
        &self,
        channel: &ChannelId,
        name: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The devices revoked at or after `since`.
    fn revoked_since(
        &self,
        since: UnixMillis,
    ) -> impl Future<Output = Result<Vec<DeviceId>>> + Send;

    /// Revokes a device, and withdraws the codes it asked for that are still unused, in one
    /// write; false if there is no such device.
    fn revoke_device(
        &self,
        id: &DeviceId,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;
}
