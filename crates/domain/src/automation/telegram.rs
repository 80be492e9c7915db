//! Telegram alerts: which happenings in the log the owners hear of on Telegram, and in
//! what words. The relay's executor sends them, once each.

use tsunagi_line::UserId;
use tsunagi_proto::UnixMillis;
use tsunagi_proto::{AlertReason, ConversationId, Credential, Entry, Seq, TelegramSettings};

use super::Bot;

/// An alert to send to the owners' Telegram chats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TelegramAlert {
    /// The entry that caused it: its id in the log.
    pub cause: Seq,
    pub at: UnixMillis,
    /// What it says, in the language of the settings.
    pub text: String,
    /// The chat it is about, which its link opens.
    pub conversation: Option<ConversationId>,
    /// The language it is written in.
    pub language: String,
    /// Its sending was noted: it may have gone out.
    pub noted: bool,
}

impl TelegramAlert {
    /// The message to send: the text, and a link that opens the chat in Tsunagi.
    pub fn message(&self, channel: &str) -> String {
        match &self.conversation {
            Some(conversation) => format!(
                "{}\n{} tsunagi://chat/{channel}/{conversation}",
                self.text,
                words(&self.language).open
            ),
            None => self.text.clone(),
        }
    }
}

impl Bot {
    /// Telegram's settings, when alerts are set up and the relay has the bot's token.
    pub fn telegram(&self) -> Option<&TelegramSettings> {
        self.settings
            .telegram
            .as_ref()
            .filter(|t| !t.chats.is_empty())
            .filter(|_| self.credentials.contains(&Credential::TelegramToken))
    }

    /// The alerts not sent yet, oldest first.
    pub fn telegram_alerts(&self) -> impl Iterator<Item = &TelegramAlert> {
        self.telegram.values()
    }

    /// An alert in the log (a handoff, an escalation), on Telegram too if the owners want.
    pub(super) fn alert_on_telegram(
        &mut self,
        entry: &Entry,
        conversation: &ConversationId,
        reason: AlertReason,
    ) {
        let Some(settings) = self.telegram() else {
            return;
        };
        let wanted = match reason {
            AlertReason::Handoff => settings.on_handoff,
            AlertReason::Escalated => settings.on_escalation,
        };
        if !wanted {
            return;
        }
        let said = words(&settings.language);
        let name = self.name_for_alert(conversation, settings);
        let text = match reason {
            AlertReason::Handoff => {
                let position = self.waiting().max(1);
                (said.handoff)(&name, position)
            }
            AlertReason::Escalated => {
                let since = self
                    .chats
                    .get(conversation)
                    .and_then(|c| c.waiting.as_ref())
                    .map_or(entry.at, |w| w.at);
                (said.escalated)(&name, (entry.at.0 - since.0).max(0) / 60_000)
            }
        };
        let language = settings.language.clone();
        self.telegram.insert(
            entry.seq,
            TelegramAlert {
                cause: entry.seq,
                at: entry.at,
                text,
                conversation: Some(conversation.clone()),
                language,
                noted: false,
            },
        );
    }

    /// A part of a reminder that did not reach `failed` patients.
    pub(super) fn alert_reminder_failed(&mut self, entry: &Entry, failed: usize) {
        let Some(settings) = self.telegram().filter(|t| t.on_reminder_failed) else {
            return;
        };
        let text = (words(&settings.language).reminder_failed)(failed);
        let language = settings.language.clone();
        self.telegram.insert(
            entry.seq,
            TelegramAlert {
                cause: entry.seq,
                at: entry.at,
                text,
                conversation: None,
                language,
                noted: false,
            },
        );
    }

    /// The patient's LINE name if the owners want names in alerts and it is known.
    fn name_for_alert(&self, conversation: &ConversationId, settings: &TelegramSettings) -> String {
        let known = settings
            .show_names
            .then(|| self.contacts.get(&UserId::new(conversation.as_str())))
            .flatten()
            .and_then(|c| c.name.clone());
        known.unwrap_or_else(|| words(&settings.language).a_patient.to_owned())
    }
}

/// An alert's words in one language.
struct Words {
    a_patient: &'static str,
    open: &'static str,
    handoff: fn(&str, usize) -> String,
    escalated: fn(&str, i64) -> String,
    reminder_failed: fn(usize) -> String,
}

fn words(language: &str) -> Words {
    match language {
        "ja" => Words {
            a_patient: "患者",
            open: "Tsunagiで開く:",
            handoff: |name, place| {
                format!("{name}さんがLINEでスタッフとの会話を希望しています。待ち順: {place}番目")
            },
            escalated: |name, minutes| {
                format!("{name}さんがLINEで{minutes}分待っていますが、まだ誰も対応していません。")
            },
            reminder_failed: |count| {
                format!("リマインダーが{count}人の患者さんに届きませんでした。")
            },
        },
        "th" => Words {
            a_patient: "ผู้ป่วย",
            open: "เปิดใน Tsunagi:",
            handoff: |name, place| format!("{name} ขอคุยกับเจ้าหน้าที่ทาง LINE ลำดับคิวที่ {place}"),
            escalated: |name, minutes| {
                format!("{name} รอทาง LINE มา {minutes} นาทีแล้ว ยังไม่มีใครรับแชท")
            },
            reminder_failed: |count| format!("การแจ้งเตือนส่งไม่ถึงผู้ป่วย {count} คน"),
        },
        "zh-TW" => Words {
            a_patient: "一位病患",
            open: "在 Tsunagi 中開啟:",
            handoff: |name, place| format!("{name} 在 LINE 上希望與專人對話,目前排第 {place} 位。"),
            escalated: |name, minutes| {
                format!("{name} 已在 LINE 上等候 {minutes} 分鐘,仍無人接手。")
            },
            reminder_failed: |count| format!("有 {count} 位病患未收到提醒。"),
        },
        _ => Words {
            a_patient: "A patient",
            open: "Open in Tsunagi:",
            handoff: |name, place| {
                format!("{name} asks for a person on LINE. Place in the queue: {place}.")
            },
            escalated: |name, minutes| {
                format!("{name} has waited {minutes} min on LINE, and nobody has taken the chat.")
            },
            reminder_failed: |count| format!("A reminder did not reach {count} patients."),
        },
    }
}
