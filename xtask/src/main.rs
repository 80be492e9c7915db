//! Tsunagi's developer commands.
//!
//! - `cargo xtask test`: everything CI checks, in the order that fails fastest.
//! - `cargo xtask demo`: builds and starts the app.
//! - `cargo xtask bindings`: regenerates `ui/src/lib/bindings.ts` from the Rust types, and
//!   `docs/patient-archive.schema.json` from the patient archive's.
//! - `cargo xtask bench`: runs the benchmarks.
//! - `cargo xtask bundle`, `manifest`, `relay-release`: what a release is made of.
//!
//! Both `test` and `demo` first make sure the machine has what they need: missing Debian
//! packages are installed (or listed, elsewhere), and `npm ci` runs when `ui/node_modules`
//! is older than the lock file.

#[cfg(test)]
mod architecture;
mod release;
#[cfg(test)]
mod rooms;
mod run;
mod system;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::run::{Step, cargo, npm};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                 fmt, clippy, every Rust test (the real window under Xvfb too),
                       doc tests, UI type check and tests, bindings check
  demo [--second-desk] [--exit-after SECONDS]
                       build the UI and the app, and start it against the LINE simulator
                       with a relay and a clinic day of patients (under Xvfb if there is no
                       display); --second-desk opens a staff desk too; --exit-after closes
                       everything after that many seconds
  bundle [--debug] [--bundles deb,rpm]
                       the app's installers for this OS (.deb and .rpm on Linux, .msi and
                       NSIS on Windows, .app and .dmg on macOS), from the release build
                       (--debug: from the tests' build); signing comes from the environment
  manifest --version V --base-url URL [--notes FILE] DIR
                       the update manifest (latest.json) for the signed artefacts in DIR
  relay-release --target TRIPLE
                       the relay as a static Linux binary, with its checksum, in dist/
  bindings             regenerate ui/src/lib/bindings.ts from the Rust IPC types, and
                       docs/patient-archive.schema.json
  bench                run every benchmark (optimized build) and print its numbers, the
                       app's start, conversation switch and memory in its real window too
";

/// The app's feature for serving the built UI from the binary. Every cargo step uses the
/// same features so tauri compiles once.
const APP_FEATURES: &str = "tsunagi/custom-protocol";

fn main() {
    if let Err(error) = try_main() {
        eprintln!("xtask: {error:#}");
        std::process::exit(1);
    }
}

fn try_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root).context("entering the workspace root")?;
    match args.first().map(String::as_str) {
        Some("test") => test(&root),
        Some("demo") => demo(&root, &args[1..]),
        Some("bundle") => {
            system::ensure(&root, system::Purpose::Demo)?;
            release::bundle(&root, &args[1..]).map(drop)
        }
        Some("manifest") => release::manifest(&args[1..]),
        Some("relay-release") => release::relay_release(&root, &args[1..]),
        Some("bindings") => bindings(),
        Some("bench") => bench(&root),
        Some("-h" | "--help" | "help") | None => {
            eprint!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// The workspace this xtask was run from. `cargo run` names the package's folder at run
/// time; the folder it was compiled in is only the fallback, since clones that share one
/// target directory (CI's) can run a binary another clone built.
fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn test(root: &Path) -> Result<()> {
    let started = Instant::now();
    system::ensure(root, system::Purpose::Test)?;

    Step::new("format").run(cargo(["fmt", "--all", "--check"]))?;
    Step::new("UI type check").run(npm(root, ["run", "check"]))?;
    Step::new("UI unit tests").run(npm(root, ["test"]))?;
    Step::new("UI build").run(npm(root, ["run", "build"]))?;
    Step::new("clippy").run(cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        APP_FEATURES,
        "--",
        "-D",
        "warnings",
    ]))?;
    build_app()?;
    // The installers of the tests' build, which the installer and update tests read.
    release::bundle(root, &["--debug".to_owned()])?;
    Step::new("release workflow lint").run(system::actionlint(root)?)?;
    // Doc tests before the main suite, so the run closes on nextest's summary.
    Step::new("doc tests").run(cargo([
        "test",
        "--doc",
        "--workspace",
        "--features",
        APP_FEATURES,
    ]))?;

    let nextest = cargo([
        "nextest",
        "run",
        "--workspace",
        "--features",
        APP_FEATURES,
        "--no-fail-fast",
    ]);
    match system::session_wrapper() {
        Some(wrapper) => {
            let mut command = wrapper.wrap(&nextest);
            command.env("E2E", "1");
            Step::new("tests, with the real window").run(command)?;
        }
        None => {
            eprintln!(
                "xtask: no Xvfb and D-Bus here, so the end-to-end tests of the real window \
                 are skipped"
            );
            Step::new("tests").run(nextest)?;
        }
    }

    // The relay's HTTP suite once more, on PostgreSQL (a server each test starts for
    // itself). The conformance suite runs on both stores already, the tests of several
    // processes run on PostgreSQL always, and running out of disk is SQLite's own test.
    let mut on_postgres = cargo([
        "nextest",
        "run",
        "-p",
        "tsunagi-relay",
        "--no-fail-fast",
        "-E",
        "binary(it) and not test(/^(conformance|disk_full|processes)::/)",
    ]);
    on_postgres.env("TSUNAGI_TEST_STORE", "postgres");
    Step::new("the relay's tests on PostgreSQL").run(on_postgres)?;

    let minutes = started.elapsed().as_secs_f64() / 60.0;
    eprintln!("xtask: every check passed in {minutes:.1} min");
    Ok(())
}

fn demo(root: &Path, args: &[String]) -> Result<()> {
    let mut passed: Vec<String> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--second-desk" => passed.push(arg.clone()),
            "--exit-after" => {
                let seconds = rest
                    .next()
                    .context("--exit-after takes a number of seconds")?;
                seconds.parse::<u64>().with_context(|| {
                    format!("--exit-after takes whole seconds, not `{seconds}`")
                })?;
                passed.extend([arg.clone(), seconds.clone()]);
            }
            _ => bail!("unexpected argument `{arg}`\n\n{USAGE}"),
        }
    }
    system::ensure(root, system::Purpose::Demo)?;
    Step::new("UI build").run(npm(root, ["run", "build"]))?;
    build_app()?;
    Step::new("demo build").run(cargo([
        "build",
        "-p",
        "tsunagi-e2e",
        "--bin",
        "tsunagi-demo",
    ]))?;

    let target = run::target_dir(root).join("debug");
    let mut demo = Command::new(target.join("tsunagi-demo"));
    demo.arg("--app").arg(target.join("tsunagi")).args(&passed);
    if system::needs_virtual_display() {
        let wrapper = system::session_wrapper()
            .context("there is no display, and Xvfb is not installed to provide one")?;
        eprintln!(
            "xtask: no display here, so Tsunagi opens on a virtual one (Xvfb); \
             set DISPLAY or WAYLAND_DISPLAY to see the window"
        );
        demo = wrapper.wrap(&demo);
    }
    eprintln!("xtask: starting the demo (linesim, a relay, and the app)");
    run::start_app(demo)
}

/// The app binary, serving the built UI from inside itself.
fn build_app() -> Result<()> {
    Step::new("app build").run(cargo([
        "build",
        "--features",
        APP_FEATURES,
        "--bin",
        "tsunagi",
    ]))
}

fn bench(root: &Path) -> Result<()> {
    // PostgreSQL for the relay's benchmarks, and the session for the app's.
    system::ensure(root, system::Purpose::Test)?;
    Step::new("linesim throughput").run(cargo([
        "bench",
        "-p",
        "tsunagi-linesim",
        "--bench",
        "throughput",
    ]))?;
    Step::new("relay ingest").run(cargo(["bench", "-p", "tsunagi-relay", "--bench", "ingest"]))?;
    Step::new("follower sync").run(cargo([
        "bench",
        "-p",
        "tsunagi-relay",
        "--bench",
        "followers",
    ]))?;
    Step::new("executor restart").run(cargo([
        "bench",
        "-p",
        "tsunagi-relay",
        "--bench",
        "restart",
    ]))?;
    Step::new("erase and the night's purge").run(cargo([
        "bench",
        "-p",
        "tsunagi-relay",
        "--bench",
        "erase",
    ]))?;
    Step::new("idle relay, 3,000 streams").run(cargo([
        "bench",
        "-p",
        "tsunagi-relay",
        "--bench",
        "idle",
    ]))?;
    Step::new("desk store").run(cargo(["bench", "-p", "tsunagi-desk", "--bench", "store"]))?;
    Step::new("webhook to 20 desks").run(cargo([
        "bench",
        "-p",
        "tsunagi-desk",
        "--bench",
        "fanout",
    ]))?;

    // The app as users run it: the optimized build, in a (virtual) window; and the blank
    // window of the same Tauri it is measured against.
    Step::new("UI build").run(npm(root, ["run", "build"]))?;
    Step::new("app build (release)").run(cargo([
        "build",
        "--release",
        "--features",
        APP_FEATURES,
        "--bin",
        "tsunagi",
    ]))?;
    // On its own, so that the app is built as it ships (an example brings the package's
    // dev-dependencies, and their features, into the build).
    Step::new("blank window build (release)").run(cargo([
        "build",
        "--release",
        "--features",
        APP_FEATURES,
        "--example",
        "blank",
    ]))?;
    let release = run::target_dir(root).join("release");
    let mut app = cargo(["bench", "-p", "tsunagi-e2e", "--bench", "app"]);
    app.env("E2E", "1")
        .env("TSUNAGI_APP", release.join("tsunagi"))
        .env("TSUNAGI_BLANK", release.join("examples").join("blank"));
    let app = match system::session_wrapper() {
        Some(wrapper) => wrapper.wrap(&app),
        None => app,
    };
    Step::new("app at clinic scale").run(app)
}

fn bindings() -> Result<()> {
    let mut command = cargo([
        "test",
        "--lib",
        "--features",
        APP_FEATURES,
        "-p",
        "tsunagi",
        "committed_bindings_match_the_rust_types",
    ]);
    command.env("TSUNAGI_WRITE_BINDINGS", "1");
    Step::new("regenerate bindings").run(command)?;
    eprintln!("xtask: wrote ui/src/lib/bindings.ts");
    let mut command = cargo([
        "test",
        "--lib",
        "-p",
        "tsunagi-desk",
        "the_documented_schema_is_the_one_the_archive_carries",
    ]);
    command.env("TSUNAGI_WRITE_BINDINGS", "1");
    Step::new("regenerate the patient archive's schema").run(command)?;
    eprintln!("xtask: wrote docs/patient-archive.schema.json");
    Ok(())
}
