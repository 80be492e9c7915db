// The reminder form's starting point and what its preview says, and how a reminder in the
// list is summed up.
import type { ReminderDraft, ReminderPreview, ReminderView } from '../lib/bindings'

/** Tomorrow on this computer's calendar, as `YYYY-MM-DD`. */
export function tomorrow(now = new Date()): string {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`
}

export function blankDraft(clinic: string | null): ReminderDraft {
  return {
    text: '',
    date: null,
    time: null,
    clinic,
    send_on: tomorrow(),
    send_at: '09:00',
    audience: 'tag',
    target: null,
  }
}

/** Where a reminder stands: waiting for its time, called off, or gone out. */
export type Standing = 'scheduled' | 'cancelled' | 'sending' | 'sent'

export function standing(reminder: ReminderView): Standing {
  if (reminder.cancelled_at !== null) return 'cancelled'
  if (reminder.fixed_at === null) return 'scheduled'
  const answered = reminder.sent + reminder.failed + reminder.blocked + reminder.opted_out
  return answered < reminder.recipients ? 'sending' : 'sent'
}

/** Whether the draft is worth previewing: it has words, and someone to go to. */
export function previewable(draft: ReminderDraft): boolean {
  return draft.text.trim() !== '' && (draft.audience === 'following' || !!draft.target)
}

/** How many of the month's messages the plan has left, when LINE said and there is a limit. */
export function quotaLeft(preview: ReminderPreview): number | null {
  const quota = preview.quota
  return quota && quota.limit !== null ? Math.max(0, quota.limit - quota.used) : null
}

type Translate = (key: string, options?: { values?: Record<string, string | number> }) => string

/** Whom a reminder in the list goes to: every follower, a tag, or one patient by name. */
export function audienceOf(reminder: ReminderView, t: Translate): string {
  if (reminder.audience === 'following') return t('reminders.audience.following')
  if (reminder.audience === 'tag') return t('reminders.toTag', { values: { tag: reminder.target ?? '' } })
  return reminder.target_name ?? reminder.target ?? ''
}
