//! `tsunagi-relay`: serve the relay, and set it up.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_relay::Relay;
use tsunagi_relay::egress::{self, Egress};
use tsunagi_relay::executor;
use tsunagi_relay::http::{MetricsAccess, Options, TrustedProxies};
use tsunagi_relay::line_setup::{self, LineSetup};
use tsunagi_relay::media::MediaStore;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::{AnyStore, LogStore as _};

mod settings;

#[derive(Parser)]
#[command(
    version,
    about = "Tsunagi's relay: LINE's webhooks into a durable log, streamed to every desk"
)]
struct Cli {
    /// A TOML file of settings, named as the long flags are (`listen = "0.0.0.0:8080"`):
    /// used where neither the flag nor its environment variable is given.
    #[arg(long, global = true, env = "TSUNAGI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve LINE's webhooks and the desks' API. Until an owner of the whole relay has
    /// enrolled, every start prints a one-time setup code for the owner's desk.
    Serve {
        #[command(flatten)]
        data: Data,
        #[arg(long, env = "TSUNAGI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        line: LineArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
        /// How long a channel's executor lease lasts unless renewed: after a relay process
        /// dies, another takes its channels over within this (`15s`, `3s`).
        #[arg(long, env = "TSUNAGI_EXECUTOR_LEASE", default_value = "15s", value_parser = humantime::parse_duration)]
        executor_lease: std::time::Duration,
        /// Telegram's Bot API, for the owners' alerts (or a simulator's): https://, or an
        /// address in a network --allow-networks names.
        #[arg(long, env = "TSUNAGI_TELEGRAM_API", default_value = tsunagi_relay::telegram::DEFAULT_API)]
        telegram_api: String,
        /// Networks the relay may call although they are not the public internet
        /// (private, loopback, link-local…), comma-separated: `192.168.1.0/24`, or one
        /// address. For a clinic whose AI model runs on its own network; plain http:// is
        /// used only inside these. None by default: the AI endpoint and Telegram are called
        /// over HTTPS at public addresses only.
        #[arg(long, env = "TSUNAGI_ALLOW_NETWORKS", value_delimiter = ',', value_parser = egress::parse_network)]
        allow_networks: Vec<ipnet::IpNet>,
        /// The reverse proxies in front of the relay (`10.0.0.2`, `10.0.0.0/24`),
        /// comma-separated: only their `Forwarded` or `X-Forwarded-For` headers say who the
        /// client is, for the limit on failed attempts per address. None by default: the
        /// address the connection comes from.
        #[arg(long, env = "TSUNAGI_TRUSTED_PROXIES", value_delimiter = ',', value_parser = egress::parse_network)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// How long images desks upload to send are kept: LINE fetches a sent image from
        /// the relay while the patient may still open it. At least 14 days.
        #[arg(long, env = "TSUNAGI_UPLOAD_RETENTION", default_value = "14d", value_parser = tsunagi_relay::upload::parse_retention)]
        upload_retention: std::time::Duration,
        /// The most bytes of uploaded images one channel keeps (`1GiB`, `500MiB`).
        #[arg(long, env = "TSUNAGI_UPLOAD_QUOTA", default_value = "1GiB", value_parser = tsunagi_relay::upload::parse_size)]
        upload_quota: u64,
    },
    /// Show the one-time setup code for the owner's desk, while no owner has enrolled.
    SetupCode {
        #[command(flatten)]
        data: Data,
    },
    /// Print a one-time code that enrolls one device (single use, 24 hours).
    Invite {
        #[command(flatten)]
        data: Data,
        /// The channel the device will belong to. Without it, the device owns the whole
        /// relay (adds channels, reaches every one), and the role must be owner.
        #[arg(long, env = "TSUNAGI_INVITE_CHANNEL")]
        channel: Option<String>,
        #[arg(long, env = "TSUNAGI_INVITE_ROLE", value_enum)]
        role: RoleArg,
    },
    /// Copy a relay on SQLite into a new folder (its database as of one moment, and its
    /// key), while it serves.
    Backup {
        #[command(flatten)]
        data: Data,
        /// The new folder to write the backup into.
        out: PathBuf,
    },
    /// Put a backup into a data folder that holds no relay database (stop the relay and
    /// move its database away first).
    Restore {
        #[command(flatten)]
        data: Data,
        /// The backup's folder.
        backup: PathBuf,
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
        #[arg(long, env = "TSUNAGI_CHANNEL_ID")]
        id: String,
        /// A file holding the channel secret (so it never shows in a process list).
        #[arg(long, env = "TSUNAGI_CHANNEL_SECRET_FILE")]
        secret_file: PathBuf,
        /// This relay's address as LINE reaches it. With it, the credentials are checked
        /// with LINE first, LINE's webhook URL is set, and LINE's webhook test is run.
        #[arg(long, env = "TSUNAGI_PUBLIC_URL")]
        public_url: Option<String>,
        /// LINE's API (or the simulator's), for those checks.
        #[arg(long, env = "TSUNAGI_LINE_API_BASE", default_value = tsunagi_line::client::DEFAULT_API_BASE)]
        line_api_base: String,
    },
}

#[derive(clap::Args)]
struct LineArgs {
    /// This relay's address as LINE reaches it (`https://relay.example.com`): channels
    /// added over the API get `<public url>/webhook/line/<channel id>` as their webhook.
    #[arg(long, env = "TSUNAGI_PUBLIC_URL")]
    public_url: String,
    /// LINE's Messaging API, or the simulator's.
    #[arg(long, env = "TSUNAGI_LINE_API_BASE", default_value = tsunagi_line::client::DEFAULT_API_BASE)]
    line_api_base: String,
    /// LINE's content API (images, files), or the simulator's.
    #[arg(long, env = "TSUNAGI_LINE_DATA_BASE", default_value = tsunagi_line::client::DEFAULT_DATA_BASE)]
    line_data_base: String,
}

impl From<LineArgs> for LineSetup {
    fn from(args: LineArgs) -> Self {
        LineSetup {
            api_base: args.line_api_base,
            data_base: args.line_data_base,
            public_url: args.public_url,
        }
    }
}

/// Where `/metrics` is served: nowhere (the default), on an address of its own, or on the
/// main address to scrapers with a token.
#[derive(clap::Args)]
#[group(multiple = false)]
struct MetricsArgs {
    /// Serve `/metrics` here instead of on the main address (`127.0.0.1:9090`).
    #[arg(long, env = "TSUNAGI_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// A file holding the token scrapers must send (`Authorization: Bearer …`) for
    /// `/metrics` on the main address.
    #[arg(long, env = "TSUNAGI_METRICS_TOKEN_FILE")]
    metrics_token_file: Option<PathBuf>,
}

/// The file in the data directory that holds the setup code until an owner enrolls.
const SETUP_CODE_FILE: &str = "setup-code";

#[derive(clap::Args)]
struct Data {
    /// Where the relay keeps its key, users' media and (without --database) its SQLite
    /// database. Every relay process on one PostgreSQL database needs the same key file.
    #[arg(long = "data", env = "TSUNAGI_DATA")]
    dir: PathBuf,
    /// A PostgreSQL database for the log (`postgres://user:password@host/db`), which
    /// several relay processes can share; without it, SQLite in the data folder.
    #[arg(long, env = "TSUNAGI_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
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
    tsunagi_log::init("info");
    #[cfg(unix)]
    {
        raise_open_files_limit();
        private_files();
    }
    let args = settings::with_file(std::env::args_os().collect(), &Cli::command())?;
    match Cli::parse_from(args).command {
        Command::Serve {
            data,
            listen,
            line,
            metrics,
            executor_lease,
            telegram_api,
            allow_networks,
            trusted_proxies,
            upload_retention,
            upload_quota,
        } => {
            let executors = executor::Options {
                lease: executor_lease,
                ..executor::Options::default()
            };
            let services = Services {
                line: line.into(),
                telegram_api,
                egress: Egress::new(allow_networks),
                uploads: tsunagi_relay::upload::UploadLimits {
                    retention: upload_retention,
                    quota: upload_quota,
                    ..tsunagi_relay::upload::UploadLimits::default()
                },
            };
            let options = Options {
                trusted_proxies: TrustedProxies(trusted_proxies),
                ..Options::default()
            };
            serve(&data, listen, services, metrics, executors, options).await
        }
        Command::SetupCode { data } => {
            let relay = open(&data).await?;
            anyhow::ensure!(
                !relay.store.has_relay_owner().await?,
                "an owner of the relay has enrolled: invite more devices from their desk, or \
                 with `tsunagi-relay invite`"
            );
            let file = data.dir.join(SETUP_CODE_FILE);
            let code = std::fs::read_to_string(&file).with_context(|| {
                format!("no setup code in {}: start the relay first", file.display())
            })?;
            print_line(code.trim())?;
            Ok(())
        }
        Command::Backup { data, out } => {
            sqlite_only(&data, "backup")?;
            let summary = tsunagi_relay::backup::backup(&data.dir, &out).await?;
            print_line(&format!(
                "backed up {} channels and {} log entries into {}{}",
                summary.channels,
                summary.entries,
                out.display(),
                if summary.key {
                    " (with the relay's key: keep it private)"
                } else {
                    " (without a key file: keep TSUNAGI_RELAY_KEY with it)"
                }
            ))?;
            Ok(())
        }
        Command::Restore { data, backup } => {
            sqlite_only(&data, "restore")?;
            let summary = tsunagi_relay::backup::restore(&backup, &data.dir).await?;
            print_line(&format!(
                "restored {} channels and {} log entries into {}",
                summary.channels,
                summary.entries,
                data.dir.display()
            ))?;
            Ok(())
        }
        Command::Invite {
            data,
            channel,
            role,
        } => {
            let relay = open(&data).await?;
            let invited = match channel {
                Some(channel) => {
                    relay
                        .invite(&ChannelId::new(channel), role.into(), None)
                        .await
                }
                None => {
                    anyhow::ensure!(
                        matches!(role, RoleArg::Owner),
                        "a device without --channel owns the whole relay: use --role owner"
                    );
                    relay.setup_code().await
                }
            }
            .context("creating the invite")?;
            print_line(&invited.code)?;
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
            let relay = open(&data).await?;
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
                ..LineSetup::new(public_url)
            };
            let steps = line_setup::connect(&relay, &channel, secret, &setup)
                .await
                .with_context(|| format!("connecting channel {id}"))?;
            for step in &steps {
                let mark = if step.ok { "ok  " } else { "FAIL" };
                print_line(&format!("{mark} {:<13} {}", step.name, step.detail))?;
            }
            anyhow::ensure!(
                steps.iter().all(|s| s.ok),
                "the channel is stored, but not every step succeeded"
            );
            Ok(())
        }
    }
}

async fn open(data: &Data) -> Result<Relay<AnyStore>> {
    let dir = &data.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A data folder from before files were made private: what is in it is closed to
    // others through the folder.
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .with_context(|| format!("making {} private", dir.display()))?;
    let key = RelayKey::load(dir)?;
    let store = AnyStore::open(data.database.as_deref(), &dir.join("relay.db"))
        .await
        .with_context(|| match data.database {
            Some(_) => "opening the relay's PostgreSQL database (--database)".to_owned(),
            None => format!("opening the relay database in {}", dir.display()),
        })?;
    Ok(Relay::new(store, key).with_media(MediaStore::new(dir.join("media"))))
}

/// Patients' messages and media, the key, the database's journal: whatever the relay
/// creates is for its own user alone (folders 0700, files 0600), whoever else shares the
/// machine.
#[cfg(unix)]
fn private_files() {
    use nix::sys::stat::{Mode, umask};
    umask(Mode::from_bits_truncate(0o077));
}

/// Every desk's log stream is an open connection: the soft limit on open files (often
/// 1,024) goes up to the hard one.
#[cfg(unix)]
fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft < hard
        && let Err(error) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::debug!(%error, soft, hard, "raising the open-files limit");
    }
}

/// Backups here are of SQLite; PostgreSQL has its own tools.
fn sqlite_only(data: &Data, command: &str) -> Result<()> {
    anyhow::ensure!(
        data.database.is_none(),
        "`{command}` is for a relay on SQLite: back a PostgreSQL database up with pg_dump (or \
         base backups) and restore it with pg_restore"
    );
    Ok(())
}

/// Writes to stdout, for what the person at the terminal needs (codes, steps); logs go to
/// stderr and never carry codes.
fn print_line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, format!("{text}\n").as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// The services the relay calls: LINE, and Telegram for alerts; and where else the
/// relay may call (the AI endpoints owners name).
struct Services {
    line: LineSetup,
    telegram_api: String,
    egress: Egress,
    uploads: tsunagi_relay::upload::UploadLimits,
}

async fn serve(
    data: &Data,
    listen: SocketAddr,
    services: Services,
    metrics: MetricsArgs,
    executors: executor::Options,
    options: Options,
) -> Result<()> {
    let dir = &data.dir;
    let line = services.line;
    services
        .egress
        .check(&services.telegram_api)
        .with_context(|| {
            format!(
                "--telegram-api {}: the relay would not call it (allow its network with \
                 --allow-networks)",
                services.telegram_api
            )
        })?;
    if !services.egress.allowed().is_empty() {
        tracing::info!(networks = ?services.egress.allowed(), "the relay may call these networks beside the public internet");
    }
    let relay = Arc::new(
        open(data)
            .await?
            .with_line(line.clone())
            .with_egress(services.egress)
            .with_telegram_api(&services.telegram_api)
            .with_media(MediaStore::new(dir.join("media")).with_upload_limits(services.uploads)),
    );
    tracing::info!(store = relay.store.backend(), "the log is open");
    if !relay.store.has_relay_owner().await? {
        let invited = relay.setup_code().await.context("creating a setup code")?;
        let file = dir.join(SETUP_CODE_FILE);
        write_private(&file, &format!("{}\n", invited.code))?;
        // On a terminal the person starting the relay reads it; in a service's log it
        // would outlive its use, so there it is only said where to find it.
        if std::io::stdout().is_terminal() {
            print_line(&format!(
                "setup code for the owner's desk (works once, for 24 hours): {}",
                invited.code
            ))?;
        } else {
            print_line(&format!(
                "a setup code for the owner's desk is in {} (`tsunagi-relay setup-code --data {}` shows it)",
                file.display(),
                dir.display()
            ))?;
        }
    }
    let access = match (&metrics.metrics_listen, &metrics.metrics_token_file) {
        (Some(_), _) => MetricsAccess::Elsewhere,
        (None, Some(file)) => {
            let token = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let token = token.trim().to_owned();
            anyhow::ensure!(!token.is_empty(), "{} is empty", file.display());
            MetricsAccess::Token(token)
        }
        // Not on the public address unless asked for.
        (None, None) => {
            tracing::info!(
                "metrics are off: --metrics-listen 127.0.0.1:9090 serves them on a private address, --metrics-token-file here to scrapers with the token"
            );
            MetricsAccess::Elsewhere
        }
    };
    if let Some(address) = metrics.metrics_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening for metrics on {address}"))?;
        tracing::info!(%address, "metrics serving");
        let router = tsunagi_relay::http::metrics_router(relay.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the metrics address stopped serving");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "relay serving");
    let executors = tokio::spawn(executor::run(relay.clone(), line, executors));
    // Uploads LINE can no longer fetch: on start, then hourly, until the relay closes.
    let sweeps = tokio::spawn(tsunagi_relay::sweep::keep_sweeping(relay.clone()));
    let options = Options {
        metrics: access,
        ..options
    };
    tsunagi_relay::http::serve(listener, relay, options, async {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests, closing streams");
    })
    .await
    .context("serving")?;
    // Serving ends by closing the relay, which stops the executors at their next step.
    executors.await.context("stopping the executors")?;
    sweeps.await.context("stopping the sweeps of uploads")?;
    tracing::info!("relay stopped");
    Ok(())
}

/// Writes `text` to a file only its owner can read (0600 on Unix), replacing it.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // A file left from before keeps its mode: narrow it too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    file.sync_all()?;
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
