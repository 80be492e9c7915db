//! Releases: the app's installers (`bundle`), the update manifest that points the apps at
//! them (`manifest`), and the relay's static Linux binaries (`relay-release`). The release
//! workflow runs these same commands on each OS.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::{Map, Value, json};

use crate::run::{Step, cargo, target_dir};

/// The installers each OS makes by default.
fn default_bundles() -> &'static [&'static str] {
    if cfg!(target_os = "windows") {
        &["msi", "nsis"]
    } else if cfg!(target_os = "macos") {
        &["app", "dmg"]
    } else {
        &["deb", "rpm"]
    }
}

/// What each installer kind needs that the Tauri CLI downloads itself the first time.
fn downloads(kind: &str) -> Option<&'static str> {
    match kind {
        "appimage" => Some("linuxdeploy and its GTK plugin (from GitHub)"),
        "msi" => Some("the WiX Toolset 3 (from GitHub)"),
        "nsis" => Some("NSIS and its plugins (from GitHub)"),
        _ => None,
    }
}

/// `cargo xtask bundle [--debug] [--bundles a,b]`: the app's installers, in
/// `<target>/<release|debug>/bundle/<kind>/`. Returns their paths.
///
/// Signing comes from the environment, as the release workflow sets it:
/// - `TSUNAGI_UPDATER_PUBKEY`: the update signing key's public half, built into the app
///   (without it the app never looks for updates);
/// - `TAURI_SIGNING_PRIVATE_KEY` (and `_PASSWORD`): signs the update artefacts, which are
///   then made too;
/// - `TSUNAGI_WINDOWS_CERT_THUMBPRINT`: the code signing certificate, already imported into
///   the Windows certificate store;
/// - `APPLE_CERTIFICATE`, `APPLE_SIGNING_IDENTITY`, `APPLE_ID`, …: read by the Tauri CLI,
///   which signs and notarizes the macOS app.
/// - `TSUNAGI_UPDATE_URL`: the update address built into the app.
pub(crate) fn bundle(root: &Path, args: &[String]) -> Result<Vec<PathBuf>> {
    let mut debug = false;
    let mut kinds: Vec<String> = default_bundles().iter().map(|k| (*k).to_owned()).collect();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--debug" => debug = true,
            "--bundles" => {
                let list = rest
                    .next()
                    .context("--bundles takes a list, like deb,rpm")?;
                kinds = list.split(',').map(|k| k.trim().to_owned()).collect();
            }
            other => bail!("unexpected argument `{other}` to bundle"),
        }
    }
    for kind in &kinds {
        if let Some(tool) = downloads(kind) {
            eprintln!(
                "xtask: the {kind} installer needs {tool}, which the Tauri CLI downloads the \
                 first time; where only the package registries can be reached, it cannot be made"
            );
        }
    }

    let cli = root.join("ui/node_modules/@tauri-apps/cli/tauri.js");
    ensure!(
        cli.exists(),
        "the Tauri CLI is not installed: run `npm ci` in ui/ (cargo xtask test does)"
    );
    // The UI first, here; the CLI's own `beforeBuildCommand` would run in ui/.
    Step::new("UI build").run(crate::run::npm(root, ["run", "build"]))?;
    let mut command = Command::new("node");
    command
        .arg(&cli)
        .args([
            "build",
            "--ci",
            "--features",
            "custom-protocol",
            "--bundles",
        ])
        .arg(kinds.join(","));
    if debug {
        command.arg("--debug");
    }
    let mut config = signing_config()?;
    config.insert("build".into(), json!({ "beforeBuildCommand": "" }));
    command
        .arg("--config")
        .arg(Value::Object(config).to_string());
    Step::new("installers").run(command)?;

    let bundles = target_dir(root)
        .join(if debug { "debug" } else { "release" })
        .join("bundle");
    let mut made = Vec::new();
    for kind in &kinds {
        let dir = bundles.join(if kind == "nsis" {
            "nsis"
        } else {
            kind.as_str()
        });
        let found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().contains(env!("CARGO_PKG_VERSION")))
            })
            .collect();
        ensure!(
            !found.is_empty(),
            "no {kind} installer in {}",
            dir.display()
        );
        made.extend(found);
    }
    for path in &made {
        eprintln!("xtask: made {}", path.display());
    }
    Ok(made)
}

/// The configuration the environment adds to tauri.conf.json for a signed release.
fn signing_config() -> Result<Map<String, Value>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut config = Map::new();
    if let Some(key) = var("TSUNAGI_UPDATER_PUBKEY") {
        config.insert(
            "plugins".into(),
            json!({ "updater": { "pubkey": key.trim(), "requireSignedVersion": true } }),
        );
    }
    let mut bundle = Map::new();
    if var("TAURI_SIGNING_PRIVATE_KEY").is_some() {
        ensure!(
            config.contains_key("plugins"),
            "TAURI_SIGNING_PRIVATE_KEY is set but TSUNAGI_UPDATER_PUBKEY is not: the app would \
             not know the key its updates are signed with"
        );
        bundle.insert("createUpdaterArtifacts".into(), json!(true));
    }
    if let Some(thumbprint) = var("TSUNAGI_WINDOWS_CERT_THUMBPRINT") {
        bundle.insert(
            "windows".into(),
            json!({
                "certificateThumbprint": thumbprint,
                "digestAlgorithm": "sha256",
                "timestampUrl": "http://timestamp.digicert.com"
            }),
        );
    }
    if !bundle.is_empty() {
        config.insert("bundle".into(), Value::Object(bundle));
    }
    Ok(config)
}

/// `cargo xtask manifest --version V --base-url URL [--notes FILE] DIR`: the update manifest
/// (`latest.json`) for the signed update artefacts in DIR (each with its `.sig`), as the
/// app's updater reads it, written into DIR.
pub(crate) fn manifest(args: &[String]) -> Result<()> {
    let mut version = None;
    let mut base_url = None;
    let mut notes = None;
    let mut dir = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--version" => version = rest.next().cloned(),
            "--base-url" => base_url = rest.next().cloned(),
            "--notes" => notes = rest.next().cloned(),
            other if !other.starts_with("--") && dir.is_none() => dir = Some(PathBuf::from(other)),
            other => bail!("unexpected argument `{other}` to manifest"),
        }
    }
    let version = version.context("--version is needed")?;
    let version = version.trim_start_matches('v');
    let base_url = base_url.context("--base-url is needed")?;
    let dir = dir.context("the folder of update artefacts is needed")?;
    let notes = match notes {
        Some(path) => std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?,
        None => String::new(),
    };

    let mut platforms = Map::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(artefact) = name.strip_suffix(".sig") else {
            continue;
        };
        let Some(platform) = platform_of(artefact) else {
            bail!("{name}: no platform is known for this artefact");
        };
        let signature = std::fs::read_to_string(&path)?;
        platforms.insert(
            platform,
            json!({
                "signature": signature.trim(),
                "url": format!("{}/{artefact}", base_url.trim_end_matches('/')),
            }),
        );
    }
    ensure!(
        !platforms.is_empty(),
        "no signed artefacts (*.sig) in {}",
        dir.display()
    );
    let manifest = json!({
        "version": version,
        "notes": notes.trim(),
        "pub_date": now_rfc3339()?,
        "platforms": platforms,
    });
    let out = dir.join("latest.json");
    std::fs::write(&out, serde_json::to_string_pretty(&manifest)? + "\n")?;
    eprintln!("xtask: wrote {}", out.display());
    Ok(())
}

/// The updater's platform key for an artefact, by the names the Tauri bundler gives them:
/// `{os}-{arch}-{installer}`.
fn platform_of(artefact: &str) -> Option<String> {
    let arch = if artefact.contains("aarch64") || artefact.contains("arm64") {
        "aarch64"
    } else if artefact.contains("x64") || artefact.contains("amd64") || artefact.contains("x86_64")
    {
        "x86_64"
    } else {
        return None;
    };
    let (os, installer) = if artefact.ends_with(".deb") {
        ("linux", "deb")
    } else if artefact.ends_with(".rpm") {
        ("linux", "rpm")
    } else if artefact.ends_with(".AppImage") || artefact.ends_with(".AppImage.tar.gz") {
        ("linux", "appimage")
    } else if artefact.ends_with("-setup.exe") || artefact.ends_with("-setup.exe.zip") {
        ("windows", "nsis")
    } else if artefact.ends_with(".msi") || artefact.ends_with(".msi.zip") {
        ("windows", "msi")
    } else if artefact.ends_with(".app.tar.gz") {
        ("darwin", "app")
    } else {
        return None;
    };
    Some(format!("{os}-{arch}-{installer}"))
}

fn now_rfc3339() -> Result<String> {
    let output = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .context("running date")?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// `cargo xtask relay-release --target TRIPLE`: the relay, optimized and statically
/// linked (a musl target), as `dist/tsunagi-relay-<version>-<target>` with a `.sha256`.
pub(crate) fn relay_release(root: &Path, args: &[String]) -> Result<()> {
    let target = match args {
        [flag, target] if flag == "--target" => target.clone(),
        _ => bail!("usage: cargo xtask relay-release --target x86_64-unknown-linux-musl"),
    };
    ensure!(
        target.ends_with("-linux-musl"),
        "the relay ships as a static binary: use a *-linux-musl target, not {target}"
    );
    let mut build = cargo([
        "build",
        "--release",
        "--locked",
        "-p",
        "tsunagi-relay",
        "--bin",
        "tsunagi-relay",
        "--target",
        &target,
    ]);
    build.env("RUSTFLAGS", "-C target-feature=+crt-static");
    Step::new("relay build").run(build)?;

    let built = target_dir(root)
        .join(&target)
        .join("release")
        .join("tsunagi-relay");
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist)?;
    let name = format!("tsunagi-relay-{}-{target}", env!("CARGO_PKG_VERSION"));
    std::fs::copy(&built, dist.join(&name))
        .with_context(|| format!("copying {}", built.display()))?;
    let sum = Command::new("sha256sum")
        .arg(&name)
        .current_dir(&dist)
        .output()
        .context("running sha256sum")?;
    ensure!(sum.status.success(), "sha256sum failed");
    std::fs::write(dist.join(format!("{name}.sha256")), sum.stdout)?;
    eprintln!("xtask: made dist/{name} and dist/{name}.sha256");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::platform_of;

    #[test]
    fn each_installer_gets_the_updaters_platform_key() {
        let cases = [
            ("Tsunagi_0.2.0_amd64.deb", Some("linux-x86_64-deb")),
            ("Tsunagi-0.2.0-1.x86_64.rpm", Some("linux-x86_64-rpm")),
            ("Tsunagi_0.2.0_x64-setup.exe", Some("windows-x86_64-nsis")),
            ("Tsunagi_0.2.0_x64_en-US.msi", Some("windows-x86_64-msi")),
            ("Tsunagi_aarch64.app.tar.gz", Some("darwin-aarch64-app")),
            ("Tsunagi_x64.app.tar.gz", Some("darwin-x86_64-app")),
            ("Tsunagi_0.2.0_x64.dmg", None),
            ("notes.txt", None),
        ];
        for (artefact, key) in cases {
            assert_eq!(platform_of(artefact).as_deref(), key, "{artefact}");
        }
    }
}
