//! `tsunagi-relay`: serve the relay, and set it up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_relay::Relay;
use tsunagi_relay::http::Options;
use tsunagi_relay::line_setup::{self, LineSetup};
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::SqliteStore;

#[derive(Parser)]
#[command(
    version,
    about = "Tsunagi's relay: LINE's webhooks into a durable log, streamed to every desk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve LINE's webhooks and the desks' API.
    Serve {
        #[command(flatten)]
        data: Data,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Print a one-time code that enrolls one device (single use, 24 hours).
    Invite {
        #[command(flatten)]
        data: Data,
        #[arg(long)]
        channel: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Manage LINE channels.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
}

#[derive(Subcommand)]
enum ChannelCommand {
    /// Add a LINE channel; its secret is read from a file and stored encrypted.
    Add {
        #[command(flatten)]
        data: Data,
        #[arg(long)]
        id: String,
        /// A file holding the channel secret (so it never shows in a process list).
        #[arg(long)]
        secret_file: PathBuf,
        /// This relay's address as LINE reaches it. With it, the credentials are checked
        /// with LINE first, LINE's webhook URL is set, and LINE's webhook test is run.
        #[arg(long)]
        public_url: Option<String>,
        /// LINE's API (or the simulator's), for those checks.
        #[arg(long, default_value = tsunagi_line::client::DEFAULT_API_BASE)]
        line_api_base: String,
    },
}

#[derive(clap::Args)]
struct Data {
    /// Where the relay keeps its database and key.
    #[arg(long = "data")]
    dir: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Owner,
    Staff,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Owner => Role::Owner,
            RoleArg::Staff => Role::Staff,
        }
    }
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
        Command::Serve { data, listen } => serve(&data.dir, listen).await,
        Command::Invite {
            data,
            channel,
            role,
        } => {
            let relay = open(&data.dir).await?;
            let invited = relay
                .invite(&ChannelId::new(channel), role.into())
                .await
                .context("creating the invite")?;
            let mut out = std::io::stdout().lock();
            std::io::Write::write_all(&mut out, format!("{}\n", invited.code).as_bytes())?;
            tracing::info!("the code works once, for 24 hours");
            Ok(())
        }
        Command::Channel {
            command:
                ChannelCommand::Add {
                    data,
                    id,
                    secret_file,
                    public_url,
                    line_api_base,
                },
        } => {
            let secret = std::fs::read_to_string(&secret_file)
                .with_context(|| format!("reading {}", secret_file.display()))?;
            let secret = ChannelSecret::new(secret.trim());
            anyhow::ensure!(
                !secret.expose().is_empty(),
                "{} is empty",
                secret_file.display()
            );
            let relay = open(&data.dir).await?;
            let channel = ChannelId::new(id.clone());
            let Some(public_url) = public_url else {
                relay
                    .add_channel(&channel, secret)
                    .await
                    .with_context(|| format!("adding channel {id}"))?;
                tracing::info!(channel = %id, "channel added, not checked with LINE (no --public-url)");
                return Ok(());
            };
            let setup = LineSetup {
                api_base: line_api_base,
                public_url,
            };
            let steps = line_setup::connect(&relay, &channel, secret, &setup)
                .await
                .with_context(|| format!("connecting channel {id}"))?;
            let mut out = std::io::stdout().lock();
            for step in &steps {
                let mark = if step.ok { "ok  " } else { "FAIL" };
                std::io::Write::write_all(
                    &mut out,
                    format!("{mark} {:<13} {}\n", step.name, step.detail).as_bytes(),
                )?;
            }
            anyhow::ensure!(
                steps.iter().all(|s| s.ok),
                "the channel is stored, but not every step succeeded"
            );
            Ok(())
        }
    }
}

async fn open(dir: &Path) -> Result<Relay<SqliteStore>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = RelayKey::load(dir)?;
    let store = SqliteStore::open(&dir.join("relay.db"))
        .await
        .with_context(|| format!("opening the relay database in {}", dir.display()))?;
    Ok(Relay::new(store, key))
}

async fn serve(dir: &Path, listen: SocketAddr) -> Result<()> {
    let relay = Arc::new(open(dir).await?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "relay serving");
    tsunagi_relay::http::serve(listener, relay, Options::default(), async {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests, closing streams");
    })
    .await
    .context("serving")?;
    tracing::info!("relay stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
