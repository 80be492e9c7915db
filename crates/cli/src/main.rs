//! `tsunagi-cli`: Tsunagi without a window, for tests, scripts and admins. Everything it
//! does goes through `tsunagi-desk`, as the app's does.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::process::ExitCode;
use tsunagi_desk::Error as DeskError;
use tsunagi_desk::actions::{HandoffRequest, Outgoing, Settled};
use tsunagi_desk::credentials::{Kept, Vault};
use tsunagi_desk::profile::{self, JoinRequest, Joined};
use tsunagi_desk::query::{InboxList, MessagesPage};
use tsunagi_desk::sync::SyncOptions;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::{ConversationId, OpId, UnixMillis};
use url::Url;

const SERVICE: &str = "app.tsunagi.cli";

#[derive(Parser)]
#[command(version, about = "Tsunagi from a terminal")]
struct Cli {
    /// Where this client keeps its store and settings.
    #[arg(long, global = true, env = "TSUNAGI_CLI_DATA")]
    data: Option<PathBuf>,
    /// Keep the device token in a file only you can read, never in the OS keyring.
    #[arg(long, global = true, env = "TSUNAGI_CLI_NO_KEYRING")]
    no_keyring: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enroll this client with a relay, using a one-time code.
    Enroll {
        #[arg(long)]
        relay: Url,
        #[arg(long)]
        code: String,
        /// Your name, as your team sees it.
        #[arg(long, default_value = "tsunagi-cli")]
        operator: String,
        #[arg(long, default_value = "tsunagi-cli")]
        device_name: String,
        /// Which channel to follow, when the code is for the whole relay.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Bring the local store up to the log (and send what waits in the outbox).
    Sync {
        /// Keep following the log until Ctrl-C.
        #[arg(long)]
        follow: bool,
    },
    /// List conversations.
    Inbox {
        #[arg(long, value_enum, default_value = "waiting")]
        list: ListArg,
        #[arg(long)]
        json: bool,
    },
    /// A conversation's messages and sessions.
    Show {
        conversation: String,
        #[arg(long)]
        json: bool,
    },
    /// Search message text and contact names.
    Search {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Take a conversation.
    Claim { conversation: String },
    /// End a conversation's session; the bot has it again.
    Close { conversation: String },
    /// Send a text message.
    Send { conversation: String, text: String },
    /// Give a conversation to the bot or to people.
    Mode {
        conversation: String,
        #[arg(value_enum)]
        mode: ModeArg,
    },
    /// How the team did: sessions, response and resolution times, CSAT, first-contact
    /// resolution, overall and per operator, for sessions started in the last days.
    Report {
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// As CSV, for a spreadsheet.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        #[arg(long)]
        json: bool,
    },
    /// Everything kept about one patient, as one archive (owners): their profile, every
    /// message both ways with what became of it, notes, tags, sessions, reminders and
    /// files. The audit keeps that you took it.
    Export {
        /// The patient's LINE user id (`U…`).
        user_id: String,
        /// Where to write the archive (a zip).
        #[arg(long)]
        out: PathBuf,
    },
    /// Erases everything kept about one patient (owners), from the relay and every desk:
    /// their messages, files, notes, tags, fields, consents and reminders. It cannot be
    /// undone. The audit keeps that you erased this LINE user id, and when.
    Erase {
        /// The patient's LINE user id (`U…`).
        user_id: String,
        /// The same user id again, to confirm without being asked (for scripts).
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Ops made here that are not in the log yet.
    Pending {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ListArg {
    Waiting,
    Mine,
    Active,
    Bot,
    Closed,
}

impl From<ListArg> for InboxList {
    fn from(list: ListArg) -> Self {
        match list {
            ListArg::Waiting => InboxList::Waiting,
            ListArg::Mine => InboxList::Mine,
            ListArg::Active => InboxList::Active,
            ListArg::Bot => InboxList::Bot,
            ListArg::Closed => InboxList::Closed,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Bot,
    Human,
}

fn print(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

fn print_json(value: &impl Serialize) -> Result<()> {
    print(&serde_json::to_string_pretty(value)?);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tsunagi_log::init("warn");
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// This client's desk, opened: its profile, and its sync with the relay.
async fn open(data: &Path, vault: &Vault) -> Result<Joined> {
    profile::open(data, vault, SyncOptions::default())
        .await
        .context("opening the desk")?
        .with_context(|| {
            format!(
                "{} is not enrolled yet: run `tsunagi-cli --data {} enroll --relay URL --code CODE`",
                data.display(),
                data.display()
            )
        })
}

/// Waits until the action queued as `made` is in the log and applied here, and says what
/// became of it: exit 0 done, 2 refused, 3 waiting for a relay out of reach.
async fn settle(desk: &Joined, made: Result<OpId, DeskError>) -> Result<ExitCode> {
    let settled = match made {
        Ok(op_id) => desk.settle(op_id).await,
        Err(error) => Err(error),
    };
    match settled {
        Ok(Settled::Done(seq)) => {
            print(&format!("done (entry {seq})"));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Settled::NotDone { reason, .. }) => {
            print(&format!("not done: {reason}"));
            Ok(ExitCode::from(2))
        }
        Err(DeskError::Relay(error)) if error.is_transient() => {
            print(&format!(
                "the relay is out of reach ({error}); the change waits here and goes out on the next sync"
            ));
            Ok(ExitCode::from(3))
        }
        Err(error) => Err(error.into()),
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let data = match cli.data {
        Some(data) => data,
        None => dirs::data_dir()
            .context("no data directory on this system: pass --data DIR")?
            .join("tsunagi-cli"),
    };
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let mut vault = Vault::new(SERVICE, &data);
    if cli.no_keyring {
        vault = vault.without_keyring();
    }
    let conversation = |id: &str| ConversationId::from(id.trim());
    match cli.command {
        Command::Enroll {
            relay,
            code,
            operator,
            device_name,
            channel,
        } => {
            enroll(&data, &vault, relay, code, operator, device_name, channel).await?;
        }
        Command::Sync { follow } => {
            let desk = open(&data, &vault).await?;
            if follow {
                let mut notices = desk.sync.subscribe();
                let report = tokio::spawn(async move {
                    while let Ok(changes) = notices.recv().await {
                        print(&format!(
                            "at {}: {} conversation(s), {} contact(s) changed",
                            changes.cursor,
                            changes.conversations.len(),
                            changes.contacts.len()
                        ));
                    }
                });
                desk.sync
                    .run(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await?;
                report.abort();
            } else {
                let _ = desk.sync.refresh_operators().await;
                let sent = desk.sync.push().await?;
                let head = desk.sync.pull().await?;
                print(&format!(
                    "in step with the log at entry {head}; {sent} op(s) sent"
                ));
            }
        }
        Command::Inbox { list, json } => {
            let desk = open(&data, &vault).await?;
            let me = desk.profile.me();
            let items = desk
                .store()
                .inbox(list.into(), Some(&me), UnixMillis::now(), None, 100)
                .await?;
            if json {
                print_json(&items)?;
            } else if items.is_empty() {
                print("nothing here");
            } else {
                for item in items {
                    let who = item.name.as_deref().unwrap_or(item.conversation.as_str());
                    let queue = item
                        .queue_position
                        .map(|p| format!("#{p} "))
                        .unwrap_or_default();
                    print(&format!(
                        "{queue}{who}  [{}]  {}  ({} unread)",
                        item.conversation,
                        item.preview.unwrap_or_default(),
                        item.unread
                    ));
                }
            }
        }
        Command::Show {
            conversation: id,
            json,
        } => {
            let desk = open(&data, &vault).await?;
            let id = conversation(&id);
            let Some(summary) = desk.sync.store().conversation(&id).await? else {
                bail!("this desk has never seen conversation {id}");
            };
            let messages = desk
                .store()
                .messages(&id, MessagesPage::Newest, 100)
                .await?;
            let sessions = desk.sync.store().sessions(&id).await?;
            if json {
                print_json(&serde_json::json!({
                    "conversation": summary,
                    "messages": messages,
                    "sessions": sessions,
                }))?;
            } else {
                print(&format!("{id} ({:?})", summary.mode));
                for m in messages {
                    let who = m.author_name.or(m.author).unwrap_or_default();
                    let text = if m.unsent {
                        "(unsent)".to_owned()
                    } else {
                        m.text.unwrap_or_else(|| format!("[{}]", m.message_type))
                    };
                    let status = m.send_status.map(|s| format!(" ({s})")).unwrap_or_default();
                    print(&format!(
                        "{:>6} {:<6} {who}: {text}{status}",
                        m.seq, m.direction
                    ));
                }
            }
        }
        Command::Search { text, json } => {
            let desk = open(&data, &vault).await?;
            let hits = desk.sync.store().search(&text, 50).await?;
            if json {
                print_json(&hits)?;
            } else {
                for hit in hits {
                    let snippet: String = hit
                        .snippet
                        .iter()
                        .map(|p| {
                            if p.hit {
                                format!("[{}]", p.text)
                            } else {
                                p.text.clone()
                            }
                        })
                        .collect();
                    let place = hit.conversation.map(|c| c.to_string()).unwrap_or_default();
                    print(&format!("{place}  {snippet}"));
                }
            }
        }
        Command::Claim { conversation: id } => {
            let desk = open(&data, &vault).await?;
            let made = desk.handoff(conversation(&id), HandoffRequest::Claim).await;
            return settle(&desk, made).await;
        }
        Command::Close { conversation: id } => {
            let desk = open(&data, &vault).await?;
            let made = desk.handoff(conversation(&id), HandoffRequest::Close).await;
            return settle(&desk, made).await;
        }
        Command::Send {
            conversation: id,
            text,
        } => {
            let desk = open(&data, &vault).await?;
            let outgoing = Outgoing::Text {
                text,
                quote_token: None,
            };
            let made = desk.send(conversation(&id), outgoing).await;
            return settle(&desk, made).await;
        }
        Command::Mode {
            conversation: id,
            mode,
        } => {
            let desk = open(&data, &vault).await?;
            let request = match mode {
                ModeArg::Bot => HandoffRequest::ToBot,
                ModeArg::Human => HandoffRequest::ToPeople,
            };
            let made = desk.handoff(conversation(&id), request).await;
            return settle(&desk, made).await;
        }
        Command::Report { days, csv, json } => {
            let desk = open(&data, &vault).await?;
            let to = UnixMillis::now();
            let from = UnixMillis(to.0 - i64::from(days) * 24 * 60 * 60 * 1000);
            let report = desk
                .sync
                .store()
                .analytics(from, UnixMillis(to.0 + 1))
                .await?;
            if csv {
                print(report.to_csv().trim_end());
            } else if json {
                print_json(&report)?;
            } else {
                let f = &report.overall;
                let seconds = |ms: Option<f64>| {
                    ms.map_or("-".to_owned(), |ms| format!("{:.0} s", ms / 1000.0))
                };
                print(&format!(
                    "last {days} days: {} sessions ({} closed), first response {}, resolution {}, CSAT {} ({} answers)",
                    f.sessions,
                    f.closed,
                    seconds(f.first_response_ms),
                    seconds(f.resolution_ms),
                    f.csat_average.map_or("-".to_owned(), |c| format!("{c:.1}")),
                    f.csat_answers
                ));
                for operator in &report.operators {
                    print(&format!(
                        "  {}: {} sessions, first response {}",
                        operator.name.as_deref().unwrap_or(&operator.operator),
                        operator.figures.sessions,
                        seconds(operator.figures.first_response_ms)
                    ));
                }
            }
        }
        Command::Export { user_id, out } => {
            let desk = open(&data, &vault).await?;
            // What the log holds now, not what this desk last saw.
            desk.sync.pull().await?;
            let exported = desk.export_contact(&UserId::new(user_id), &out).await?;
            let missing = match exported.files_missing {
                0 => String::new(),
                n => format!(" ({n} file(s) the relay no longer has)"),
            };
            print(&format!(
                "exported {} message(s) and {} file(s) to {}{missing}",
                exported.messages,
                exported.files,
                out.display()
            ));
        }
        Command::Erase { user_id, confirm } => {
            let typed = match confirm {
                Some(typed) => typed,
                None => ask(&format!(
                    "This erases everything kept about {user_id}, on the relay and on every \
                     desk, and cannot be undone.\nType the user id again to erase: "
                ))?,
            };
            if typed.trim() != user_id {
                bail!("not erased: the user id typed to confirm is not {user_id}");
            }
            let desk = open(&data, &vault).await?;
            desk.erase_contact(&UserId::new(user_id.as_str())).await?;
            print(&format!(
                "erased {user_id}: the relay and this desk hold nothing of them now, \
                 and every other desk purges them when it next syncs"
            ));
        }
        Command::Pending { json } => {
            let desk = open(&data, &vault).await?;
            let pending = desk.sync.store().pending().await?;
            if json {
                print_json(&pending)?;
            } else {
                for op in pending {
                    let state = if op.refused { "refused" } else { "waiting" };
                    let why = op.last_error.unwrap_or_default();
                    print(&format!("{} {state} {why}", op.op_id));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn enroll(
    data: &Path,
    vault: &Vault,
    relay: Url,
    code: String,
    operator: String,
    device_name: String,
    channel: Option<String>,
) -> Result<()> {
    let request = JoinRequest {
        relay: relay.to_string(),
        code,
        operator_name: operator,
        device_name,
        channel: channel.map(ChannelId::new),
    };
    let (profile, kept) = profile::join(data, vault, &request)
        .await
        .context("enrolling")?;
    if let Kept::File(path) = kept {
        eprintln!(
            "warning: no OS keyring answered; the device token is in {} (readable by you alone)",
            path.display()
        );
    }
    match &profile.channel_id {
        Some(channel) => print(&format!(
            "enrolled as {} ({:?}) on channel {channel}",
            profile.operator, profile.role
        )),
        None => print(&format!(
            "enrolled as {} ({:?}); the relay has no LINE channel yet: connect one from the app",
            profile.operator, profile.role
        )),
    }
    Ok(())
}

/// Asks on the terminal; the line typed, without its end.
fn ask(question: &str) -> Result<String> {
    use std::io::Write as _;
    let mut err = std::io::stderr();
    err.write_all(question.as_bytes())?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
