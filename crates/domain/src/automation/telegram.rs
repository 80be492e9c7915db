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
    pub about: About,
    /// Its sending was noted: it may have gone out.
    pub noted: bool,
}

/// What an alert tells.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum About {
    /// A patient asks for a person, and waits at this place in the queue.
    Handoff {
        conversation: ConversationId,
        place: usize,
    },
    /// A patient has waited this many minutes with nobody taking the chat.
    Escalated {
        conversation: ConversationId,
        minutes: i64,
    },
    /// A reminder did not reach this many patients.
    ReminderFailed { patients: usize },
    /// A patient wrote words of an emergency.
    RedFlag { conversation: ConversationId },
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

    /// The message of `alert`, in the settings' language, naming the patient if the
    /// owners want names and their profile is known by now, with a link that opens the
    /// chat in Tsunagi.
    pub fn telegram_message(&self, alert: &TelegramAlert, channel: &str) -> String {
        let settings = self.settings.telegram.as_ref();
        let language = settings.map_or("en", |t| t.language.as_str());
        let said = words(language);
        let name = |conversation: &ConversationId| {
            settings
                .filter(|t| t.show_names)
                .and_then(|_| self.contacts.get(&UserId::new(conversation.as_str())))
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| said.a_patient.to_owned())
        };
        let link = |conversation: &ConversationId| {
            format!("\n{} tsunagi://chat/{channel}/{conversation}", said.open)
        };
        match &alert.about {
            About::Handoff {
                conversation,
                place,
            } => (said.handoff)(&name(conversation), *place) + &link(conversation),
            About::Escalated {
                conversation,
                minutes,
            } => (said.escalated)(&name(conversation), *minutes) + &link(conversation),
            About::ReminderFailed { patients } => (said.reminder_failed)(*patients),
            About::RedFlag { conversation } => {
                (said.red_flag)(&name(conversation)) + &link(conversation)
            }
        }
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
            // Words of an emergency reach every owner who set Telegram up.
            AlertReason::RedFlag => true,
        };
        if !wanted {
            return;
        }
        let about = match reason {
            AlertReason::Handoff => {
                // Its place: the chats that began to wait before it, and itself.
                let since = self
                    .chats
                    .get(conversation)
                    .and_then(|c| c.waiting.as_ref())
                    .map_or(entry.seq, |w| w.seq);
                let place = self
                    .chats
                    .values()
                    .filter(|c| c.waiting.as_ref().is_some_and(|w| w.seq <= since))
                    .count();
                About::Handoff {
                    conversation: conversation.clone(),
                    place: place.max(1),
                }
            }
            AlertReason::Escalated => {
                let since = self
                    .chats
                    .get(conversation)
                    .and_then(|c| c.waiting.as_ref())
                    .map_or(entry.at, |w| w.at);
                About::Escalated {
                    conversation: conversation.clone(),
                    minutes: (entry.at.0 - since.0).max(0) / 60_000,
                }
            }
            AlertReason::RedFlag => About::RedFlag {
                conversation: conversation.clone(),
            },
        };
        self.telegram.insert(
            entry.seq,
            TelegramAlert {
                cause: entry.seq,
                at: entry.at,
                about,
                noted: false,
            },
        );
    }

    /// A part of a reminder that did not reach `failed` patients.
    pub(super) fn alert_reminder_failed(&mut self, entry: &Entry, failed: usize) {
        let Some(settings) = self.telegram() else {
            return;
        };
        if !settings.on_reminder_failed {
            return;
        }
        self.telegram.insert(
            entry.seq,
            TelegramAlert {
                cause: entry.seq,
                at: entry.at,
                about: About::ReminderFailed { patients: failed },
                noted: false,
            },
        );
    }
}

/// An alert's words in one language.
struct Words {
    a_patient: &'static str,
    open: &'static str,
    handoff: fn(&str, usize) -> String,
    escalated: fn(&str, i64) -> String,
    reminder_failed: fn(usize) -> String,
    red_flag: fn(&str) -> String,
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
            red_flag: |name| {
                format!(
                    "緊急: {name}さんがLINEで緊急の症状を伝えています。すぐに確認してください。"
                )
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
            red_flag: |name| format!("ด่วน: {name} แจ้งอาการฉุกเฉินทาง LINE โปรดดูทันที"),
        },
        "zh-TW" => Words {
            a_patient: "一位病患",
            open: "在 Tsunagi 中開啟:",
            handoff: |name, place| format!("{name} 在 LINE 上希望與專人對話,目前排第 {place} 位。"),
            escalated: |name, minutes| {
                format!("{name} 已在 LINE 上等候 {minutes} 分鐘,仍無人接手。")
            },
            reminder_failed: |count| format!("有 {count} 位病患未收到提醒。"),
            red_flag: |name| format!("緊急:{name} 在 LINE 上描述了緊急症狀,請立即查看。"),
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
            red_flag: |name| {
                format!("URGENT: {name} wrote words of an emergency on LINE. Look now.")
            },
        },
    }
}
