//! Reminders: the list, whom a draft reaches, scheduling and calling one off, and the
//! month's quota.

use tauri::State;
use tsunagi_desk::outreach;
use tsunagi_desk::outreach::{RecipientView, ReminderView};

use crate::desk::Shell;
use crate::ipc::{QuotaView, ReminderDraft, ReminderPreview, ReminderRequest};

use super::{Answer, op_id};

#[tauri::command]
pub(crate) async fn reminders_list(shell: State<'_, Shell>) -> Answer<Vec<ReminderView>> {
    /// Enough for months of a clinic's reminders.
    const SHOWN: u32 = 500;
    Ok(shell.joined().await?.sync.store().reminders(SHOWN).await?)
}

#[tauri::command]
pub(crate) async fn reminder_recipients(
    shell: State<'_, Shell>,
    request: ReminderRequest,
) -> Answer<Vec<RecipientView>> {
    let joined = shell.joined().await?;
    Ok(joined.sync.store().reminder_recipients(&request.id).await?)
}

/// Whom a draft reaches now, what one of them reads, and the month's quota.
#[tauri::command]
pub(crate) async fn reminder_preview(
    shell: State<'_, Shell>,
    request: ReminderDraft,
) -> Answer<ReminderPreview> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    let reminder = joined.reminder(request).await?;
    let size = store.audience_size(&reminder.to).await?;
    let sample = store.audience_sample(&reminder.to).await?;
    let name = sample.as_ref().map_or("", |(_, name)| name.as_str());
    let quota = month_quota(&joined).await;
    Ok(ReminderPreview {
        recipients: size.reachable,
        blocked: size.blocked,
        text: outreach::preview(&reminder, name),
        sample: sample.map(|(_, name)| name),
        quota,
    })
}

/// The month's messages LINE counts (pushes, reminders) and the plan's limit, as the relay
/// asks LINE; `None` when it cannot be known now.
async fn month_quota(joined: &tsunagi_desk::profile::Joined) -> Option<QuotaView> {
    match joined.sync.client().quota(joined.sync.channel()).await {
        Ok(quota) => Some(QuotaView {
            limit: quota.limit,
            used: quota.used,
        }),
        Err(error) => {
            tracing::info!(%error, "the month's quota is not known");
            None
        }
    }
}

/// The month's messages used of the plan, for the owner's view of what answers cost.
#[tauri::command]
pub(crate) async fn quota_get(shell: State<'_, Shell>) -> Answer<Option<QuotaView>> {
    let joined = shell.joined().await?;
    Ok(month_quota(&joined).await)
}

/// Schedules a reminder now, on the relay (a tag or every follower: owners only).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn reminder_schedule(
    shell: State<'_, Shell>,
    request: ReminderDraft,
) -> Answer<()> {
    shell.joined().await?.schedule_reminder(request).await?;
    Ok(())
}

/// Calls off a reminder not yet sent.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn reminder_cancel(
    shell: State<'_, Shell>,
    request: ReminderRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    Ok(joined.cancel_reminder(op_id(&request.id)?).await?)
}
