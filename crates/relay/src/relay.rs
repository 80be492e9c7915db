//! The relay's state, shared by every handler.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tsunagi_line::ChannelId;
use tsunagi_proto::api::{Enroll, Enrolled, Invited, Role};
use tsunagi_proto::{Credential, DeviceId, UnixMillis};

use crate::clock::Clock;
use crate::egress::Egress;
use crate::media::MediaStore;
use crate::secret::{ChannelSecret, RelayKey};
use crate::store::{Device, Invite, LogStore, NewDevice, StoreError};
use crate::telegram::Telegram;
use crate::token;

/// How long an enrollment code works.
pub const INVITE_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// How soon a stream notices a revoke made by another relay process.
pub const REVOCATION_SEEN_WITHIN: Duration = Duration::from_millis(500);

/// How often, at most, the list of channels is read for a webhook to a channel it lacks.
const CHANNELS_READ_EVERY: Duration = Duration::from_secs(1);

/// How long a proven token is believed without asking the store again. A revoke through
/// this process ends it at once, through another within [`REVOCATION_SEEN_WITHIN`].
const PROVEN_FOR: Duration = Duration::from_secs(60);

/// Devices remembered as proven before the list is emptied.
const PROVEN_KEPT: usize = 10_000;

/// Where LINE is, and where LINE can reach this relay: the relay holds it, and
/// `line_setup` connects channels with it (and re-exports it).
#[derive(Debug, Clone)]
pub struct LineSetup {
    /// `https://api.line.me`, or the simulator.
    pub api_base: String,
    /// `https://api-data.line.me` (message content), or the simulator.
    pub data_base: String,
    /// This relay's address as LINE sees it, e.g. `https://relay.example.com`.
    pub public_url: String,
}

impl LineSetup {
    /// LINE's real addresses, with this relay reachable at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            api_base: tsunagi_line::client::DEFAULT_API_BASE.to_owned(),
            data_base: tsunagi_line::client::DEFAULT_DATA_BASE.to_owned(),
            public_url: public_url.into(),
        }
    }

    /// Where LINE delivers `channel`'s webhooks.
    pub fn webhook_url(&self, channel: &ChannelId) -> String {
        format!(
            "{}/webhook/line/{channel}",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// The store, the key that opens channel secrets, and the opened secrets themselves.
#[derive(Debug)]
pub struct Relay<S> {
    pub store: S,
    key: RelayKey,
    secrets: RwLock<HashMap<ChannelId, ChannelSecret>>,
    /// The channels the store held when last asked, and when: a webhook for a channel not
    /// among them costs a read of the list at most once per [`CHANNELS_READ_EVERY`], however
    /// many ids a sender makes up.
    channels: tokio::sync::Mutex<Option<(std::time::Instant, HashSet<ChannelId>)>>,
    /// Devices whose token was proven lately, and when: a desk's calls cost no lookup of
    /// its token for [`PROVEN_FOR`], unless it is revoked meanwhile.
    proven: RwLock<HashMap<DeviceId, (std::time::Instant, Device)>>,
    /// Turns true when the relay shuts down: streams and long-polls end.
    closing: tokio::sync::watch::Sender<bool>,
    /// Devices revoked through this process, or seen revoked through another: their
    /// streams and long-polls end.
    revoked: tokio::sync::watch::Sender<HashSet<DeviceId>>,
    /// Whether the task that looks for other processes' revokes runs.
    watching_revocations: AtomicBool,
    /// Where LINE is and how it reaches this relay; without it, channels can be added only
    /// from the command line, unchecked.
    line: Option<LineSetup>,
    /// Where users' media is kept; without it, none is downloaded.
    media: Option<MediaStore>,
    /// The time, for HTTP and the executor alike.
    clock: Clock,
    /// Calls to the AI endpoint and to Telegram: public addresses over HTTPS, and the
    /// networks the operator allows.
    egress: Egress,
    telegram: Telegram,
}

impl<S: LogStore> Relay<S> {
    pub fn new(store: S, key: RelayKey) -> Self {
        let egress = Egress::default();
        Self {
            store,
            key,
            secrets: RwLock::new(HashMap::new()),
            channels: tokio::sync::Mutex::new(None),
            proven: RwLock::new(HashMap::new()),
            closing: tokio::sync::watch::channel(false).0,
            revoked: tokio::sync::watch::channel(HashSet::new()).0,
            watching_revocations: AtomicBool::new(false),
            line: None,
            media: None,
            clock: Clock::SYSTEM,
            telegram: Telegram::new(egress.clone(), crate::telegram::DEFAULT_API),
            egress,
        }
    }

    /// Judges time by `clock` instead of the system's.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by the relay's clock.
    pub fn now(&self) -> UnixMillis {
        self.clock.now()
    }

    /// Keeps users' media under `dir`.
    #[must_use]
    pub fn with_media(mut self, media: MediaStore) -> Self {
        self.media = Some(media);
        self
    }

    pub fn media(&self) -> Option<&MediaStore> {
        self.media.as_ref()
    }

    /// Lets owners connect channels over the API, checked with LINE.
    #[must_use]
    pub fn with_line(mut self, line: LineSetup) -> Self {
        self.line = Some(line);
        self
    }

    pub fn line(&self) -> Option<&LineSetup> {
        self.line.as_ref()
    }

    /// Sends Telegram alerts through the Bot API at `base` (Telegram's own by default).
    #[must_use]
    pub fn with_telegram_api(mut self, base: &str) -> Self {
        self.telegram = Telegram::new(self.egress.clone(), base);
        self
    }

    pub fn telegram(&self) -> &Telegram {
        &self.telegram
    }

    /// Calls services other than LINE (the AI endpoint, Telegram) through `egress`: to the
    /// networks it allows beside the public internet.
    #[must_use]
    pub fn with_egress(mut self, egress: Egress) -> Self {
        self.telegram = Telegram::new(egress.clone(), self.telegram.base());
        self.egress = egress;
        self
    }

    /// The calls to services other than LINE (the AI endpoint, Telegram).
    pub fn egress(&self) -> &Egress {
        &self.egress
    }

    /// Ends every open stream and long-poll, so a graceful shutdown does not wait on them.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once the relay is shutting down.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }

    /// Revokes a device; false if there is no such device. Its open streams and long-polls
    /// end at once, and nothing this process serves after the revoke reaches it.
    pub async fn revoke_device(&self, id: &DeviceId, at: UnixMillis) -> Result<bool, StoreError> {
        // Marked before the commit: from the commit on, nothing more goes out to it.
        self.revoked.send_modify(|revoked| {
            revoked.insert(id.clone());
        });
        let revoked = self.store.revoke_device(id, at).await;
        if !matches!(revoked, Ok(true)) {
            self.revoked.send_modify(|revoked| {
                revoked.remove(id);
            });
        }
        revoked
    }

    /// The device `id`, if a token of it was proven within [`PROVEN_FOR`] and it is not
    /// revoked since.
    pub fn remembered(&self, id: &DeviceId) -> Option<Device> {
        if self.revoked.borrow().contains(id) {
            return None;
        }
        self.proven
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .filter(|(at, _)| at.elapsed() < PROVEN_FOR)
            .map(|(_, device)| device.clone())
    }

    /// `device` proved its token: believed without asking the store for a while. Revokes
    /// made through other processes are watched for from now on.
    pub fn proven(self: &Arc<Self>, device: &Device) {
        self.watch_revocations();
        let mut proven = self
            .proven
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if proven.len() >= PROVEN_KEPT {
            proven.retain(|_, (at, _)| at.elapsed() < PROVEN_FOR);
            if proven.len() >= PROVEN_KEPT {
                proven.clear();
            }
        }
        let fresh = proven
            .get(&device.id)
            .is_some_and(|(at, _)| at.elapsed() < PROVEN_FOR);
        if !fresh {
            proven.insert(
                device.id.clone(),
                (std::time::Instant::now(), device.clone()),
            );
        }
    }

    /// Whether `device` may no longer read: revoked through this process, or as the store
    /// says (by another relay process), or gone.
    pub async fn is_revoked(&self, device: &DeviceId) -> Result<bool, StoreError> {
        if self.revoked.borrow().contains(device) {
            return Ok(true);
        }
        Ok(self
            .store
            .device(device)
            .await?
            .is_none_or(|d| d.revoked_at.is_some()))
    }

    /// Resolves once `device` is revoked: at once through this process, within
    /// [`REVOCATION_SEEN_WITHIN`] through another sharing the store.
    pub async fn until_revoked(self: &Arc<Self>, device: &DeviceId) {
        self.watch_revocations();
        let mut revoked = self.revoked.subscribe();
        let _ = revoked.wait_for(|revoked| revoked.contains(device)).await;
    }

    /// Starts, once, the one task that learns of revokes made through other processes, so
    /// that each waiting stream need not ask the store itself.
    fn watch_revocations(self: &Arc<Self>) {
        if self.watching_revocations.swap(true, Ordering::SeqCst) {
            return;
        }
        let relay = Arc::downgrade(self);
        tokio::spawn(async move {
            // When the store last answered: a revoke made while it could not be asked is
            // still found once it can.
            let mut asked: Option<UnixMillis> = None;
            loop {
                tokio::time::sleep(REVOCATION_SEEN_WITHIN).await;
                let Some(relay) = relay.upgrade() else {
                    return;
                };
                if *relay.closing.borrow() {
                    return;
                }
                let now = relay.now();
                // Revokes are stamped by the clock of the process that made them: a
                // minute back covers clocks that disagree.
                let since = UnixMillis(asked.unwrap_or(now).0 - 60_000);
                match relay.store.revoked_since(since).await {
                    Ok(ids) => {
                        asked = Some(now);
                        relay.revoked.send_if_modified(|revoked| {
                            let before = revoked.len();
                            revoked.extend(ids);
                            revoked.len() > before
                        });
                    }
                    Err(error) => tracing::debug!(%error, "looking for revoked devices"),
                }
            }
        });
    }

    /// Registers a LINE channel; its secret is stored sealed with the relay's key.
    pub async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: ChannelSecret,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(&secret);
        self.store.add_channel(channel, &sealed, self.now()).await?;
        self.remember(channel, secret);
        Ok(())
    }

    /// Replaces a channel's secret: webhooks signed with the old one are refused from now.
    pub async fn replace_secret(
        &self,
        channel: &ChannelId,
        secret: ChannelSecret,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(&secret);
        self.store.replace_channel_secret(channel, &sealed).await?;
        self.remember(channel, secret);
        Ok(())
    }

    /// Keeps an opened secret, unless other processes may replace it: then each webhook
    /// reads it afresh, so that a replaced secret takes effect on every process at once.
    fn remember(&self, channel: &ChannelId, secret: ChannelSecret) {
        if self.store.is_shared() {
            return;
        }
        self.secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(channel.clone(), secret);
    }

    /// The channel's secret for a webhook: `None` at once (no store read) for a channel
    /// the list of channels, read at most once per [`CHANNELS_READ_EVERY`], does not have.
    pub async fn webhook_secret(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<ChannelSecret>, StoreError> {
        let cached = self
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(channel)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        {
            // One reader at a time: of a flood of made-up ids, one reads the list.
            let mut channels = self.channels.lock().await;
            let fresh = channels
                .as_ref()
                .is_some_and(|(at, _)| at.elapsed() < CHANNELS_READ_EVERY);
            let known = |channels: &Option<(std::time::Instant, HashSet<ChannelId>)>| {
                channels
                    .as_ref()
                    .is_some_and(|(_, ids)| ids.contains(channel))
            };
            if !known(&channels) {
                if fresh {
                    return Ok(None);
                }
                let ids = self.store.channels().await?.into_iter().map(|c| c.id);
                *channels = Some((std::time::Instant::now(), ids.collect()));
                if !known(&channels) {
                    return Ok(None);
                }
            }
        }
        self.secret(channel).await
    }

    /// The channel's secret, opened once and then kept in memory (on a store of one
    /// process). `None`: no such channel.
    pub async fn secret(&self, channel: &ChannelId) -> Result<Option<ChannelSecret>, StoreError> {
        if let Some(secret) = self
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(channel)
        {
            return Ok(Some(secret.clone()));
        }
        let Some(sealed) = self.store.channel_secret(channel).await? else {
            return Ok(None);
        };
        let secret = self
            .key
            .open(&sealed)
            .map_err(|e| StoreError::Corrupt(format!("channel {channel}: {e}")))?;
        self.remember(channel, secret.clone());
        Ok(Some(secret))
    }
}

impl<S: LogStore> Relay<S> {
    /// The channel's credential, opened; `None` if it has none.
    pub async fn credential(
        &self,
        channel: &ChannelId,
        credential: Credential,
    ) -> Result<Option<String>, StoreError> {
        let Some(sealed) = self.store.credential(channel, credential.name()).await? else {
            return Ok(None);
        };
        self.key.open_text(&sealed).map(Some).map_err(|e| {
            StoreError::Corrupt(format!("channel {channel}'s {}: {e}", credential.name()))
        })
    }

    /// Keeps `value` sealed as the channel's credential, or removes it (`None`).
    pub async fn set_credential(
        &self,
        channel: &ChannelId,
        credential: Credential,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let sealed = value.map(|v| self.key.seal_text(v));
        self.store
            .set_credential(channel, credential.name(), sealed.as_ref(), self.now())
            .await
    }
}

impl<S: LogStore> Relay<S> {
    /// A one-time code that enrolls one device into `channel` with `role`, for 24 hours,
    /// asked for by device `by` (`None`: the relay's operator): it stops working when `by`
    /// is revoked.
    pub async fn invite(
        &self,
        channel: &ChannelId,
        role: Role,
        by: Option<&DeviceId>,
    ) -> Result<Invited, StoreError> {
        self.create_invite(Some(channel), role, by).await
    }

    /// A one-time code that enrolls an owner of the whole relay, for 24 hours: the first
    /// start offers one, so the owner's desk can enroll before any channel exists. Any
    /// earlier setup code stops working.
    pub async fn setup_code(&self) -> Result<Invited, StoreError> {
        self.create_invite(None, Role::Owner, None).await
    }

    async fn create_invite(
        &self,
        channel: Option<&ChannelId>,
        role: Role,
        by: Option<&DeviceId>,
    ) -> Result<Invited, StoreError> {
        let code = token::new_code();
        let id = uuid::Uuid::new_v4().to_string();
        let created_at = self.now();
        let expires_at = UnixMillis(created_at.0 + INVITE_TTL_MS);
        self.store
            .create_invite(&Invite {
                id: id.clone(),
                code_hash: token::sha256(&token::normalize_code(&code)),
                channel: channel.cloned(),
                role,
                created_by: by.cloned(),
                created_at,
                expires_at,
            })
            .await?;
        Ok(Invited {
            id,
            code,
            expires_at: expires_at.0,
        })
    }

    /// Uses a code to add a device; its token is returned here and never again.
    pub async fn enroll(&self, request: &Enroll) -> Result<Enrolled, StoreError> {
        let (id, token) = token::new_device_token();
        let pending = NewDevice {
            id,
            device_name: request.device_name.trim().to_owned(),
            operator_name: request.operator_name.trim().to_owned(),
            token_hash: token::sha256(&token),
        };
        let code_hash = token::sha256(&token::normalize_code(&request.code));
        let device = self.store.enroll(&code_hash, pending, self.now()).await?;
        tracing::info!(device = %device.id, channel = ?device.channel, role = ?device.role, "device enrolled");
        Ok(Enrolled {
            device_id: device.id,
            token,
            channel_id: device.channel,
            role: device.role,
        })
    }
}
