//! The desktop's notification server (`org.freedesktop.Notifications`), played by a test
//! on the session bus the app uses: it keeps every notification the app shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use zbus::zvariant::OwnedValue;

/// One `Notify` call, as the app made it.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) app_name: String,
    pub(crate) summary: String,
    pub(crate) body: String,
    /// Everything else the call carried (icon, actions, hints), as text, to search.
    pub(crate) rest: String,
}

#[derive(Clone, Default)]
struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.push(Shown {
            app_name,
            summary,
            body,
            rest: format!("{app_icon} {actions:?} {hints:?}"),
        });
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into(), "sound".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "tsunagi-e2e".into(),
            "tsunagi".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}

    /// What the server says when the person clicks a notification (or one of its actions).
    #[zbus(signal)]
    async fn action_invoked(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

/// The notification server, for as long as this lives.
pub(crate) struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    _bus: zbus::Connection,
}

impl Notifications {
    /// Takes the server's name on the session bus (`DBUS_SESSION_BUS_ADDRESS`).
    pub(crate) async fn serve() -> Result<Notifications> {
        let server = Server::default();
        let shown = server.shown.clone();
        let bus = zbus::connection::Builder::session()?
            .name("org.freedesktop.Notifications")?
            .serve_at("/org/freedesktop/Notifications", server)?
            .build()
            .await
            .context("serving org.freedesktop.Notifications on the session bus")?;
        Ok(Notifications { shown, _bus: bus })
    }

    /// The person clicks the `n`th notification shown (from 1).
    pub(crate) async fn click(&self, n: u32) -> Result<()> {
        let server = self
            ._bus
            .object_server()
            .interface::<_, Server>("/org/freedesktop/Notifications")
            .await?;
        Server::action_invoked(server.signal_emitter(), n, "default").await?;
        Ok(())
    }

    /// Every notification shown so far.
    pub(crate) fn shown(&self) -> Vec<Shown> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Watches for `within` that no notification comes beyond the `count` shown; all of them.
    pub(crate) async fn no_more_than(&self, count: usize, within: Duration) -> Result<Vec<Shown>> {
        tokio::time::sleep(within).await;
        let shown = self.shown();
        if shown.len() != count {
            bail!(
                "{} notifications shown, not {count}: {shown:?}",
                shown.len()
            );
        }
        Ok(shown)
    }

    /// Waits (up to `within`) until `count` notifications have been shown; all of them.
    pub(crate) async fn until(&self, count: usize, within: Duration) -> Result<Vec<Shown>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let shown = self.shown();
            if shown.len() >= count {
                return Ok(shown);
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{} notifications shown, not {count}: {shown:?}",
                    shown.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
