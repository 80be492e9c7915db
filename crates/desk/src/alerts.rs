//! What a desk alerts its operator to, and how. Three pure steps the app only carries out:
//!
//! 1. [`decide`]: from what the log just said ([`Happened`], recorded by the projection)
//!    and where each chat stands now, the alerts for this operator. Only for entries
//!    applied live: history caught up on is not news.
//! 2. [`Preferences::present`]: the operator's own settings (which kinds, quiet hours,
//!    only when the window is in the background, paused) decide whether an alert is
//!    shown, and the privacy setting what it may say. A notice never carries more.
//! 3. [`Repeats`]: a chat handed to people is alerted again every so often until someone
//!    takes it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::civil::{Time, Weekday};
use serde::{Deserialize, Serialize};
use tsunagi_proto::{ConversationId, OpId, OperatorId};

use crate::Changes;

/// Something the log said that may call for an alert, as the projection applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    /// A patient wrote words of an emergency: every desk is alerted, whatever it prefers.
    RedFlag { conversation: ConversationId },
    /// The relay's executor asked for people: a patient is waiting in the queue.
    Handoff { conversation: ConversationId },
    /// A chat waited too long for anyone: the executor escalated it to the owners.
    Escalated { conversation: ConversationId },
    /// A patient wrote (`message` is the message's id in the store).
    PatientWrote {
        conversation: ConversationId,
        message: i64,
        /// The chat as the message found it (not as it stands when the batch is decided:
        /// the handoff the message asked for may be applied by then).
        chat: Chat,
    },
    /// An operator handed a chat to another.
    Transferred {
        conversation: ConversationId,
        to: OperatorId,
        by: OperatorId,
    },
    /// LINE did not take a message the team (or the bot) sent.
    SendFailed {
        conversation: ConversationId,
        /// Who wrote it (the executor's device for the bot's own messages).
        author: Option<OperatorId>,
    },
    /// Some patients did not get a reminder.
    ReminderFailed {
        reminder: OpId,
        by: OperatorId,
        failed: usize,
    },
}

/// Where a chat stands now, as far as alerts care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chat {
    /// In the queue, for anyone to claim.
    pub waiting: bool,
    /// Who answers it, if someone does.
    pub holder: Option<OperatorId>,
}

/// A conversation's session state and who holds it, for [`Chat::standing`]: read by the
/// projection as it writes, and by the alerts' repeats after.
const CHAT_STANDING: &str = "SELECT state, operator FROM conversations WHERE id = ?1";

impl Chat {
    /// From a conversation's row: its session state and who holds it.
    fn standing(state: Option<&str>, operator: Option<String>) -> Chat {
        Chat {
            waiting: state == Some("waiting"),
            holder: operator
                .filter(|_| state == Some("active"))
                .map(OperatorId::new),
        }
    }

    /// Where `conversation` stands in the store being written (the projection's view).
    pub(crate) fn read(
        db: &rusqlite::Connection,
        conversation: &ConversationId,
    ) -> rusqlite::Result<Chat> {
        use rusqlite::OptionalExtension as _;
        let row: Option<(Option<String>, Option<String>)> = db
            .query_row(CHAT_STANDING, [conversation.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        Ok(row.map_or_else(Chat::default, |(state, operator)| {
            Chat::standing(state.as_deref(), operator)
        }))
    }
}

/// Who is alerted: this desk's operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub operator: OperatorId,
    /// Owners hear of escalations.
    pub owner: bool,
}

/// What an alert is about; each kind has its own switch and sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AlertKind {
    /// A patient wrote words of an emergency (alerted to everyone, even in quiet hours or
    /// while alerts are paused, and again until claimed). It cannot be turned off.
    RedFlag,
    /// A patient asked for a person (alerted to everyone, and again until claimed).
    Handoff,
    /// Nobody took a waiting chat for minutes (owners).
    Escalation,
    /// A message in a chat I answer.
    MyChat,
    /// A chat someone handed to me.
    Transferred,
    /// A message from a patient who waits in the queue.
    Waiting,
    /// A message of mine LINE did not take.
    SendFailed,
    /// A reminder I scheduled missed some patients.
    ReminderFailed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 8] = [
        AlertKind::RedFlag,
        AlertKind::Handoff,
        AlertKind::Escalation,
        AlertKind::MyChat,
        AlertKind::Transferred,
        AlertKind::Waiting,
        AlertKind::SendFailed,
        AlertKind::ReminderFailed,
    ];
}

/// One alert for this operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    /// The chat it opens, if it is about one.
    pub conversation: Option<ConversationId>,
    /// The patient's message it is about, for a preview the settings allow.
    pub message: Option<i64>,
    /// Reminders: how many patients it missed.
    pub count: usize,
}

/// The alerts an applied batch calls for, given where each chat stands now (`chat`; `None`
/// for a chat the store does not have). None for a batch caught up on rather than applied
/// as it happened; at most one per chat, the most pressing; in the order they happened.
pub fn decide(
    changes: &Changes,
    chat: impl Fn(&ConversationId) -> Option<Chat>,
    me: &Me,
) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = Vec::new();
    if !changes.live {
        return alerts;
    }
    let mut per_chat: HashMap<ConversationId, usize> = HashMap::new();
    for happening in &changes.happened {
        let Some(alert) = decide_one(happening, &chat, me) else {
            continue;
        };
        match alert.conversation.as_ref().and_then(|c| per_chat.get(c)) {
            Some(&at) => {
                let kept = &mut alerts[at];
                if alert.kind < kept.kind {
                    kept.kind = alert.kind;
                }
                // The newest message is the one to preview.
                if alert.message.is_some() {
                    kept.message = alert.message;
                }
            }
            None => {
                if let Some(conversation) = &alert.conversation {
                    per_chat.insert(conversation.clone(), alerts.len());
                }
                alerts.push(alert);
            }
        }
    }
    alerts
}

fn decide_one(
    happened: &Happened,
    chat: impl Fn(&ConversationId) -> Option<Chat>,
    me: &Me,
) -> Option<Alert> {
    let about = |kind, conversation: &ConversationId, message| Alert {
        kind,
        conversation: Some(conversation.clone()),
        message,
        count: 0,
    };
    match happened {
        Happened::RedFlag { conversation } => Some(about(AlertKind::RedFlag, conversation, None)),
        Happened::Handoff { conversation } => chat(conversation)
            .is_some_and(|c| c.waiting)
            .then(|| about(AlertKind::Handoff, conversation, None)),
        Happened::Escalated { conversation } => (me.owner
            && chat(conversation).is_some_and(|c| c.waiting))
        .then(|| about(AlertKind::Escalation, conversation, None)),
        Happened::PatientWrote {
            conversation,
            message,
            chat: then,
        } => {
            let kind = if then.holder.as_ref() == Some(&me.operator) {
                AlertKind::MyChat
            } else if then.waiting {
                AlertKind::Waiting
            } else {
                return None;
            };
            Some(about(kind, conversation, Some(*message)))
        }
        Happened::Transferred {
            conversation,
            to,
            by,
        } => (to == &me.operator
            && by != &me.operator
            && chat(conversation).is_some_and(|c| c.holder.as_ref() == Some(&me.operator)))
        .then(|| about(AlertKind::Transferred, conversation, None)),
        Happened::SendFailed {
            conversation,
            author,
        } => {
            let mine = author.as_ref() == Some(&me.operator);
            // The bot's own message: whoever answers the chat hears of it.
            let bots = author
                .as_ref()
                .is_none_or(|a| a.as_str() == tsunagi_proto::EXECUTOR_DEVICE)
                && chat(conversation).is_some_and(|c| c.holder.as_ref() == Some(&me.operator));
            (mine || bots).then(|| about(AlertKind::SendFailed, conversation, None))
        }
        Happened::ReminderFailed { by, failed, .. } => (by == &me.operator && *failed > 0)
            .then_some(Alert {
                kind: AlertKind::ReminderFailed,
                conversation: None,
                message: None,
                count: *failed,
            }),
    }
}

/// How much a notice may say: front-desk screens are seen by patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Privacy {
    /// The patient's name and their message.
    Full,
    /// The patient's name, never what they wrote.
    #[default]
    NameOnly,
    /// Only that something is new: no name, no text.
    Nothing,
}

/// One kind's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KindSetting {
    pub on: bool,
    /// The bundled sound's name; `None` is silent.
    pub sound: Option<String>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<Weekday> for Day {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Monday => Day::Monday,
            Weekday::Tuesday => Day::Tuesday,
            Weekday::Wednesday => Day::Wednesday,
            Weekday::Thursday => Day::Thursday,
            Weekday::Friday => Day::Friday,
            Weekday::Saturday => Day::Saturday,
            Weekday::Sunday => Day::Sunday,
        }
    }
}

/// Times of the week when nothing alerts, in the clinic's time zone. A span that ends
/// before it starts runs past midnight, into the next day; `days` are the days it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuietHours {
    pub days: Vec<Day>,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub from: Time,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub until: Time,
}

impl QuietHours {
    /// Whether `at` (the clinic's wall clock) falls in the quiet span.
    pub fn covers(&self, at: jiff::civil::DateTime) -> bool {
        let starts_on = |day: Weekday| self.days.contains(&Day::from(day));
        let time = at.time();
        if self.from <= self.until {
            starts_on(at.weekday()) && self.from <= time && time < self.until
        } else {
            (starts_on(at.weekday()) && time >= self.from)
                || (starts_on(at.weekday().previous()) && time < self.until)
        }
    }
}

/// An operator's alert settings, kept on their desk (not in the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preferences {
    pub kinds: BTreeMap<AlertKind, KindSetting>,
    /// 0 to 100.
    pub volume: u8,
    pub quiet: Option<QuietHours>,
    /// Alert only while the window is not the one in front.
    pub only_unfocused: bool,
    pub privacy: Privacy,
    /// A handoff nobody took is alerted again after this many seconds.
    pub repeat_seconds: u32,
}

impl Default for Preferences {
    fn default() -> Self {
        let sound = |name: &str| Some(name.to_owned());
        let kinds = AlertKind::ALL
            .into_iter()
            .map(|kind| {
                let sound = match kind {
                    AlertKind::RedFlag => sound("alarm"),
                    AlertKind::Handoff | AlertKind::Escalation => sound("bell"),
                    AlertKind::MyChat | AlertKind::Transferred | AlertKind::Waiting => {
                        sound("chime")
                    }
                    AlertKind::SendFailed | AlertKind::ReminderFailed => sound("alarm"),
                };
                (kind, KindSetting { on: true, sound })
            })
            .collect();
        Preferences {
            kinds,
            volume: 80,
            quiet: None,
            only_unfocused: false,
            privacy: Privacy::NameOnly,
            repeat_seconds: 60,
        }
    }
}

/// What the app knows when it is about to show an alert.
#[derive(Debug, Clone)]
pub struct Moment {
    /// The clinic's wall clock.
    pub at: jiff::civil::DateTime,
    /// The app's window is the one in front.
    pub focused: bool,
    /// Alerts are paused (from the tray) until after `at`.
    pub paused: bool,
}

/// What a notice shows, no more than the settings allow. The app words it in the
/// operator's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub kind: AlertKind,
    pub conversation: Option<String>,
    /// The patient's name, when the privacy setting shows names.
    pub name: Option<String>,
    /// What they wrote, when the privacy setting shows messages.
    pub text: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: usize,
    pub sound: Option<String>,
    pub volume: u8,
}

/// The body of a native notification as the notification server is to get it. A
/// freedesktop server that reads markup in bodies (it says `body-markup`: GNOME, KDE,
/// dunst, mako) renders `<b>`, `<i>`, `<u>`, `<a href>` and `<img>` there, so a patient's
/// name or message (`<a href="https://…">Your results</a>`) would arrive as a link or a
/// picture the clinic never wrote: for such a server every character markup reads is
/// escaped, and the words show as they were typed. A server that reads no markup, and the
/// other systems' notifications, take the text as it is. (The summary is plain text for
/// every server, by the specification.)
pub fn notification_body(text: &str, server_reads_markup: bool) -> std::borrow::Cow<'_, str> {
    const READ_BY_MARKUP: [char; 5] = ['&', '<', '>', '"', '\''];
    if !server_reads_markup || !text.contains(READ_BY_MARKUP) {
        return text.into();
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped.into()
}

/// A handoff nobody took is alerted again this soon at the soonest.
pub const MIN_REPEAT_SECONDS: u32 = 10;

impl Preferences {
    /// What makes these preferences unusable, in words; empty when they can be kept.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.volume > 100 {
            problems.push(format!("the volume is 0 to 100, not {}", self.volume));
        }
        if self.repeat_seconds < MIN_REPEAT_SECONDS {
            problems.push(format!(
                "a handoff is alerted again after {MIN_REPEAT_SECONDS} seconds at the soonest, not {}",
                self.repeat_seconds
            ));
        }
        problems
    }

    /// How long after an alert an unclaimed handoff is alerted again (never sooner than
    /// [`MIN_REPEAT_SECONDS`], whatever a hand-edited file says).
    pub fn repeat_every(&self) -> Duration {
        Duration::from_secs(u64::from(self.repeat_seconds.max(MIN_REPEAT_SECONDS)))
    }

    /// Whether the operator is alerted to `alert` at `moment`, and what its notice says:
    /// `name` and `text` are the patient's, shown only as far as the privacy setting lets.
    pub fn present(
        &self,
        alert: &Alert,
        moment: &Moment,
        name: Option<&str>,
        text: Option<&str>,
    ) -> Option<Notice> {
        let urgent = alert.kind == AlertKind::RedFlag;
        let setting = match self.kinds.get(&alert.kind) {
            Some(setting) => setting.clone(),
            // Preferences kept before red flags existed.
            None if urgent => Preferences::default().kinds[&alert.kind].clone(),
            None => return None,
        };
        let quiet = self.quiet.as_ref().is_some_and(|q| q.covers(moment.at));
        let held = !setting.on || quiet || moment.paused || (self.only_unfocused && moment.focused);
        // Words of an emergency come through whatever this operator set.
        if held && !urgent {
            return None;
        }
        let (name, text) = match self.privacy {
            Privacy::Full => (name, text),
            Privacy::NameOnly => (name, None),
            Privacy::Nothing => (None, None),
        };
        Some(Notice {
            kind: alert.kind,
            conversation: alert.conversation.as_ref().map(ToString::to_string),
            name: name.map(str::to_owned),
            text: text.map(str::to_owned),
            count: alert.count,
            sound: setting.sound.or_else(|| urgent.then(|| "alarm".to_owned())),
            volume: if urgent {
                self.volume.max(60)
            } else {
                self.volume
            }
            .min(100),
        })
    }
}

/// Handoffs (and red flags) nobody has taken yet, and when each is alerted again.
#[derive(Debug, Default)]
pub struct Repeats {
    due: BTreeMap<ConversationId, (Instant, AlertKind)>,
}

impl Repeats {
    /// Alerts just shown: a handoff or red flag among them is repeated `every` from `now`.
    pub fn shown(&mut self, alerts: &[Alert], now: Instant, every: Duration) {
        for alert in alerts {
            if let (kind @ (AlertKind::Handoff | AlertKind::RedFlag), Some(conversation)) =
                (alert.kind, &alert.conversation)
            {
                // A red flag stays one until the chat is taken.
                let kind = match self.due.get(conversation) {
                    Some((_, AlertKind::RedFlag)) => AlertKind::RedFlag,
                    _ => kind,
                };
                self.due.insert(conversation.clone(), (now + every, kind));
            }
        }
    }

    /// The alerts to raise again at `now`, for chats still waiting by `chat`; those that
    /// are not (claimed on any desk, closed, given back to the bot) are forgotten.
    pub fn due(
        &mut self,
        now: Instant,
        every: Duration,
        chat: impl Fn(&ConversationId) -> Option<Chat>,
    ) -> Vec<Alert> {
        self.due
            .retain(|conversation, _| chat(conversation).is_some_and(|c| c.waiting));
        let mut again = Vec::new();
        for (conversation, (at, kind)) in &mut self.due {
            if *at <= now {
                *at = now + every;
                again.push(Alert {
                    kind: *kind,
                    conversation: Some(conversation.clone()),
                    message: None,
                    count: 0,
                });
            }
        }
        again
    }

    /// The chats whose alert is repeated (to read where they stand before [`Self::due`]).
    pub fn tracked(&self) -> Vec<ConversationId> {
        self.due.keys().cloned().collect()
    }

    /// When the next repeat falls due, if any waits.
    pub fn next(&self) -> Option<Instant> {
        self.due.values().map(|(at, _)| *at).min()
    }
}

impl Happened {
    fn conversation(&self) -> Option<&ConversationId> {
        match self {
            Happened::RedFlag { conversation }
            | Happened::Handoff { conversation }
            | Happened::Escalated { conversation }
            | Happened::PatientWrote { conversation, .. }
            | Happened::Transferred { conversation, .. }
            | Happened::SendFailed { conversation, .. } => Some(conversation),
            Happened::ReminderFailed { .. } => None,
        }
    }
}

impl crate::Store {
    /// The alerts an applied batch calls for on this desk ([`decide`], with the chats as
    /// the store has them now).
    pub async fn alerts(&self, changes: &Changes, me: &Me) -> crate::Result<Vec<Alert>> {
        if !changes.live || changes.happened.is_empty() {
            return Ok(Vec::new());
        }
        let mut chats = HashMap::new();
        // (A patient's message carries its chat as it found it.)
        let decided_by_now = changes
            .happened
            .iter()
            .filter(|h| !matches!(h, Happened::PatientWrote { .. }));
        for conversation in decided_by_now.filter_map(Happened::conversation) {
            if !chats.contains_key(conversation) {
                let chat = self.alert_chat(conversation).await?;
                chats.insert(conversation.clone(), chat);
            }
        }
        Ok(decide(changes, |c| chats.get(c).cloned().flatten(), me))
    }

    /// Where a chat stands, as far as alerts care.
    pub async fn alert_chat(&self, conversation: &ConversationId) -> crate::Result<Option<Chat>> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(CHAT_STANDING)
            .bind(conversation.as_str())
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.map(|(state, operator)| Chat::standing(state.as_deref(), operator)))
    }

    /// The patient's name and the text of the message an alert is about, for the notice
    /// ([`Preferences::present`] decides how much of it shows).
    pub async fn alert_words(
        &self,
        alert: &Alert,
    ) -> crate::Result<(Option<String>, Option<String>)> {
        let Some(conversation) = &alert.conversation else {
            return Ok((None, None));
        };
        let name: Option<String> = sqlx::query_scalar(
            "SELECT display_name FROM contacts WHERE user_id = ? AND display_name <> ''",
        )
        .bind(conversation.as_str())
        .fetch_optional(&self.readers)
        .await?;
        let text: Option<String> = match alert.message {
            Some(message) => sqlx::query_scalar::<_, Option<String>>(
                "SELECT text FROM messages WHERE id = ? AND NOT unsent",
            )
            .bind(message)
            .fetch_optional(&self.readers)
            .await?
            .flatten(),
            None => None,
        };
        Ok((name, text))
    }
}

#[cfg(test)]
mod tests;
