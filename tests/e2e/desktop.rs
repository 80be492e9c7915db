//! The desktop around the app, played by a test on the session bus: a tray that hosts
//! status icons (`org.kde.StatusNotifierWatcher`, which Linux tray icons register with and
//! whose menus they export over `com.canonical.dbusmenu`), and a dock that shows launcher
//! badges (`com.canonical.Unity`, whose `LauncherEntry.Update` signals carry the count);
//! and, on the display, another program's window that can take the keyboard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures_util::StreamExt as _;
use zbus::proxy::CacheProperties;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// A status icon registered with the tray: its bus name and object path.
#[derive(Debug, Clone)]
struct Registered {
    sender: String,
    path: String,
}

#[derive(Clone, Default)]
struct Watcher {
    items: Arc<Mutex<Vec<Registered>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(ToString::to_string).unwrap_or_default();
        // An item names itself by object path (on its own connection) or by bus name.
        let (sender, path) = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        lock(&self.items).push(Registered { sender, path });
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        lock(&self.items)
            .iter()
            .map(|item| format!("{}{}", item.sender, item.path))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// The dock's owner name, which launcher entries look for before they send badges.
#[derive(Clone, Default)]
struct Unity;

#[zbus::interface(name = "com.canonical.Unity")]
impl Unity {}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tray and the dock, for as long as this lives.
pub(crate) struct Desktop {
    bus: zbus::Connection,
    items: Arc<Mutex<Vec<Registered>>>,
    badge: Arc<Mutex<Option<i64>>>,
    _badges: tokio::task::JoinHandle<()>,
}

impl Desktop {
    /// Takes the tray's and the dock's names on the session bus.
    pub(crate) async fn serve() -> Result<Desktop> {
        let watcher = Watcher::default();
        let items = watcher.items.clone();
        let bus = zbus::connection::Builder::session()?
            .name("org.kde.StatusNotifierWatcher")?
            .name("com.canonical.Unity")?
            .serve_at("/StatusNotifierWatcher", watcher)?
            .serve_at("/com/canonical/Unity", Unity)?
            .build()
            .await
            .context("serving the tray and the dock on the session bus")?;
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface("com.canonical.Unity.LauncherEntry")?
            .member("Update")?
            .build();
        let mut updates = zbus::MessageStream::for_match_rule(rule, &bus, None).await?;
        let badge = Arc::new(Mutex::new(None));
        let shown = badge.clone();
        let badges = tokio::spawn(async move {
            while let Some(Ok(update)) = updates.next().await {
                let Ok((_app, properties)) = update
                    .body()
                    .deserialize::<(String, HashMap<String, OwnedValue>)>()
                else {
                    continue;
                };
                let mut badge = lock(&shown);
                if let Some(Ok(count)) = properties.get("count").map(i64::try_from) {
                    *badge = Some(count);
                }
                if let Some(Ok(false)) = properties.get("count-visible").map(bool::try_from) {
                    *badge = None;
                }
            }
        });
        Ok(Desktop {
            bus,
            items,
            badge,
            _badges: badges,
        })
    }

    /// The app's icon in the tray, once it has registered (within `within`).
    pub(crate) async fn tray_icon(&self, within: Duration) -> Result<TrayIcon> {
        let deadline = Instant::now() + within;
        let registered = loop {
            if let Some(item) = lock(&self.items).last().cloned() {
                break item;
            }
            if Instant::now() > deadline {
                bail!("no icon registered with the tray within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let proxy = |path: String, interface: &'static str| {
            zbus::proxy::Builder::<zbus::Proxy<'static>>::new(&self.bus)
                .destination(registered.sender.clone())
                .and_then(|b| b.path(path))
                .and_then(|b| b.interface(interface))
                .map(|b| b.cache_properties(CacheProperties::No))
        };
        let item = proxy(registered.path.clone(), "org.kde.StatusNotifierItem")?
            .build()
            .await?;
        let menu: OwnedObjectPath = item.get_property("Menu").await?;
        let menu = proxy(menu.to_string(), "com.canonical.dbusmenu")?
            .build()
            .await?;
        Ok(TrayIcon { item, menu })
    }

    /// Waits up to `within` for the dock's badge to read `count` (`None`: no badge).
    pub(crate) async fn until_badge(&self, count: Option<i64>, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let shown = *lock(&self.badge);
            if shown == count {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the dock's badge reads {shown:?}, not {count:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self._badges.abort();
    }
}

/// The app's status icon, as the tray sees it.
pub(crate) struct TrayIcon {
    item: zbus::Proxy<'static>,
    menu: zbus::Proxy<'static>,
}

impl TrayIcon {
    /// The label the icon shows beside itself (empty for none).
    pub(crate) async fn label(&self) -> Result<String> {
        Ok(self.item.get_property("XAyatanaLabel").await?)
    }

    /// Waits up to `within` for the label beside the icon to read `label`.
    pub(crate) async fn until_label(&self, label: &str, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let shown = self.label().await?;
            if shown == label {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the tray icon's label reads {shown:?}, not {label:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The menu's items, by id and label, in order (separators left out).
    pub(crate) async fn menu(&self) -> Result<Vec<(i32, String)>> {
        type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (_root, _properties, children)): (u32, Layout) = self
            .menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .context("reading the tray icon's menu")?;
        let mut items = Vec::new();
        for child in &children {
            gather(child, &mut items);
        }
        Ok(items)
    }

    /// Waits up to `within` for the menu's labels to be `labels`.
    pub(crate) async fn until_menu(&self, labels: &[&str], within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let menu = self.menu().await?;
            if menu
                .iter()
                .map(|(_, label)| label.as_str())
                .eq(labels.iter().copied())
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the tray's menu is {menu:?}, not {labels:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The person chooses the menu item labelled `label`.
    pub(crate) async fn choose(&self, label: &str) -> Result<()> {
        let menu = self.menu().await?;
        let Some((id, _)) = menu.iter().find(|(_, l)| l == label) else {
            bail!("no {label:?} in the tray's menu: {menu:?}");
        };
        let _: () = self
            .menu
            .call("Event", &(*id, "clicked", Value::from(0i32), 0u32))
            .await
            .with_context(|| format!("choosing {label:?} in the tray's menu"))?;
        Ok(())
    }
}

/// The labelled items under one `(ia{sv}av)` node of a dbusmenu layout, depth first.
fn gather(node: &Value<'_>, items: &mut Vec<(i32, String)>) {
    let Value::Structure(node) = unwrapped(node) else {
        return;
    };
    let [
        Value::I32(id),
        Value::Dict(properties),
        Value::Array(children),
    ] = node.fields()
    else {
        return;
    };
    let text = |name: &str| {
        properties
            .iter()
            .find_map(|(key, value)| match (key, unwrapped(value)) {
                (Value::Str(key), Value::Str(value)) if key.as_str() == name => {
                    Some(value.to_string())
                }
                _ => None,
            })
    };
    let separator = text("type").is_some_and(|t| t == "separator");
    if let (Some(label), false) = (text("label"), separator) {
        items.push((*id, label));
    }
    for child in children.inner() {
        gather(child, items);
    }
}

/// A value with any variant wrappers taken off.
fn unwrapped<'a>(value: &'a Value<'a>) -> &'a Value<'a> {
    match value {
        Value::Value(inner) => unwrapped(inner),
        other => other,
    }
}

/// Another program's window on the display, holding the keyboard, for as long as this lives.
pub(crate) struct Elsewhere {
    _display: x11rb::rust_connection::RustConnection,
}

/// Opens a window of the test's own on the display and gives it the keyboard, as when the
/// operator switches to another program.
pub(crate) fn focus_elsewhere() -> Result<Elsewhere> {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, InputFocus, WindowClass};

    let (display, screen) = x11rb::connect(None).context("connecting to the display")?;
    let root = display.setup().roots[screen].root;
    let window = display.generate_id()?;
    display.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        0,
        0,
        200,
        100,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new(),
    )?;
    display.map_window(window)?;
    display.set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)?;
    // A round trip: the server has done all of it.
    let focus = display.get_input_focus()?.reply()?;
    anyhow::ensure!(
        focus.focus == window,
        "the test's window did not get the keyboard"
    );
    Ok(Elsewhere { _display: display })
}
