import { addMessages, format, init, locale } from 'svelte-i18n'
import { get } from 'svelte/store'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ReminderPreview, ReminderView } from '../lib/bindings'
import { MESSAGES } from '../lib/i18n'
import { audienceOf, blankDraft, previewable, quotaLeft, standing } from './reminders'

const t = (key: string, options?: { values?: Record<string, string | number> }) => get(format)(key, options)

beforeAll(async () => {
  for (const [code, messages] of Object.entries(MESSAGES)) addMessages(code, messages as never)
  await init({ fallbackLocale: 'en', initialLocale: 'en' })
  await locale.set('en')
})

const reminder = (over: Partial<ReminderView> = {}): ReminderView => ({
  id: 'r1',
  by: 'Yuki',
  created_at: 0,
  text: 'See you tomorrow',
  date: null,
  time: null,
  clinic: null,
  due_at: 0,
  audience: 'contact',
  target: 'U1',
  target_name: 'Aiko',
  cancelled_at: null,
  fixed_at: null,
  recipients: 0,
  sent: 0,
  failed: 0,
  blocked: 0,
  opted_out: 0,
  ...over,
})

const preview = (quota: ReminderPreview['quota']): ReminderPreview => ({
  recipients: 3,
  blocked: 0,
  sample: null,
  text: '',
  quota,
})

describe('a reminder being written', () => {
  it('is previewed once it has words and someone to go to', () => {
    const draft = { ...blankDraft('Clinic'), text: 'Hello {{name}}' }
    expect(previewable({ ...draft, audience: 'tag', target: null })).toBe(false)
    expect(previewable({ ...draft, audience: 'tag', target: 'vaccine' })).toBe(true)
    expect(previewable({ ...draft, audience: 'contact', target: 'U1' })).toBe(true)
    expect(previewable({ ...draft, audience: 'following', target: null })).toBe(true)
    expect(previewable({ ...draft, text: '   ', audience: 'following' })).toBe(false)
  })

  it('counts what is left of the month’s messages only when LINE said and there is a limit', () => {
    expect(quotaLeft(preview(null))).toBeNull()
    expect(quotaLeft(preview({ limit: null, used: 40 }))).toBeNull()
    expect(quotaLeft(preview({ limit: 200, used: 40 }))).toBe(160)
    expect(quotaLeft(preview({ limit: 200, used: 250 }))).toBe(0)
  })
})

describe('a reminder in the list', () => {
  it('says whom it goes to: every follower, a tag, or the patient by name', () => {
    expect(audienceOf(reminder({ audience: 'following', target: null }), t)).toBe(t('reminders.audience.following'))
    expect(audienceOf(reminder({ audience: 'tag', target: 'vaccine' }), t)).toBe(
      t('reminders.toTag', { values: { tag: 'vaccine' } }),
    )
    expect(audienceOf(reminder(), t)).toBe('Aiko')
    expect(audienceOf(reminder({ target_name: null }), t)).toBe('U1')
  })

  it('stands scheduled, cancelled, sending or sent', () => {
    expect(standing(reminder())).toBe('scheduled')
    expect(standing(reminder({ cancelled_at: 5 }))).toBe('cancelled')
    expect(standing(reminder({ fixed_at: 5, recipients: 3, sent: 1 }))).toBe('sending')
    expect(standing(reminder({ fixed_at: 5, recipients: 3, sent: 1, failed: 1, blocked: 1 }))).toBe('sent')
    expect(standing(reminder({ fixed_at: 5, recipients: 3, sent: 1, opted_out: 1 }))).toBe('sending')
    expect(standing(reminder({ fixed_at: 5, recipients: 3, sent: 1, blocked: 1, opted_out: 1 }))).toBe('sent')
  })
})
