//! Reminders: a draft as the form has it, made into the reminder the relay sends at its
//! time on the clinic's clock; scheduling one and calling one off.

use serde::{Deserialize, Serialize};
use tsunagi_line::UserId;
use tsunagi_proto::{Audience, OpId, Operation, Reminder, UnixMillis};

use crate::outreach::{self, AudienceKind};
use crate::profile::Joined;
use crate::{Error, Result};

/// A reminder as the form has it, before it is scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReminderDraft {
    /// With `{{name}}`, `{{date}}`, `{{time}}` and `{{clinic}}`.
    pub text: String,
    /// The appointment's date and time as the message says them (free text).
    pub date: Option<String>,
    pub time: Option<String>,
    pub clinic: Option<String>,
    /// When it goes out, on the clinic's clock: `YYYY-MM-DD` and `HH:MM`.
    pub send_on: String,
    pub send_at: String,
    pub audience: AudienceKind,
    /// The patient's user id, or the tag.
    pub target: Option<String>,
}

impl Joined {
    /// The reminder `draft` makes, sent at its time on the clinic's clock.
    pub async fn reminder(&self, draft: ReminderDraft) -> Result<Reminder> {
        let zone = self.sync.store().clinic_zone().await;
        let at = outreach::send_time(&zone, &draft.send_on, &draft.send_at, UnixMillis::now())?;
        let given = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
        let to = match (draft.audience, given(draft.target)) {
            (AudienceKind::Following, _) => Audience::Following,
            (AudienceKind::Tag, Some(tag)) => Audience::Tag { tag },
            (AudienceKind::Contact, Some(user)) => Audience::Contact {
                user: UserId::new(user),
            },
            (_, None) => {
                return Err(Error::Invalid(
                    "choose the patient or the tag the reminder is for".into(),
                ));
            }
        };
        Ok(Reminder {
            text: draft.text,
            date: given(draft.date),
            time: given(draft.time),
            clinic: given(draft.clinic),
            at,
            to,
        })
    }

    /// Schedules the reminder `draft` makes, now, on the relay (a tag or every follower:
    /// owners only).
    pub async fn schedule_reminder(&self, draft: ReminderDraft) -> Result<OpId> {
        let reminder = self.reminder(draft).await?;
        self.append_now(&Operation::ScheduleReminder(reminder))
            .await
    }

    /// Calls off a reminder not yet sent; one already out (or unknown) is refused with the
    /// log's reason.
    pub async fn cancel_reminder(&self, reminder: OpId) -> Result<()> {
        self.append_now(&Operation::CancelReminder { reminder })
            .await?;
        Ok(())
    }
}
