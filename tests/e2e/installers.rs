//! The installers and updates: the .deb holds the app, its menu entry, icons and link
//! scheme, installs, and the installed app starts; an update signed with the app's key is
//! downloaded and kept, and tampered, mislabelled or cut-off ones are refused in words, with
//! nothing installed. (`cargo xtask test` makes the installers first, with
//! `cargo xtask bundle --debug`.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, Result, ensure};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tsunagi_e2e::app::{self, App, By, target_dir};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_proto::api::Role;

fn skip() -> bool {
    if !app::enabled() {
        eprintln!("skipped: set E2E=1 (cargo xtask test does) to drive the real window");
        return true;
    }
    false
}

/// The installer of `kind` (`deb`, `rpm`) `cargo xtask bundle --debug` made.
fn installer(kind: &str) -> Result<PathBuf> {
    let dir = target_dir().join("debug/bundle").join(kind);
    std::fs::read_dir(&dir)
        .with_context(|| format!("{}: run `cargo xtask bundle --debug` first", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == kind))
        .with_context(|| format!("no .{kind} in {}", dir.display()))
}

fn run(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    ensure!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Removes the installed package when the test ends, however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--remove", "tsunagi"]).output();
    }
}

#[tokio::test]
async fn the_deb_holds_the_app_its_menu_entry_icons_and_link_scheme_and_installs_and_starts()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let deb = installer("deb")?;
    let listing = run(Command::new("dpkg").arg("-c").arg(&deb))?;
    for path in [
        "usr/bin/tsunagi",
        "usr/share/applications/Tsunagi.desktop",
        "usr/share/icons/hicolor/32x32/apps/tsunagi.png",
        "usr/share/icons/hicolor/128x128/apps/tsunagi.png",
    ] {
        ensure!(
            listing.contains(path),
            "{path} is not in the .deb:\n{listing}"
        );
    }
    let control = run(Command::new("dpkg-deb").args(["--field"]).arg(&deb))?;
    ensure!(control.contains("Package: tsunagi"), "{control}");
    ensure!(
        control.contains("Depends: libwebkit2gtk-4.1-0"),
        "{control}"
    );

    // The menu entry: valid, and the handler of tsunagi:// links.
    let unpacked = tempfile::tempdir()?;
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(unpacked.path()))?;
    let entry = unpacked
        .path()
        .join("usr/share/applications/Tsunagi.desktop");
    let desktop = std::fs::read_to_string(&entry)?;
    ensure!(
        desktop.contains("MimeType=x-scheme-handler/tsunagi;"),
        "{desktop}"
    );
    ensure!(desktop.contains("Exec=tsunagi %u"), "{desktop}");
    ensure!(desktop.contains("Icon=tsunagi"), "{desktop}");
    run(Command::new("desktop-file-validate").arg(&entry))?;

    // The .rpm: an RPM package (its lead's magic), of the same app.
    let rpm = std::fs::read(installer("rpm")?)?;
    ensure!(
        rpm.starts_with(&[0xed, 0xab, 0xee, 0xdb]),
        "not an RPM package"
    );
    ensure!(rpm.len() > 1_000_000, "an RPM of {} bytes", rpm.len());

    if run(Command::new("id").arg("-u"))?.trim() != "0" {
        eprintln!("not root: the .deb is checked but not installed");
        return Ok(());
    }
    let _installed = Installed;
    run(Command::new("dpkg").arg("--install").arg(&deb))?;
    let status = run(Command::new("dpkg-query").args(["-W", "-f", "${Status}", "tsunagi"]))?;
    ensure!(status == "install ok installed", "{status}");

    // The installed app starts, on its first screen, and knows it can update itself.
    let app = App::launch_installed(Path::new("/usr/bin/tsunagi"), &[]).await?;
    app.find(By::Textbox("Relay address")).await?;
    app.screenshot("installed-from-deb").await?;
    app.close().await?;
    Ok(())
}

/// A signing key made for the test with the Tauri CLI (as the release makes its own), and
/// what it signs.
struct Signer {
    dir: tempfile::TempDir,
    public: String,
}

fn tauri_cli() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/@tauri-apps/cli/tauri.js")
}

impl Signer {
    fn new() -> Result<Signer> {
        let dir = tempfile::tempdir()?;
        let key = dir.path().join("update.key");
        run(Command::new("node")
            .arg(tauri_cli())
            .args([
                "signer",
                "generate",
                "--ci",
                "--password",
                "",
                "--write-keys",
            ])
            .arg(&key))?;
        let public = std::fs::read_to_string(dir.path().join("update.key.pub"))?;
        Ok(Signer {
            dir,
            public: public.trim().to_owned(),
        })
    }

    /// The signature of `bytes`, bound to `version`.
    fn sign(&self, bytes: &[u8], version: &str) -> Result<String> {
        let file = self.dir.path().join(format!("artefact-{version}"));
        std::fs::write(&file, bytes)?;
        run(Command::new("node")
            .arg(tauri_cli())
            .args(["signer", "sign", "--password", "", "--app-version", version])
            .arg("--private-key-path")
            .arg(self.dir.path().join("update.key"))
            .arg(&file))?;
        Ok(std::fs::read_to_string(
            file.with_file_name(format!("artefact-{version}.sig")),
        )?)
    }
}

/// What the update server answers at a path: a body, and how many bytes of it to send
/// before hanging up (a download cut off).
#[derive(Clone)]
struct Served {
    body: Vec<u8>,
    cut_after: Option<usize>,
}

/// A plain HTTP/1.1 server on `listener` serving `paths`.
fn update_server(listener: TcpListener, paths: HashMap<String, Served>) {
    let paths = Arc::new(paths);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let paths = paths.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let Some(served) = paths.get(&path) else {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    served.body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let sent = served.cut_after.unwrap_or(served.body.len());
                let _ = socket.write_all(&served.body[..sent]).await;
                let _ = socket.shutdown().await;
            });
        }
    });
}

fn manifest(version: &str, url: &str, signature: &str) -> Served {
    let json = serde_json::json!({
        "version": version,
        "notes": "予約の一覧が速くなりました。\nFaster appointment lists.",
        "pub_date": "2026-12-01T09:00:00Z",
        "platforms": { "linux-x86_64": { "url": url, "signature": signature } },
    });
    Served {
        body: json.to_string().into_bytes(),
        cut_after: None,
    }
}

#[tokio::test]
async fn an_update_signed_with_the_apps_key_is_kept_and_tampered_or_cut_off_ones_are_refused()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let signer = Signer::new()?;
    // A newer build's artefact: the installer the bundle made.
    let artefact = std::fs::read(installer("deb")?)?;
    let signature = signer.sign(&artefact, "9.9.9")?;
    let mut tampered = artefact.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;

    let mut paths = HashMap::new();
    let whole = Served {
        body: artefact.clone(),
        cut_after: None,
    };
    paths.insert("/tsunagi.deb".to_owned(), whole);
    paths.insert(
        "/tampered.deb".to_owned(),
        Served {
            body: tampered,
            cut_after: None,
        },
    );
    paths.insert(
        "/cut.deb".to_owned(),
        Served {
            body: artefact.clone(),
            cut_after: Some(artefact.len() / 3),
        },
    );
    let server_paths = |address: &str| -> HashMap<String, Served> {
        let mut more = paths.clone();
        more.insert(
            "/good/latest.json".into(),
            manifest("9.9.9", &format!("{address}/tsunagi.deb"), &signature),
        );
        more.insert(
            "/tampered/latest.json".into(),
            manifest("9.9.9", &format!("{address}/tampered.deb"), &signature),
        );
        // A genuine artefact offered as a version it was not signed for.
        more.insert(
            "/relabelled/latest.json".into(),
            manifest("10.0.0", &format!("{address}/tsunagi.deb"), &signature),
        );
        more.insert(
            "/cut/latest.json".into(),
            manifest("9.9.9", &format!("{address}/cut.deb"), &signature),
        );
        more
    };
    // The server's own address goes into its manifests: bound first, then filled.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = format!("http://{}", listener.local_addr()?);
    update_server(listener, server_paths(&server));

    let clinic = Clinic::start(2).await?;
    let app = App::launch_installed(
        &app::app_binary()?,
        &[("TSUNAGI_UPDATER_PUBKEY", signer.public.clone())],
    )
    .await?;
    crate::operator::join_as(&app, &clinic, "Aiko", Role::Staff).await?;

    let offer_from = async |path: &str| -> Result<()> {
        app.choose("Clinic", "Updates").await?;
        let field = app.find(By::Textbox("Update address")).await?;
        field.clear().await?;
        field.send_keys(&format!("{server}{path}")).await?;
        app.click(By::Button("Save")).await?;
        app.find(By::Text("Saved")).await?;
        app.click(By::Button("Check for updates")).await?;
        app.find(By::Text("is available")).await?;
        app.click(By::Button("Download")).await?;
        Ok(())
    };
    let close = async || -> Result<()> {
        app.click(By::Button("Close")).await?;
        app.gone(By::Text("Update address")).await
    };

    // Tampered with on the way: refused by its signature.
    offer_from("/tampered/latest.json").await?;
    let refused = app.find(By::Alert).await?;
    ensure!(
        refused.attr("data-code").await?.as_deref() == Some("update_signature_refused"),
        "{}",
        refused.text().await?
    );
    ensure!(refused.text().await?.contains("Nothing was installed"));
    app.screenshot("update-refused").await?;
    close().await?;

    // Genuine, but offered as a version it was not signed for: refused too.
    offer_from("/relabelled/latest.json").await?;
    let refused = app.find(By::Alert).await?;
    ensure!(refused.attr("data-code").await?.as_deref() == Some("update_signature_refused"));
    close().await?;

    // Cut off half-way: refused, nothing kept.
    offer_from("/cut/latest.json").await?;
    let refused = app.find(By::Alert).await?;
    let code = refused.attr("data-code").await?;
    ensure!(
        matches!(
            code.as_deref(),
            Some("update_unreachable" | "update_signature_refused")
        ),
        "{code:?}: {}",
        refused.text().await?
    );
    close().await?;

    // Signed with the app's key for the version offered: downloaded and kept. This build
    // runs from the build folder, so it says it cannot install updates itself.
    offer_from("/good/latest.json").await?;
    app.find(By::Text("Downloaded, and its signature checked"))
        .await?;
    app.find(By::Text("was not installed with an installer"))
        .await?;
    app.find(By::Text("Faster appointment lists.")).await?;
    app.screenshot("update-ready").await?;

    // The same offer, read in Thai.
    close().await?;
    app.speak("ไทย").await?;
    app.choose("คลินิก", "อัปเดต").await?;
    app.click(By::Button("ตรวจหาอัปเดต")).await?;
    app.find(By::Text("Tsunagi 9.9.9")).await?;
    app.screenshot("update-available-th").await?;
    app.close().await?;
    Ok(())
}
