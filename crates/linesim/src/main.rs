//! `tsunagi-linesim`: run the simulated LINE Platform.

use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use tsunagi_linesim::{Config, Simulator, population};

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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: Serve) -> Result<()> {
    let mut config = Config::new(args.channel_id, args.channel_secret, args.access_token);
    config.webhook_url = args.webhook;
    config.verified = args.verified;
    config.redelivery = args.redelivery;
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
