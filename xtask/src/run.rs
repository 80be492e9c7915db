//! Running the commands that make up each xtask step.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

/// A named step: prints what runs, how long it took, and fails with the step's name.
pub(crate) struct Step {
    name: &'static str,
}

impl Step {
    pub(crate) fn new(name: &'static str) -> Self {
        Self { name }
    }

    pub(crate) fn run(self, mut command: Command) -> Result<()> {
        eprintln!("\nxtask: ── {} ── {}", self.name, describe(&command));
        let started = Instant::now();
        let status = command
            .status()
            .with_context(|| format!("{}: could not start {}", self.name, describe(&command)))?;
        let seconds = started.elapsed().as_secs_f64();
        if !status.success() {
            bail!("{} failed ({status}) after {seconds:.0} s", self.name);
        }
        eprintln!("xtask: {} passed in {seconds:.0} s", self.name);
        Ok(())
    }
}

pub(crate) fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(args);
    command
}

pub(crate) fn npm<I, S>(root: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new("npm");
    command.current_dir(root.join("ui")).args(args);
    command
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Runs the app (or the demo) in the foreground until it exits; Ctrl-C reaches it and its
/// wrappers, which share our process group.
pub(crate) fn start_app(mut command: Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {}", describe(&command)))?;
    check(status)
}

fn check(status: ExitStatus) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("the app exited with {status}")
    }
}
