import { addMessages, init, locale, format } from 'svelte-i18n'
import { get } from 'svelte/store'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { Notice } from '../lib/bindings'
import { MESSAGES } from '../lib/i18n'
import { play, shownOf, wordsOf } from './alerts'

const t = (key: string, options?: { values?: Record<string, string | number> }) =>
  get(format)(key, options)

const notice = (over: Partial<Notice>): Notice => ({
  kind: 'handoff',
  conversation: 'U1',
  name: null,
  text: null,
  count: 0,
  sound: 'bell',
  volume: 80,
  ...over,
})

beforeAll(async () => {
  for (const [code, messages] of Object.entries(MESSAGES)) addMessages(code, messages as never)
  await init({ fallbackLocale: 'en', initialLocale: 'en' })
})

describe('an alert in words', () => {
  it('says only what the notice carries', async () => {
    await locale.set('en')
    expect(wordsOf(notice({}), t)).toEqual({ title: 'Tsunagi', body: 'Asks for a person' })
    // Locked, a notice shows no patient, whatever the privacy setting let through.
    expect(wordsOf(shownOf(notice({ name: '陳 美玲', text: '胸が痛い' }), true), t)).toEqual({
      title: 'Tsunagi',
      body: 'Asks for a person',
    })
    expect(wordsOf(notice({ name: '陳 美玲', kind: 'my_chat' }), t)).toEqual({
      title: '陳 美玲',
      body: 'New message',
    })
    expect(wordsOf(notice({ name: '陳 美玲', text: '我想掛號', kind: 'waiting' }), t)).toEqual({
      title: '陳 美玲',
      body: '我想掛號',
    })
  })

  it('counts the patients a reminder missed, in the operator’s language', async () => {
    await locale.set('en')
    const missed = notice({ kind: 'reminder_failed', conversation: null, count: 3 })
    expect(wordsOf(missed, t).body).toBe('A reminder did not reach 3 patients')
    expect(wordsOf({ ...missed, count: 1 }, t).body).toBe('A reminder did not reach 1 patient')
    await locale.set('th')
    expect(wordsOf(missed, t).body).toBe('การแจ้งเตือนนัดส่งไม่ถึงผู้ป่วย 3 คน')
    expect(wordsOf(notice({}), t).body).toBe('ขอคุยกับเจ้าหน้าที่')
  })
})

describe('an alert heard', () => {
  it('plays the chosen bundled sound at the chosen volume, and nothing else', () => {
    const made: { src: string; player: { volume: number; play: () => Promise<void> } }[] = []
    const make = (src: string) => {
      const player = { volume: 1, play: vi.fn(() => Promise.resolve()) }
      made.push({ src, player })
      return player as unknown as HTMLAudioElement
    }
    play('chime', 40, make)
    play(null, 80, make)
    play('../../etc/passwd', 80, make)
    play('bell', 0, make)
    expect(made.map((m) => [m.src, m.player.volume])).toEqual([['/sounds/chime.wav', 0.4]])
    expect(made[0].player.play).toHaveBeenCalledOnce()
  })
})
