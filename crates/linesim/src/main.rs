//! `tsunagi-linesim`: run the simulated LINE Platform.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use tsunagi_linesim::population::{self, User};
use tsunagi_linesim::scenario::{ClinicDay, RunReport, Scenario};
use tsunagi_linesim::{Config, Simulator};

#[derive(Parser)]
#[command(
    version,
    about = "A simulated LINE Platform for Tsunagi's tests and demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Messaging API and send webhooks when simulated users act.
    Serve(Serve),
    /// Run a scenario file (JSON) against a running simulator.
    Scenario {
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Generate a clinic day and run it against a running simulator.
    ClinicDay {
        /// How many patients write in.
        #[arg(long, default_value_t = 40)]
        patients: usize,
        /// Over how long, in minutes of simulated time.
        #[arg(long, default_value_t = 480)]
        minutes: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the scenario as JSON instead of running it.
        #[arg(long)]
        print: bool,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(clap::Args)]
struct Target {
    /// The running simulator.
    #[arg(long, default_value = "http://127.0.0.1:8090")]
    sim: String,
    /// Run this many times faster than the scenario's own timing.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
}

#[derive(clap::Args)]
struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    #[arg(long, env = "LINESIM_CHANNEL_ID")]
    channel_id: String,
    /// Signs webhooks. Prefer the environment variable: flags show in process lists.
    #[arg(long, env = "LINESIM_CHANNEL_SECRET", hide_env_values = true)]
    channel_secret: String,
    /// The long-lived channel access token the API accepts.
    #[arg(long, env = "LINESIM_ACCESS_TOKEN", hide_env_values = true)]
    access_token: String,
    /// Where webhooks go (also settable through the webhook endpoint API).
    #[arg(long)]
    webhook: Option<String>,
    /// A verified account: may list follower ids.
    #[arg(long)]
    verified: bool,
    /// Redeliver webhooks that were not answered with 2xx.
    #[arg(long)]
    redelivery: bool,
    /// Events arrive in standby mode (a partner module has chat control): no reply tokens.
    #[arg(long)]
    standby: bool,
    /// Multiply LINE's rate limits by this; 0 turns them off.
    #[arg(long, default_value_t = 1.0)]
    rate_scale: f64,
    /// Monthly message quota for push-family sends (unlimited if absent).
    #[arg(long)]
    quota: Option<u64>,
    /// How many simulated users.
    #[arg(long, default_value_t = 24)]
    users: usize,
    /// Seed for the simulated users.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    tsunagi_log::init("info");
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Scenario { file, target } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let scenario = Scenario::from_json(&text)
                .with_context(|| format!("{} is not a scenario", file.display()))?;
            run(&scenario, &target).await
        }
        Command::ClinicDay {
            patients,
            minutes,
            seed,
            print,
            target,
        } => {
            let users = fetch_users(&target.sim).await?;
            let scenario = ClinicDay {
                patients,
                span: Duration::from_secs(minutes * 60),
                seed,
            }
            .scenario(&users);
            if print {
                let json = serde_json::to_string_pretty(&scenario)?;
                std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes())?;
                return Ok(());
            }
            run(&scenario, &target).await
        }
    }
}

async fn fetch_users(sim: &str) -> Result<Vec<User>> {
    #[derive(serde::Deserialize)]
    struct Users {
        users: Vec<User>,
    }
    let url = format!("{}/_sim/users", sim.trim_end_matches('/'));
    let users: Users = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("asking the simulator at {sim} for its users"))?
        .json()
        .await?;
    Ok(users.users)
}

async fn run(scenario: &Scenario, target: &Target) -> Result<()> {
    if target.speed <= 0.0 {
        bail!("--speed must be above 0");
    }
    tracing::info!(
        steps = scenario.steps.len(),
        seconds = scenario.duration().as_secs_f64() / target.speed,
        "running “{}”",
        scenario.name
    );
    let report: RunReport = scenario.run(&target.sim, target.speed).await?;
    for failure in &report.failures {
        tracing::warn!("{failure}");
    }
    tracing::info!(
        steps = report.steps,
        delivered = report.delivered,
        failed = report.failures.len(),
        "scenario done"
    );
    if report.failures.is_empty() {
        Ok(())
    } else {
        bail!("{} of {} steps failed", report.failures.len(), report.steps)
    }
}

async fn serve(args: Serve) -> Result<()> {
    let mut config = Config::new(args.channel_id, args.channel_secret, args.access_token);
    config.webhook_url = args.webhook;
    config.verified = args.verified;
    config.redelivery = args.redelivery;
    config.standby = args.standby;
    config.rate_scale = (args.rate_scale > 0.0).then_some(args.rate_scale);
    config.monthly_quota = args.quota;
    config.users = population::users(args.users, args.seed);
    config.groups = vec![population::waiting_room(&config.users)];
    let sim = Simulator::new(config);
    let address = sim
        .serve(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(%address, "linesim is serving the Messaging API; /_sim/ inspects it");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("linesim stopped");
    Ok(())
}
