// The reminder form's starting point, and how a reminder in the list is summed up.
import type { ReminderDraft, ReminderView } from '../lib/bindings'

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
  const answered = reminder.sent + reminder.failed + reminder.blocked
  return answered < reminder.recipients ? 'sending' : 'sent'
}
