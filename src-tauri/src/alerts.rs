//! Alerts in the OS. The desk decides what concerns this operator and how much a notice
//! may say (`tsunagi_desk::alerts`); this module feeds it the live batches and the
//! operator's preferences, hands each notice to the window to word in the operator's
//! language and play its sound, and shows the words the window sends back as a native
//! notification.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tauri::{AppHandle, Emitter as _, Manager as _};
use tauri_plugin_store::StoreExt as _;
#[cfg(target_os = "linux")]
use tsunagi_desk::alerts::notification_body;
use tsunagi_desk::alerts::{
    Alert, AlertKind, KindSetting, Me, Moment, Notice, Preferences, Repeats,
};
use tsunagi_desk::{Changes, Store};
use tsunagi_proto::api::Role;

use crate::ipc::{AlertShowRequest, AlertsPaused, EVENT_ALERT, EVENT_ALERTS_PAUSED, IpcError};

/// The store plugin's file for this computer's alert settings (never the projection).
const FILE: &str = "alerts.json";
const KEY: &str = "preferences";

/// What the app keeps between alerts: the handoffs to repeat, and a pause (from the tray or
/// the window), on the wall clock the window shows it by.
#[derive(Default)]
pub(crate) struct Alerts {
    repeats: Mutex<Repeats>,
    paused_until: Mutex<Option<SystemTime>>,
}

impl Alerts {
    fn repeats(&self) -> std::sync::MutexGuard<'_, Repeats> {
        self.repeats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the next unclaimed handoff is alerted again.
    pub(crate) fn next_repeat(&self) -> Option<Instant> {
        self.repeats().next()
    }

    fn paused_until(&self) -> std::sync::MutexGuard<'_, Option<SystemTime>> {
        self.paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Pauses alerts until `until`, or resumes them.
    fn pause_until(&self, until: Option<SystemTime>) {
        *self.paused_until() = until;
    }

    fn paused(&self) -> bool {
        self.paused_until()
            .is_some_and(|until| SystemTime::now() < until)
    }

    /// Until when alerts are paused, as the window shows it (nothing once the time is past).
    pub(crate) fn pause_state(&self) -> AlertsPaused {
        let until = self
            .paused_until()
            .filter(|&until| SystemTime::now() < until);
        AlertsPaused {
            until: until.map(|until| tsunagi_proto::UnixMillis::from(until).0),
        }
    }
}

/// Pauses alerts for `minutes` (from the tray or the window), or resumes them (`None`),
/// and tells the window.
pub(crate) fn pause(app: &AppHandle, minutes: Option<u32>) -> AlertsPaused {
    let alerts = app.state::<Alerts>();
    alerts.pause_until(minutes.map(|m| SystemTime::now() + Duration::from_secs(u64::from(m) * 60)));
    let state = alerts.pause_state();
    if let Err(error) = app.emit(EVENT_ALERTS_PAUSED, &state) {
        tracing::warn!(%error, "the window could not be told of the pause");
    }
    state
}

/// The operator's preferences as kept on this computer; the defaults until they change any.
pub(crate) fn preferences(app: &AppHandle) -> Preferences {
    let Ok(store) = app.store(FILE) else {
        return Preferences::default();
    };
    store
        .get(KEY)
        .and_then(|value| match serde_json::from_value(value) {
            Ok(preferences) => Some(preferences),
            Err(error) => {
                tracing::warn!(%error, "the alert preferences cannot be read; the defaults apply");
                None
            }
        })
        .unwrap_or_default()
}

pub(crate) fn save_preferences(app: &AppHandle, preferences: &Preferences) -> Result<(), IpcError> {
    let store = app.store(FILE).map_err(IpcError::internal)?;
    let value = serde_json::to_value(preferences).map_err(IpcError::internal)?;
    store.set(KEY, value);
    store.save().map_err(IpcError::internal)
}

fn me(profile: &tsunagi_desk::profile::Profile) -> Me {
    Me {
        operator: profile.me(),
        owner: profile.role == Role::Owner,
    }
}

/// Alerts for a batch the desk just applied (nothing for one caught up on).
pub(crate) async fn on_changes(
    app: &AppHandle,
    store: &Store,
    profile: &tsunagi_desk::profile::Profile,
    changes: &Changes,
) {
    let alerts = match store.alerts(changes, &me(profile)).await {
        Ok(alerts) => alerts,
        Err(error) => {
            tracing::warn!(%error, "the alerts of a batch could not be decided");
            return;
        }
    };
    if alerts.is_empty() {
        return;
    }
    let preferences = preferences(app);
    app.state::<Alerts>()
        .repeats()
        .shown(&alerts, Instant::now(), preferences.repeat_every());
    for alert in &alerts {
        show(app, store, &preferences, alert).await;
    }
}

/// Alerts again the handoffs nobody has taken whose time has come.
pub(crate) async fn repeat_due(app: &AppHandle, store: &Store) {
    let preferences = preferences(app);
    let tracked = app.state::<Alerts>().repeats().tracked();
    let mut chats = std::collections::HashMap::new();
    for conversation in tracked {
        match store.alert_chat(&conversation).await {
            Ok(chat) => {
                chats.insert(conversation, chat);
            }
            Err(error) => tracing::warn!(%error, "a chat's state could not be read"),
        }
    }
    let again =
        app.state::<Alerts>()
            .repeats()
            .due(Instant::now(), preferences.repeat_every(), |c| {
                chats.get(c).cloned().flatten()
            });
    for alert in &again {
        show(app, store, &preferences, alert).await;
    }
}

/// How long an alert waits for the name of a patient the desk has not met yet (the relay
/// fetches their profile from LINE just after it logs their first message).
const NAME_WAIT: Duration = Duration::from_secs(2);

async fn show(app: &AppHandle, store: &Store, preferences: &Preferences, alert: &Alert) {
    let (app, store, preferences, alert) = (
        app.clone(),
        store.clone(),
        preferences.clone(),
        alert.clone(),
    );
    // On its own: waiting for a name holds up nothing else.
    tauri::async_runtime::spawn(async move {
        let (name, text) = words(&store, &preferences, &alert).await;
        let moment = moment(&app, &store).await;
        if let Some(notice) = preferences.present(&alert, &moment, name.as_deref(), text.as_deref())
        {
            emit(&app, &notice);
        }
    });
}

/// The patient's name and words, as far as the privacy setting shows them: nothing else
/// is read at all.
async fn words(
    store: &Store,
    preferences: &Preferences,
    alert: &Alert,
) -> (Option<String>, Option<String>) {
    use tsunagi_desk::alerts::Privacy;
    let asked = match preferences.privacy {
        Privacy::Nothing => return (None, None),
        Privacy::NameOnly => Alert {
            message: None,
            ..alert.clone()
        },
        Privacy::Full => alert.clone(),
    };
    let until = Instant::now() + NAME_WAIT;
    loop {
        match store.alert_words(&asked).await {
            Ok((None, _)) if asked.conversation.is_some() && Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(words) => return words,
            Err(error) => {
                tracing::warn!(%error, "an alert's words could not be read");
                return (None, None);
            }
        }
    }
}

/// A notice the operator asked for, to hear and see what their settings give: shown even
/// in quiet hours or with the window in front, and as private as a real one.
pub(crate) fn test_notice(app: &AppHandle) -> Notice {
    let mut preferences = Preferences {
        quiet: None,
        only_unfocused: false,
        ..preferences(app)
    };
    // As a handoff sounds, even with handoffs turned off.
    let handoff = preferences
        .kinds
        .entry(AlertKind::Handoff)
        .or_insert(KindSetting {
            on: true,
            sound: None,
        });
    handoff.on = true;
    let alert = Alert {
        kind: AlertKind::Handoff,
        conversation: None,
        message: None,
        count: 0,
    };
    let moment = Moment {
        at: jiff::Zoned::now().datetime(),
        focused: true,
        paused: false,
    };
    // (Nothing above can hold it back; silent and nameless if something ever did.)
    preferences
        .present(&alert, &moment, Some("Tsunagi"), None)
        .unwrap_or(Notice {
            kind: AlertKind::Handoff,
            conversation: None,
            name: None,
            text: None,
            count: 0,
            sound: None,
            volume: 0,
        })
}

pub(crate) fn emit(app: &AppHandle, notice: &Notice) {
    if let Err(error) = app.emit(EVENT_ALERT, notice) {
        tracing::warn!(%error, "an alert could not reach the window");
    }
}

/// Now on the clinic's wall clock (its business hours' time zone, else this computer's),
/// whether the window is in front, and whether alerts are paused.
async fn moment(app: &AppHandle, store: &Store) -> Moment {
    let zone = store.clinic_zone().await;
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    Moment {
        at: jiff::Timestamp::now().to_zoned(zone).datetime(),
        focused,
        paused: app.state::<Alerts>().paused(),
    }
}

/// Shows the words the window chose for a notice as a native notification; a click on it
/// brings the window forward on its chat.
pub(crate) fn notify(app: &AppHandle, request: AlertShowRequest) -> Result<(), IpcError> {
    #[cfg(target_os = "linux")]
    {
        notify_linux(app, request);
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        // (A click brings the app forward, as the OS does for its notifications.)
        use tauri_plugin_notification::NotificationExt as _;
        app.notification()
            .builder()
            .title(request.title)
            .body(request.body)
            .show()
            .map_err(IpcError::internal)
    }
}

/// On Linux, through the notification server on the session bus (as the plugin does), with
/// the default action, and a thread that waits for it until the notification closes. The
/// body reaches a server that reads markup escaped, so a patient's words stay words
/// ([`notification_body`]).
#[cfg(target_os = "linux")]
fn notify_linux(app: &AppHandle, request: AlertShowRequest) {
    let app = app.clone();
    std::thread::spawn(move || {
        // A server that does not answer is taken to read markup: escaped words that show
        // an `&amp;` are better than a link a patient made.
        let reads_markup = notify_rust::get_capabilities().map_or(true, |capabilities| {
            capabilities.iter().any(|c| c == "body-markup")
        });
        let mut notification = notify_rust::Notification::new();
        notification
            .appname("Tsunagi")
            .summary(&request.title)
            .body(&notification_body(&request.body, reads_markup))
            .auto_icon();
        if request.conversation.is_some() {
            notification.action("default", &request.title);
        }
        let handle = match notification.show() {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!(%error, "the notification could not be shown");
                return;
            }
        };
        let Some(conversation) = request.conversation else {
            return;
        };
        handle.wait_for_action(|action| {
            if action == "default" {
                crate::links::open_chat(&app, conversation);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_paused_from_the_tray_stay_paused_until_the_time_or_a_resume() {
        let alerts = Alerts::default();
        assert!(!alerts.paused());
        alerts.pause_until(Some(SystemTime::now() + Duration::from_secs(30 * 60)));
        assert!(alerts.paused());
        assert!(alerts.pause_state().until.is_some());
        alerts.pause_until(None);
        assert_eq!(alerts.pause_state().until, None);
        assert!(!alerts.paused());
        // A pause whose time has passed is over.
        alerts.pause_until(Some(SystemTime::now() - Duration::from_millis(1)));
        assert!(!alerts.paused());
        assert_eq!(alerts.pause_state().until, None);
    }
}
