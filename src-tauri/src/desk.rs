//! The desk behind the window: opened from the data directory at launch, synced in the
//! background, joined or left from the UI. Its change notices and connection state become
//! the window's events. A desk its clinic removed deletes its copy of patients' data and
//! tells the window (`desk-removed`).

use std::path::PathBuf;

use tauri::{AppHandle, Emitter as _};
use tokio::sync::{RwLock, watch};
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::profile::{self, Joined};
use tsunagi_desk::sync::SyncOptions;

use crate::ipc::{
    DeskChanged, DeskRemoved, EVENT_CHANGED, EVENT_REMOVED, EVENT_STATUS, ErrorCode, IpcError,
};

/// The keyring service the device token is kept under.
pub(crate) const SERVICE: &str = "app.tsunagi.desk";

/// The app's state: where the desk lives, and the desk once joined.
pub(crate) struct Shell {
    pub(crate) data: PathBuf,
    pub(crate) vault: Vault,
    running: RwLock<Option<Running>>,
    /// True once the launch has tried to open the desk (commands wait for it).
    opened: watch::Sender<bool>,
}

/// A joined desk with its sync running.
struct Running {
    joined: Joined,
    /// Set to true to stop the sync and its forwarding.
    stop: watch::Sender<bool>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

impl Shell {
    pub(crate) fn new(data: PathBuf) -> Self {
        let vault = Vault::new(SERVICE, &data).keyring_only();
        Self {
            data,
            vault,
            running: RwLock::new(None),
            opened: watch::Sender::new(false),
        }
    }

    /// Opens the desk in the background, so the window draws at once; commands that need
    /// the desk wait for this.
    pub(crate) fn open_at_launch(app: &AppHandle) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let shell = tauri::Manager::state::<Shell>(&app);
            let started = std::time::Instant::now();
            match shell.open(&app).await {
                Ok(()) => tracing::info!(took = ?started.elapsed(), "the desk is open"),
                Err(error) => tracing::error!(%error, "the desk could not be opened"),
            }
            shell.opened.send_replace(true);
        });
    }

    /// Opens the desk if this data directory has joined a relay, and starts its sync.
    pub(crate) async fn open(&self, app: &AppHandle) -> Result<(), IpcError> {
        let opened = profile::open(&self.data, &self.vault, SyncOptions::default()).await?;
        let Some(joined) = opened else {
            return Ok(());
        };
        self.start(app, joined).await;
        Ok(())
    }

    pub(crate) async fn start(&self, app: &AppHandle, joined: Joined) {
        let stop = watch::Sender::new(false);
        spawn_sync(app, &joined, &stop);
        *self.running.write().await = Some(Running { joined, stop });
    }

    /// The joined desk, or `not_joined`.
    pub(crate) async fn joined(&self) -> Result<Joined, IpcError> {
        let _ = self.opened.subscribe().wait_for(|opened| *opened).await;
        self.running
            .read()
            .await
            .as_ref()
            .map(|r| r.joined.clone())
            .ok_or_else(|| IpcError::new(ErrorCode::NotJoined, "this desk has not joined a relay"))
    }

    /// Stops the sync and forgets the relay.
    pub(crate) async fn leave(&self) -> Result<(), IpcError> {
        let running = self.running.write().await.take();
        if let Some(running) = running {
            let store = running.joined.sync.store().clone();
            drop(running);
            store.close().await;
        }
        profile::leave(&self.data, &self.vault)?;
        Ok(())
    }

    /// The relay said an owner removed this desk: its sync and forwarding stop, its copy of
    /// patients' data is deleted, it forgets the relay, and the window is told.
    async fn removed(&self, app: &AppHandle) {
        let Some(running) = self.running.write().await.take() else {
            return;
        };
        let joined = running.joined.clone();
        drop(running);
        if let Err(error) = profile::forget_removed(&self.data, &self.vault, joined).await {
            tracing::error!(%error, "this desk was removed, and its copy could not be deleted");
            return;
        }
        tracing::warn!(
            "this desk was removed from its clinic: its copy of patients' data is deleted"
        );
        let at = profile::removed(&self.data).map_or(0, |removed| removed.at);
        if let Err(error) = app.emit(EVENT_REMOVED, DeskRemoved { at }) {
            tracing::warn!(%error, "the window could not be told of the removal");
        }
    }
}

/// Runs the sync until `stop`, and forwards what it says to the window.
fn spawn_sync(app: &AppHandle, joined: &Joined, stop: &watch::Sender<bool>) {
    let sync = joined.sync.clone();
    let profile = joined.profile.clone();
    let mut notices = sync.subscribe();
    let mut status = sync.status();
    let events = app.clone();
    let until = stop.subscribe();
    let store = sync.store().clone();
    tauri::async_runtime::spawn(async move {
        let mut forwarding_until = std::pin::pin!(stopped(until));
        let alerts = tauri::Manager::state::<crate::alerts::Alerts>(&events);
        loop {
            // An unclaimed handoff's next repeat, or nothing for a good while.
            let repeat = alerts.next_repeat().unwrap_or_else(|| {
                std::time::Instant::now() + std::time::Duration::from_secs(3600)
            });
            tokio::select! {
                () = &mut forwarding_until => return,
                () = tokio::time::sleep_until(repeat.into()) => {
                    crate::alerts::repeat_due(&events, &store).await;
                }
                notice = notices.recv() => match notice {
                    Ok(changes) => {
                        let payload = DeskChanged {
                            conversations: changes.conversations.iter().map(ToString::to_string).collect(),
                            contacts: changes.contacts.iter().map(ToString::to_string).collect(),
                            settings: changes.settings,
                            followers: changes.followers,
                            reminders: changes.reminders,
                            live: changes.live,
                        };
                        let _ = events.emit(EVENT_CHANGED, payload);
                        if changes.live && !changes.happened.is_empty() {
                            crate::alerts::on_changes(&events, &store, &profile, &changes).await;
                        }
                    }
                    // Fell behind: tell the window everything may have changed.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = events.emit(EVENT_CHANGED, DeskChanged {
                            conversations: Vec::new(),
                            contacts: Vec::new(),
                            settings: true,
                            followers: true,
                            reminders: true,
                            live: false,
                        });
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                changed = status.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let current = status.borrow_and_update().clone();
                    let _ = events.emit(EVENT_STATUS, current);
                }
            }
        }
    });
    let until = stop.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let result = sync.run(stopped(until)).await;
        drop(sync);
        match result {
            Ok(()) => {}
            Err(error) if profile::is_removed(&error) => {
                tauri::Manager::state::<Shell>(&app).removed(&app).await;
            }
            Err(error) => tracing::warn!(%error, "the desk stopped syncing"),
        }
    });
}
