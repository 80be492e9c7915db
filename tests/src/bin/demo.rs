//! `tsunagi-demo`: the product against the LINE simulator, on this machine. It starts linesim
//! with a clinic's patients, a relay and its executor, joins a desk as the clinic's owner,
//! opens the app on it, and lets patients write in four languages through a clinic day.
//! `--second-desk` opens a second app as staff, to try a claim race. Everything lives in a
//! temporary directory; Ctrl-C (or `--exit-after`) ends every process it started.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::profile::{self, JoinRequest};
use tsunagi_e2e::app::ensure_keyring;
use tsunagi_e2e::clinic::Clinic;
use tsunagi_linesim::scenario::ClinicDay;
use tsunagi_proto::api::Role;

/// The keyring service the app keeps its device token under.
const SERVICE: &str = "app.tsunagi.desk";

#[derive(Parser)]
#[command(about = "Tsunagi against the LINE simulator, with a clinic day of patients")]
struct Args {
    /// The app binary (built with the `custom-protocol` feature).
    #[arg(long)]
    app: PathBuf,
    /// Also open a desk for a member of staff.
    #[arg(long)]
    second_desk: bool,
    /// Close everything after this many seconds.
    #[arg(long)]
    exit_after: Option<u64>,
    /// How many patients write in during the day.
    #[arg(long, default_value_t = 40)]
    patients: usize,
    /// How many minutes the clinic day takes here (it is eight hours long).
    #[arg(long, default_value_t = 15)]
    minutes: u64,
}

/// One app window on its own data directory, closed (SIGTERM) when dropped.
struct Desk {
    child: Child,
    data: PathBuf,
    vault: Vault,
}

impl Drop for Desk {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, kill};
            use nix::unistd::Pid;
            if let Ok(pid) = i32::try_from(self.child.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The device token leaves the keyring with the demo.
        if let Err(error) = profile::leave(&self.data, &self.vault) {
            eprintln!("demo: could not forget the demo desk's token: {error}");
        }
    }
}

async fn open_desk(
    clinic: &Clinic,
    app: &Path,
    home: &Path,
    name: &str,
    role: Role,
) -> Result<Desk> {
    let data = home.join(name.to_lowercase());
    std::fs::create_dir_all(&data)?;
    let vault = Vault::new(SERVICE, &data).keyring_only();
    let request = JoinRequest {
        relay: clinic.url.clone(),
        code: clinic.invite(role).await?,
        operator_name: name.into(),
        device_name: format!("{name}'s desk (demo)"),
        channel: None,
    };
    profile::join(&data, &vault, &request)
        .await
        .with_context(|| format!("joining {name}'s desk"))?;
    let child = Command::new(app)
        .env("TSUNAGI_DATA_DIR", &data)
        .spawn()
        .with_context(|| format!("starting {}", app.display()))?;
    eprintln!("demo: {name}'s desk is open ({role:?})");
    Ok(Desk { child, data, vault })
}

#[tokio::main]
async fn main() -> Result<()> {
    tsunagi_log::init("warn");
    let args = Args::parse();
    if !args.app.is_file() {
        bail!("no app at {}: build it first", args.app.display());
    }
    let home = tempfile::Builder::new().prefix("tsunagi-demo-").tempdir()?;
    let _keyring = ensure_keyring(home.path()).context("starting a keyring for the demo")?;
    let clinic = Clinic::start(24).await?;
    eprintln!(
        "demo: linesim at {}, the relay at {}; data in {}",
        clinic.sim_url,
        clinic.url,
        home.path().display()
    );

    // The AI answers what the bot's own rules do not; handoffs reach Telegram.
    clinic.automations_on().await?;

    // A few patients are already waiting when the desk opens.
    let patients = clinic.patients();
    for (patient, text) in patients.iter().zip([
        "ติดต่อเจ้าหน้าที่ค่ะ",
        "スタッフと話したい",
        "我想找真人客服",
        "Hi, can I talk to staff about my appointment?",
    ]) {
        clinic.says(&patient.user_id, text).await?;
    }
    // One asks what the AI knows.
    let asking = &patients[4].user_id;
    clinic.says(asking, "คลินิกเปิดกี่โมงคะ").await?;
    let answered = clinic.until_received(asking, 1).await?;
    eprintln!(
        "demo: the AI answered {}: {}",
        patients[4].display_name,
        answered[0].message["text"].as_str().unwrap_or_default()
    );
    // Each of the four handoffs above reaches the owners' Telegram.
    for _ in 0..100 {
        if clinic.sim.telegram_messages().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for alert in clinic.sim.telegram_messages() {
        eprintln!(
            "demo: Telegram alert to chat {}: {}",
            alert.chat_id,
            alert.text.replace('\n', " ")
        );
    }
    let mut desks = vec![open_desk(&clinic, &args.app, home.path(), "Yuki", Role::Owner).await?];
    if args.second_desk {
        desks.push(open_desk(&clinic, &args.app, home.path(), "Somchai", Role::Staff).await?);
    }

    // The rest of the day arrives as it goes.
    let day = ClinicDay {
        patients: args.patients,
        span: Duration::from_secs(8 * 60 * 60),
        seed: 7,
    }
    .scenario(&patients);
    let speed = (8.0 * 60.0) / (args.minutes.max(1) as f64);
    let sim_url = clinic.sim_url.clone();
    let scenario = tokio::spawn(async move { day.run(&sim_url, speed).await });
    eprintln!(
        "demo: patients keep writing for {} minutes. Claim one in Waiting and answer; \
         Ctrl-C ends the demo.",
        args.minutes
    );

    let stop = async {
        match args.exit_after {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    let closed = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if desks
                .iter_mut()
                .all(|d| matches!(d.child.try_wait(), Ok(Some(_))))
            {
                return;
            }
        }
    };
    tokio::select! {
        () = stop => eprintln!("demo: closing"),
        () = closed => eprintln!("demo: every window was closed"),
    }
    scenario.abort();
    drop(desks);
    drop(clinic);
    Ok(())
}
