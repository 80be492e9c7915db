//! A desk's enrolment: which relay and channel it follows, and as whom. The profile is a
//! file in the desk's data directory (`profile.json`, no secrets in it); the device token is
//! in the [`Vault`]. The app and `tsunagi-cli` both join, open and leave through here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{AddChannel, Enroll, ErrorCode, Role, SetupStep};
use tsunagi_proto::{DeviceId, OperatorId};
use url::Url;

use crate::credentials::{Kept, Vault, VaultError};
use crate::relay::{self, DeviceToken, RelayClient};
use crate::relay_url::{self, Problem};
use crate::store::{SetAside, Store};
use crate::sync::{Sync, SyncOptions};
use crate::{Error, Result};

const PROFILE: &str = "profile.json";
const STORE: &str = "desk.db";
const MEDIA: &str = "media";
/// The note that this desk was removed from its clinic ([`removed`]).
const REMOVED: &str = "removed.json";

/// Who this desk is on which relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub relay: Url,
    /// The channel this desk follows; none while the relay has no LINE channel yet and this
    /// desk, its owner's, is to connect one ([`connect_channel`]).
    pub channel_id: Option<ChannelId>,
    pub device_id: DeviceId,
    pub role: Role,
    /// The operator's name, as the team sees it.
    pub operator: String,
}

impl Profile {
    /// The operator this desk acts as.
    pub fn me(&self) -> OperatorId {
        OperatorId::from(&self.device_id)
    }

    /// The vault account of the device token (device ids are unique, the host is for
    /// people looking at their keyring).
    pub fn account(&self) -> String {
        let host = self.relay.host_str().unwrap_or("relay");
        format!("{}@{host}", self.device_id)
    }

    /// The profile kept in `dir`, if this desk has joined a relay.
    pub fn load(dir: &Path) -> Result<Option<Profile>> {
        let path = dir.join(PROFILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let profile: Profile = serde_json::from_str(&text).map_err(|e| {
                    Error::unreadable(format!("{} cannot be read: {e}", path.display()))
                })?;
                // Kept by an earlier version, which took the relay's ids unchecked.
                let channel = profile.channel_id.as_ref().map(crate::id::channel);
                for checked in [
                    crate::id::device(&profile.device_id),
                    channel.unwrap_or(Ok(())),
                ] {
                    checked.map_err(|bad| {
                        Error::unreadable(format!(
                            "{} names {bad}: leave the relay and join again",
                            path.display()
                        ))
                    })?;
                }
                Ok(Some(profile))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::file(format!("reading {}", path.display()), e)),
        }
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(PROFILE);
        let partial = dir.join(format!("{PROFILE}.partial"));
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::encoding("the profile", e))?;
        crate::private::create_dir_all(dir)
            .and_then(|()| crate::private::write(&partial, text.as_bytes()))
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| Error::file(format!("saving {}", path.display()), e))
    }
}

/// What a person types to join a relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The relay's address, as typed.
    pub relay: String,
    /// The one-time code from the owner (or the relay's setup code).
    pub code: String,
    pub operator_name: String,
    /// This computer, as owners see it among the devices.
    pub device_name: String,
    /// Which channel to follow, when the code is for a relay with several.
    pub channel: Option<ChannelId>,
}

/// Why joining did not work. Each one is something the person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("{0}")]
    Address(#[from] Problem),
    #[error("Enter your name, as your team will see it.")]
    NoName,
    #[error("Enter the invite code.")]
    NoCode,
    #[error("This invite code does not exist. Check it for typos.")]
    UnknownCode,
    #[error("This invite code was used already. Ask for a new one.")]
    UsedCode,
    #[error("This invite code has expired. Ask for a new one.")]
    ExpiredCode,
    #[error("This invite code was withdrawn. Ask for a new one.")]
    WithdrawnCode,
    #[error("The relay could not be reached: {0}")]
    Unreachable(String),
    #[error("The relay refused: {0}")]
    Refused(String),
    /// The relay answered with something no relay sends (an id that is not one, an answer
    /// that never ends): it is broken, fake or compromised. Nothing was kept.
    #[error("This desk will not use the relay's answer ({0}). Check the relay's address.")]
    Suspect(String),
    #[error("The system keyring could not keep the device token: {0}")]
    NoKeyring(String),
    #[error("The relay has no LINE channel yet. Add one, then join again.")]
    NoChannel,
    #[error("The relay has several channels: choose one ({})", list(.0))]
    ChooseChannel(Vec<ChannelId>),
    #[error("This desk has joined a relay already.")]
    AlreadyJoined,
    #[error("{0}")]
    Store(String),
}

fn list(channels: &[ChannelId]) -> String {
    channels
        .iter()
        .map(ChannelId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<relay::Error> for JoinError {
    fn from(error: relay::Error) -> Self {
        match error {
            relay::Error::Refused { code, message, .. } => match code {
                ErrorCode::InvalidCode => JoinError::UnknownCode,
                ErrorCode::UsedCode => JoinError::UsedCode,
                ErrorCode::ExpiredCode => JoinError::ExpiredCode,
                ErrorCode::WithdrawnCode => JoinError::WithdrawnCode,
                _ => JoinError::Refused(message),
            },
            relay::Error::Unreachable(e) => JoinError::Unreachable(e.to_string()),
            suspect @ (relay::Error::Suspect(_) | relay::Error::TooLarge { .. }) => {
                JoinError::Suspect(suspect.to_string())
            }
            other => JoinError::Unreachable(other.to_string()),
        }
    }
}

impl From<Error> for JoinError {
    fn from(error: Error) -> Self {
        match error {
            Error::Relay(error) => error.into(),
            other => JoinError::Store(other.to_string()),
        }
    }
}

impl From<VaultError> for JoinError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::NoKeyring(why) => JoinError::NoKeyring(why),
            VaultError::File(why) => JoinError::Store(why),
        }
    }
}

/// Enrolls this desk with a relay and keeps the profile in `dir`, the token in `vault`.
/// Nothing is kept unless every step worked.
pub async fn join(
    dir: &Path,
    vault: &Vault,
    request: &JoinRequest,
) -> Result<(Profile, Kept), JoinError> {
    let relay = relay_url::check(&request.relay)?;
    // Owned, not borrowed: a borrow held across the awaits below makes the future's
    // `Send` depend on a lifetime, which callers that spawn it cannot name.
    let operator = request.operator_name.trim().to_owned();
    if operator.is_empty() {
        return Err(JoinError::NoName);
    }
    let code = request.code.trim().to_owned();
    if code.is_empty() {
        return Err(JoinError::NoCode);
    }
    if Profile::load(dir)?.is_some() {
        return Err(JoinError::AlreadyJoined);
    }
    let enrolled = RelayClient::enroll(
        &relay.url,
        &Enroll {
            code,
            device_name: request.device_name.clone(),
            operator_name: operator.clone(),
        },
    )
    .await?;
    let client = RelayClient::new(relay.url.clone(), DeviceToken::new(enrolled.token.clone()))?;
    let channel_id = match enrolled.channel_id {
        Some(own) => Some(own),
        // An owner of the whole relay: which channel does this desk follow? None yet on a
        // new relay: the owner connects the first (the code is spent, so the desk joins).
        None => {
            let channels: Vec<ChannelId> = client
                .channels()
                .await?
                .into_iter()
                .map(|c| c.channel_id)
                .collect();
            if channels.is_empty() && enrolled.role == Role::Owner {
                None
            } else {
                Some(choose_channel(channels, request.channel.as_ref())?)
            }
        }
    };
    let profile = Profile {
        relay: relay.url,
        channel_id,
        device_id: enrolled.device_id,
        role: enrolled.role,
        operator,
    };
    // The folder first, for this user only: the token file (no keyring) goes in it.
    crate::private::create_dir_all(dir)
        .map_err(|e| JoinError::Store(format!("making {}: {e}", dir.display())))?;
    let kept = vault.save(&profile.account(), &enrolled.token)?;
    if let Err(error) = profile.save(dir) {
        let _ = vault.delete(&profile.account());
        return Err(error.into());
    }
    forget_removal(dir);
    Ok((profile, kept))
}

/// The channel to follow among those the device reaches.
fn choose_channel(
    mut reachable: Vec<ChannelId>,
    asked: Option<&ChannelId>,
) -> Result<ChannelId, JoinError> {
    match asked {
        Some(asked) if reachable.contains(asked) => Ok(asked.clone()),
        None if reachable.len() == 1 => Ok(reachable.remove(0)),
        _ if reachable.is_empty() => Err(JoinError::NoChannel),
        _ => Err(JoinError::ChooseChannel(reachable)),
    }
}

/// Why a LINE channel could not be connected. Nothing was stored by the relay unless the
/// answer says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("This desk has not joined a relay.")]
    NotJoined,
    #[error("This desk follows a channel already.")]
    Connected,
    #[error("Only the relay's owner can connect a LINE channel.")]
    NotOwner,
    #[error(
        "Enter the channel ID: the digits under Basic settings in the LINE Developers Console."
    )]
    NoChannelId,
    #[error(
        "Enter the channel secret: 32 letters and digits under Basic settings in the LINE Developers Console."
    )]
    NoSecret,
    #[error("LINE refused this channel ID and secret. Check both in the LINE Developers Console.")]
    Refused(String),
    #[error("LINE could not be reached to check the channel; nothing was stored. Try again.")]
    LineUnavailable(String),
    #[error("The relay could not be reached: {0}")]
    Unreachable(String),
    #[error("The relay refused: {0}")]
    Relay(String),
    /// The relay answered with something no relay sends; this desk kept nothing of it.
    #[error("This desk will not use the relay's answer ({0}).")]
    Suspect(String),
    #[error("{0}")]
    Store(String),
}

impl From<relay::Error> for ConnectError {
    fn from(error: relay::Error) -> Self {
        match error {
            relay::Error::Refused { code, message, .. } => match code {
                ErrorCode::LineRefused => ConnectError::Refused(message),
                ErrorCode::LineUnavailable => ConnectError::LineUnavailable(message),
                ErrorCode::Forbidden | ErrorCode::OwnerOnly => ConnectError::NotOwner,
                _ => ConnectError::Relay(message),
            },
            relay::Error::Unreachable(e) => ConnectError::Unreachable(e.to_string()),
            suspect @ (relay::Error::Suspect(_) | relay::Error::TooLarge { .. }) => {
                ConnectError::Suspect(suspect.to_string())
            }
            other => ConnectError::Unreachable(other.to_string()),
        }
    }
}

impl From<Error> for ConnectError {
    fn from(error: Error) -> Self {
        match error {
            Error::Relay(error) => error.into(),
            other => ConnectError::Store(other.to_string()),
        }
    }
}

/// Connects the relay's first LINE channel from its owner's desk (joined with the relay's
/// setup code): the relay checks the id and secret with LINE, stores them, points LINE's
/// webhook at itself and has LINE test it. Once the relay stored the channel, this desk
/// follows it; each step's outcome is in the answer (a failed webhook test leaves the
/// channel stored, for the owner to fix on LINE's side).
pub async fn connect_channel(
    dir: &Path,
    vault: &Vault,
    channel_id: &str,
    channel_secret: &str,
) -> Result<(Profile, Vec<SetupStep>), ConnectError> {
    let mut profile = Profile::load(dir)?.ok_or(ConnectError::NotJoined)?;
    if profile.channel_id.is_some() {
        return Err(ConnectError::Connected);
    }
    if profile.role != Role::Owner {
        return Err(ConnectError::NotOwner);
    }
    let channel_id = channel_id.trim();
    if channel_id.is_empty() {
        return Err(ConnectError::NoChannelId);
    }
    let channel_secret = channel_secret.trim();
    if channel_secret.is_empty() {
        return Err(ConnectError::NoSecret);
    }
    let token = vault
        .load(&profile.account())
        .map_err(|e| ConnectError::Store(e.to_string()))?
        .ok_or_else(|| ConnectError::Store("the device token is missing: join again".into()))?;
    let client = RelayClient::new(profile.relay.clone(), DeviceToken::new(token))?;
    let connected = client
        .add_channel(&AddChannel {
            channel_id: ChannelId::new(channel_id),
            channel_secret: channel_secret.to_owned(),
        })
        .await?;
    profile.channel_id = Some(connected.channel_id);
    profile.save(dir)?;
    Ok((profile, connected.steps))
}

/// A joined desk, opened: its profile and its sync (whose store is the local copy).
#[derive(Debug, Clone)]
pub struct Joined {
    pub profile: Profile,
    pub sync: Sync,
    pub media: PathBuf,
    /// The store this desk had, when it could not be used (damaged, or a newer version's)
    /// and was moved aside for a fresh one, which the sync fills from the relay.
    pub set_aside: Option<SetAside>,
}

impl Joined {
    /// This desk's copy of the log.
    pub fn store(&self) -> &Store {
        self.sync.store()
    }
}

/// Opens the desk kept in `dir`, or `None` when it has not joined a relay, or follows no
/// channel yet.
pub async fn open(dir: &Path, vault: &Vault, options: SyncOptions) -> Result<Option<Joined>> {
    let Some(profile) = Profile::load(dir)? else {
        return Ok(None);
    };
    let Some(channel) = profile.channel_id.clone() else {
        return Ok(None);
    };
    let token = vault.load(&profile.account())?.ok_or_else(|| {
        Error::Invalid("the device token is missing from the keyring: join again".into())
    })?;
    // Closed to other users: what an earlier version made more open, and what SQLite
    // made as the umask said (its `-wal` and `-shm` take the store's mode after this).
    let closing = |path: &Path| {
        crate::private::restrict(path)
            .map_err(|e| Error::file(format!("closing {} to others", path.display()), e))
    };
    closing(dir)?;
    closing(&dir.join(MEDIA))?;
    let (store, set_aside) = Store::open_or_rebuild(&dir.join(STORE)).await?;
    for name in [STORE, "desk.db-wal", "desk.db-shm"] {
        closing(&dir.join(name))?;
    }
    if let Some(aside) = &set_aside {
        closing(&aside.kept_as)?;
    }
    let client = RelayClient::new(profile.relay.clone(), DeviceToken::new(token))?;
    let sync = Sync::new(store, client, channel, options)
        .with_media(crate::media::MediaCache::new(dir.join(MEDIA)));
    // What an erase left when the desk stopped before deleting it.
    sync.delete_erased_media().await;
    Ok(Some(Joined {
        profile,
        sync,
        media: dir.join(MEDIA),
        set_aside,
    }))
}

/// Forgets the relay: the device token, the profile, the local store and media. (The relay
/// keeps the log; joining again brings everything back.)
pub fn leave(dir: &Path, vault: &Vault) -> Result<()> {
    let Some(profile) = Profile::load(dir)? else {
        return Ok(());
    };
    vault.delete(&profile.account())?;
    remove_file(&dir.join(PROFILE))?;
    delete_local_copy(dir)
}

/// Whether the relay's refusal says an owner removed this device from the clinic: its
/// token is refused as revoked, which no retry changes.
pub fn is_removed(error: &Error) -> bool {
    // (The relay says so in its message: `unauthorized` is also its code for a token it
    // does not know, which a relay restored from an older backup would say of a device
    // it still has to learn. That is no reason to delete what this desk holds.)
    matches!(
        error,
        Error::Relay(relay::Error::Refused {
            status: 401,
            code: ErrorCode::Unauthorized,
            message,
        }) if message.contains("revoked")
    )
}

/// What a desk does once its relay says an owner removed it ([`is_removed`]): it deletes
/// its copy of patients' data (the store with its search index and any store set aside,
/// the media cache), forgets the relay (the token, the profile), and leaves a note of when,
/// which [`removed`] reads for the window until the desk joins again.
pub async fn forget_removed(dir: &Path, vault: &Vault, joined: Joined) -> Result<()> {
    let store = joined.sync.store().clone();
    drop(joined);
    store.close().await;
    // Patients' data first: it is what must not stay.
    delete_local_copy(dir)?;
    let note = serde_json::to_string(&Removed {
        at: tsunagi_proto::UnixMillis::now().0,
    })
    .map_err(|e| Error::encoding("the removal note", e))?;
    crate::private::write(&dir.join(REMOVED), note.as_bytes())
        .map_err(|e| Error::file("noting the removal", e))?;
    if let Some(profile) = Profile::load(dir)? {
        vault.delete(&profile.account())?;
    }
    remove_file(&dir.join(PROFILE))
}

/// This desk was removed from its clinic, and deleted its copy of patients' data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// When it learned it and deleted the copy (Unix milliseconds).
    pub at: i64,
}

/// The note [`forget_removed`] left, until the desk joins a relay again.
pub fn removed(dir: &Path) -> Option<Removed> {
    let text = std::fs::read_to_string(dir.join(REMOVED)).ok()?;
    serde_json::from_str(&text).ok()
}

fn forget_removal(dir: &Path) {
    if let Err(error) = remove_file(&dir.join(REMOVED)) {
        tracing::warn!(%error, "the note of an earlier removal stays");
    }
}

/// Deletes the store (with its `-wal` and `-shm`, and every store set aside beside it) and
/// the media cache.
fn delete_local_copy(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::file(format!("listing {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::file(format!("listing {}", dir.display()), e))?;
        if entry.file_name().to_string_lossy().starts_with(STORE) {
            remove_file(&entry.path())?;
        }
    }
    match std::fs::remove_dir_all(dir.join(MEDIA)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file("removing the media cache", e)),
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(format!("removing {}", path.display()), e)),
    }
}
