//! Launching the real app window under tauri-driver.
//!
//! Needs a display and a D-Bus session: run inside
//! `xvfb-run -a dbus-run-session -- …` (which `cargo xtask test` does). Tests using this
//! skip themselves unless `E2E=1`, so a plain `cargo test` passes on a machine without them.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tsunagi_relay::testing::free_port;

/// How long a test waits for the window to show something.
pub const WAIT: Duration = Duration::from_secs(30);

/// Whether end-to-end tests should run here.
pub fn enabled() -> bool {
    std::env::var_os("E2E").is_some_and(|v| v == "1")
}

/// The workspace's target directory, where the app binary and test artifacts go.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// The app binary: `TSUNAGI_APP`, else the debug build in the target directory. It must be
/// built with `--features custom-protocol` so it serves the built UI itself.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("TSUNAGI_APP") {
        Some(path) => PathBuf::from(path),
        None => target_dir().join("debug").join("tsunagi"),
    };
    ensure!(
        path.is_file(),
        "no app binary at {}: run `cargo xtask test`, or build with \
         `cargo build --features custom-protocol` first",
        path.display()
    );
    Ok(std::fs::canonicalize(&path)?)
}

/// Where screenshots and other artifacts of this run go.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(std::fs::canonicalize(dir)?)
}

/// A child process stopped with SIGTERM when dropped. SIGKILL would leave WebKitWebDriver
/// holding its port and hang the next run.
#[derive(Debug)]
struct Terminated(Child);

impl Drop for Terminated {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, kill};
            use nix::unistd::Pid;
            if let Ok(pid) = i32::try_from(self.0.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        #[cfg(not(unix))]
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The running app with a WebDriver session on its window. Drop order matters: the session
/// closes (with [`App::close`]) before the driver, the driver before the keyring, and the
/// home directories go last.
pub struct App {
    pub client: Client,
    _driver: Terminated,
    _keyring: Option<std::sync::Arc<TestKeyring>>,
    _home: tempfile::TempDir,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// Starts the app with fresh XDG directories and (when `with_keyring`) an unlocked
    /// gnome-keyring on the session bus, shared by the apps of one test.
    pub async fn launch(with_keyring: bool) -> Result<App> {
        Self::launch_with(with_keyring, None).await
    }

    /// As [`App::launch`], with the desk's data in `data` (`TSUNAGI_DATA_DIR`) instead of
    /// the fresh data directory.
    pub async fn launch_with(with_keyring: bool, data: Option<&Path>) -> Result<App> {
        Self::start(with_keyring, data, app_binary()?, &[]).await
    }

    /// As [`App::launch`], running `binary` (an installed copy), with `env` besides.
    pub async fn launch_installed(binary: &Path, env: &[(&str, String)]) -> Result<App> {
        Self::start(true, None, binary.to_owned(), env).await
    }

    async fn start(
        with_keyring: bool,
        data: Option<&Path>,
        binary: PathBuf,
        extra_env: &[(&str, String)],
    ) -> Result<App> {
        let home = tempfile::Builder::new().prefix("tsunagi-e2e-").tempdir()?;
        let xdg = |name: &str| -> Result<PathBuf> {
            let dir = home.path().join(name);
            std::fs::create_dir_all(&dir)?;
            Ok(dir)
        };
        let env = [
            // (Some of what the app asks of the OS ignores XDG: its autostart entry.)
            ("HOME", home.path().to_owned()),
            ("XDG_DATA_HOME", xdg("data")?),
            ("XDG_CONFIG_HOME", xdg("config")?),
            ("XDG_CACHE_HOME", xdg("cache")?),
            ("XDG_RUNTIME_DIR", xdg("runtime")?),
        ];

        let keyring = if with_keyring {
            Some(shared_keyring()?)
        } else {
            None
        };

        let port = free_port();
        let native_port = free_port();
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .envs(env.iter().map(|(k, v)| (k, v)))
            // The home goes with the test, perhaps before WebKit has quite finished.
            .env("MESA_SHADER_CACHE_DISABLE", "true")
            .envs(data.map(|dir| ("TSUNAGI_DATA_DIR", dir.to_owned())))
            .envs(extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .spawn()
            .context("starting tauri-driver (cargo install tauri-driver --version '^2')")?;
        let driver = Terminated(driver);
        wait_for_port(port, Duration::from_secs(30)).await?;
        wait_for_port(native_port, Duration::from_secs(30)).await?;

        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": binary }),
        );
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(App {
            client,
            _driver: driver,
            _keyring: keyring,
            _home: home,
        })
    }

    /// Every file the app wrote under its home (its data, settings and caches), with
    /// its bytes: to look for what must never be kept on this computer.
    pub fn files_written(&self) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut files = Vec::new();
        let mut dirs = vec![self._home.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.is_file() {
                    // A socket or a file removed meanwhile is not the app's record.
                    if let Ok(bytes) = std::fs::read(&path) {
                        files.push((path, bytes));
                    }
                }
            }
        }
        Ok(files)
    }

    /// Where the desktop looks for what starts at login (the app's home's own).
    pub fn autostart_dir(&self) -> PathBuf {
        self._home.path().join(".config").join("autostart")
    }

    /// Starts the app a second time as the same user (the same XDG directories), as a
    /// person double-clicking it again would; how that launch ended, within `within`.
    pub async fn launch_again(&self, within: Duration) -> Result<std::process::ExitStatus> {
        self.launch_again_with(&[], within).await
    }

    /// As [`App::launch_again`], with `args`: a `tsunagi://` link, as the system passes
    /// one it was asked to open.
    pub async fn launch_again_with(
        &self,
        args: &[&str],
        within: Duration,
    ) -> Result<std::process::ExitStatus> {
        let home = self._home.path();
        let mut second = tokio::process::Command::new(app_binary()?);
        second.args(args);
        let mut second = second
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_RUNTIME_DIR", home.join("runtime"))
            .env("MESA_SHADER_CACHE_DISABLE", "true")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting the app again")?;
        tokio::time::timeout(within, second.wait())
            .await
            .context("the second launch is still running")?
            .context("waiting for the second launch")
    }

    /// Saves a PNG of the window under the artifacts directory and returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        // WebKit snapshots the last painted frame: let two frames paint what the DOM holds.
        // Painting without OpenGL (no GPU), it snapshots only after a paint still to come,
        // and waits for ever on a page with nothing left to paint: an invisible dot changes
        // each frame for a few seconds, so one always comes.
        self.client
            .execute_async(
                "const done = arguments[0]; \
                 const dot = document.createElement('div'); \
                 dot.setAttribute('aria-hidden', 'true'); \
                 dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0.01'; \
                 document.body.append(dot); \
                 const until = performance.now() + 3000; \
                 const beat = () => { \
                   dot.style.opacity = dot.style.opacity === '0.01' ? '0.02' : '0.01'; \
                   if (performance.now() < until) requestAnimationFrame(beat); else dot.remove(); \
                 }; \
                 requestAnimationFrame(() => requestAnimationFrame(() => { beat(); done(); }));",
                vec![],
            )
            .await
            .context("waiting for the window to paint")?;
        let png = self.client.screenshot().await?;
        ensure!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = artifacts_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Waits for the element `by` names, as a user would see it.
    pub async fn find(&self, by: By<'_>) -> Result<Element> {
        let xpath = by.xpath();
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("the window never showed {by:?}"))
    }

    /// Every element `by` names, now (none is an answer). The window redraws as the log
    /// moves on, and an element found may be replaced while WebDriver reads it: then it
    /// looks again, as a person would.
    pub async fn all(&self, by: By<'_>) -> Result<Vec<Element>> {
        let xpath = by.xpath();
        let mut tries = 0;
        loop {
            match self.client.find_all(Locator::XPath(&xpath)).await {
                Ok(found) => return Ok(found),
                Err(error) if tries < 5 && is_stale(&error) => tries += 1,
                Err(error) => return Err(error).with_context(|| format!("looking for {by:?}")),
            }
        }
    }

    /// Waits until the window no longer shows the element `by` names.
    pub async fn gone(&self, by: By<'_>) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        while !self.all(by).await?.is_empty() {
            if Instant::now() > deadline {
                bail!("the window still shows {by:?} after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Clicks the element `by` names. The window redraws as the log moves on, so an element
    /// found may be replaced before the click lands: then it is found again, as a person
    /// would look again.
    /// Brings the first element the CSS `selector` names into view, as a person scrolls
    /// to what is below the fold of a panel or a dialog.
    pub async fn scroll_to_element(&self, selector: &str) -> Result<()> {
        self.client
            .execute(
                "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' })",
                vec![serde_json::json!(selector)],
            )
            .await?;
        Ok(())
    }

    /// Brings the button reading `text` into view, as a person scrolls to it.
    pub async fn scroll_to_button(&self, text: &str) -> Result<()> {
        self.client
            .execute(
                "[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === arguments[0])?.scrollIntoView({ block: 'center' })",
                vec![serde_json::json!(text)],
            )
            .await?;
        Ok(())
    }

    /// Clicks the control `by` names, once it is enabled: a click on a disabled button
    /// does nothing, as it would for a person, so a test that clicks before the window has
    /// caught up (a form still being checked) would wait for nothing.
    pub async fn click(&self, by: By<'_>) -> Result<()> {
        let mut tries = 0;
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.find(by).await?;
            if !element.is_enabled().await.unwrap_or(true) {
                ensure!(
                    Instant::now() < deadline,
                    "{by:?} stayed disabled for {WAIT:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match element.click().await {
                Ok(()) => return Ok(()),
                Err(error) if tries < 5 && is_stale(&error) => tries += 1,
                Err(error) => return Err(error).with_context(|| format!("clicking {by:?}")),
            }
        }
    }

    /// Chooses `language` (as the picker names it: "日本語", "ไทย", "繁體中文",
    /// "English") in the window's language picker, and waits until the window speaks it:
    /// the picker, labelled in the language shown, is labelled in the new one.
    pub async fn speak(&self, language: &str) -> Result<()> {
        const PICKER: [(&str, &str); 4] = [
            ("English", "Language"),
            ("日本語", "言語"),
            ("ไทย", "ภาษา"),
            ("繁體中文", "語言"),
        ];
        let labelled = |label: &str| format!("//select[@aria-label={}]", literal(label));
        let now = PICKER
            .iter()
            .find(|(name, _)| *name == language)
            .map(|(_, label)| labelled(label))
            .with_context(|| format!("no language picker label for {language}"))?;
        let any = PICKER
            .iter()
            .map(|(_, label)| labelled(label))
            .collect::<Vec<_>>()
            .join(" | ");
        self.find(By::XPath(&any))
            .await?
            .select_by_label(language)
            .await
            .with_context(|| format!("choosing {language}"))?;
        self.find(By::XPath(&now))
            .await
            .with_context(|| format!("the window never spoke {language}"))?;
        Ok(())
    }

    /// Opens the menu button `menu` and chooses `item` in it.
    pub async fn choose(&self, menu: &str, item: &str) -> Result<()> {
        self.click(By::Button(menu)).await?;
        self.click(By::MenuItem(item)).await
    }

    /// Types `text` into the text box labelled `label` (after clearing it).
    pub async fn type_into(&self, label: &str, text: &str) -> Result<Element> {
        let field = self.find(By::Textbox(label)).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(field)
    }

    /// Waits until `check` holds for the text of the element `by` names; that text.
    pub async fn until_text(
        &self,
        by: By<'_>,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::XPath(&by.xpath())).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if check(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("waited {WAIT:?} for {what} in {by:?}; it says {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the image `selector` (CSS) names has loaded and decoded; `what` says
    /// which image, for the failure.
    pub async fn until_image_loaded(&self, selector: &str, what: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let width = self
                .client
                .execute(
                    "const img = document.querySelector(arguments[0]); \
                     return img && img.complete ? img.naturalWidth : 0;",
                    vec![selector.into()],
                )
                .await?;
            if width.as_u64().unwrap_or(0) > 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{what}: {selector} never loaded within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the player `selector` (CSS: an `<audio>` or `<video>`) plays: it read
    /// its file and its time moves on. Its duration in seconds and, for a video, its width
    /// in pixels (known only once a decoder took the frames). Fails with the player's error
    /// if it could not open the file.
    pub async fn until_playing(&self, selector: &str) -> Result<(f64, u64)> {
        let answer = self
            .client
            .execute_async(
                "const [selector, done] = arguments; \
                 const started = performance.now(); \
                 const settle = () => { \
                   const player = document.querySelector(selector); \
                   if (player && player.error) \
                     return done({ error: `media error ${player.error.code}: ${player.error.message}` }); \
                   if (player && player.readyState >= 1 && player.currentTime > 0.25) \
                     return done({ duration: player.duration, width: player.videoWidth ?? 0 }); \
                   if (performance.now() - started > 20000) \
                     return done({ error: player ? `stuck at ${player.currentTime} s, ready state ${player.readyState}` : `no player; the history shows: ${document.querySelector('[role=log]')?.innerText}` }); \
                   setTimeout(settle, 100); \
                 }; \
                 settle();",
                vec![selector.into()],
            )
            .await
            .with_context(|| format!("waiting for {selector} to play"))?;
        if let Some(error) = answer.get("error") {
            bail!("{selector}: {error}");
        }
        Ok((
            answer["duration"].as_f64().unwrap_or(f64::NAN),
            answer["width"].as_u64().unwrap_or(0),
        ))
    }

    /// Ends the WebDriver session, which closes the app.
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}

/// Whether a Secret Service answers on the session bus.
fn keyring_running() -> Result<bool> {
    ensure!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "no D-Bus session: run under dbus-run-session"
    );
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .context("asking D-Bus for the keyring")?;
    Ok(String::from_utf8_lossy(&out.stdout).contains("boolean true"))
}

/// The keyring of this test's apps, with its own files; stopped when the last app holding
/// it is dropped.
#[derive(Debug)]
pub struct TestKeyring {
    _daemon: Terminated,
    _files: tempfile::TempDir,
}

/// The keyring this test's apps share: the running one, or a fresh one once the last
/// test's has left the bus.
pub fn shared_keyring() -> Result<std::sync::Arc<TestKeyring>> {
    use std::sync::{Arc, Mutex, Weak};
    static SHARED: Mutex<Weak<TestKeyring>> = Mutex::new(Weak::new());
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(keyring) = shared.upgrade() {
        return Ok(keyring);
    }
    // A keyring another test stopped may still hold its name for a moment; one the bus
    // started on its own (a test that asked for a Secret Service activates gnome-keyring,
    // locked, with no password to give it) is stopped: this session's tests own the bus.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut asked_to_stop = false;
    while keyring_running()? {
        ensure!(
            Instant::now() < deadline,
            "another keyring holds the session bus and would not stop"
        );
        if !asked_to_stop && Instant::now() + Duration::from_secs(9) > deadline {
            stop_foreign_keyring()?;
            asked_to_stop = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let files = tempfile::Builder::new()
        .prefix("tsunagi-keyring-")
        .tempdir()?;
    let daemon = start_keyring(&[("XDG_DATA_HOME", files.path().to_owned())])?;
    let keyring = Arc::new(TestKeyring {
        _daemon: daemon,
        _files: files,
    });
    *shared = Arc::downgrade(&keyring);
    Ok(keyring)
}

/// Stops whatever process owns the Secret Service name on the session bus.
fn stop_foreign_keyring() -> Result<()> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .context("asking D-Bus who holds the keyring")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(pid) = text
        .split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, kill};
        let _ = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM);
    }
    Ok(())
}

/// A gnome-keyring this process started; stopped when dropped.
#[derive(Debug)]
pub struct Keyring(#[allow(dead_code)] Terminated);

/// Starts an unlocked gnome-keyring on the session bus, keeping its files under `home`,
/// unless a Secret Service already answers there (then `None`).
pub fn ensure_keyring(home: &Path) -> Result<Option<Keyring>> {
    if keyring_running()? {
        return Ok(None);
    }
    let data = home.join("keyring-data");
    std::fs::create_dir_all(&data)?;
    Ok(Some(Keyring(start_keyring(&[("XDG_DATA_HOME", data)])?)))
}

fn start_keyring(env: &[(&str, PathBuf)]) -> Result<Terminated> {
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("starting gnome-keyring-daemon")?;
    {
        use std::io::Write as _;
        let mut stdin = daemon.stdin.take().context("keyring stdin")?;
        stdin.write_all(b"e2e-keyring-password")?;
    }
    let daemon = Terminated(daemon);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if keyring_running()? {
            return Ok(daemon);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("gnome-keyring-daemon did not appear on the session bus within 20 s")
}

async fn wait_for_port(port: u16, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("nothing listened on port {port} within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether WebDriver lost the element (the page replaced it).
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    // (WebKitWebDriver says "Stale element found when trying to create the node handle".)
    let text = error.to_string().to_lowercase();
    text.contains("stale") || text.contains("was not found")
}

/// An element as a person finds it: by its role and what it says (its text or
/// `aria-label`), never by a CSS class.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A button whose text or label is exactly this.
    Button(&'a str),
    /// An item of an open menu whose text is exactly this.
    MenuItem(&'a str),
    /// A tab whose text starts with this.
    Tab(&'a str),
    /// A text box (input or textarea) labelled this, by `aria-label` or a `<label>`.
    Textbox(&'a str),
    /// A file chooser labelled this.
    File(&'a str),
    /// A check box or radio button whose `<label>` reads exactly this.
    Choice(&'a str),
    /// A list option (an inbox row, a search hit) whose text contains this.
    Option(&'a str),
    /// An alert (an error message).
    Alert,
    /// The live status region (the connection bar).
    Status,
    /// A region (`section`, `aside`, `nav`, …) labelled this.
    Region(&'a str),
    /// Any element whose own text contains this.
    Text(&'a str),
    /// What this XPath finds, where the names above cannot tell it apart (the play button of
    /// one message among several).
    XPath(&'a str),
}

impl By<'_> {
    fn xpath(&self) -> String {
        match self {
            By::Button(name) => {
                let name = literal(name);
                format!(
                    "//*[(self::button or @role='button') and (normalize-space(.)={name} or @aria-label={name})]"
                )
            }
            By::MenuItem(name) => format!(
                "//*[@role='menuitem'][normalize-space(.)={}]",
                literal(name)
            ),
            By::Tab(name) => format!(
                "//*[@role='tab'][starts-with(normalize-space(.), {})]",
                literal(name)
            ),
            By::Textbox(label) => {
                let label = literal(label);
                format!(
                    "//*[(self::input or self::textarea) and (@aria-label={label} or @id=//label[normalize-space(.)={label}]/@for)]"
                )
            }
            By::Option(text) => format!("//*[@role='option'][contains(., {})]", literal(text)),
            By::File(label) => format!("//input[@type='file' and @aria-label={}]", literal(label)),
            By::Choice(label) => format!(
                "//label[normalize-space(.)={}]//input[@type='checkbox' or @type='radio']",
                literal(label)
            ),
            By::Alert => "//*[@role='alert']".into(),
            By::Status => "//*[@role='status']".into(),
            By::Region(name) => format!("//*[@aria-label={}]", literal(name)),
            By::Text(text) => format!("//*[contains(text(), {})]", literal(text)),
            By::XPath(xpath) => (*xpath).to_owned(),
        }
    }
}

/// `text` as an XPath string literal (XPath 1 has no escapes: quotes are split out).
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

/// xdotool with `args`, on this display.
fn xdotool(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("xdotool");
    command.args(args).kill_on_drop(true);
    command
}

/// Whether a dialog titled `title` is open on this display.
pub async fn dialog_open(title: &str) -> bool {
    dialog(title).await.ok().flatten().is_some()
}

/// The X window of the dialog titled `title`, if one is open.
async fn dialog(title: &str) -> Result<Option<String>> {
    let found = xdotool(&["search", "--onlyvisible", "--name", title])
        .output()
        .await
        .context("running xdotool (apt-get install xdotool)")?;
    Ok(String::from_utf8_lossy(&found.stdout)
        .lines()
        .next()
        .map(str::to_owned))
}

/// Answers the system's save dialog titled `title` (GTK's, on this display) with `path`,
/// typed into its name box as a person would, then Enter.
pub async fn answer_save_dialog(title: &str, path: &Path) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    let window = loop {
        if let Some(id) = dialog(title).await? {
            break id;
        }
        ensure!(
            Instant::now() < deadline,
            "no dialog titled {title:?} opened"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let path = path.to_str().context("a path xdotool can type")?;
    for args in [
        vec!["windowfocus", "--sync", window.as_str()],
        vec!["key", "--clearmodifiers", "ctrl+a"],
        vec!["type", "--delay", "20", path],
    ] {
        let status = xdotool(&args).status().await?;
        ensure!(status.success(), "xdotool {args:?} failed");
    }
    // The name box may offer to complete the path: let it settle, then save.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = xdotool(&["key", "Return"]).status().await?;
    ensure!(status.success(), "xdotool could not press Enter");
    Ok(())
}
