import { addMessages, format, init, locale } from 'svelte-i18n'
import { get } from 'svelte/store'
import { beforeAll, describe, expect, it } from 'vitest'
import { MESSAGES } from '../lib/i18n'
import { trayWords } from './tray'

const t = (key: string, options?: { values?: Record<string, string | number> }) => get(format)(key, options)

beforeAll(async () => {
  for (const [code, messages] of Object.entries(MESSAGES)) addMessages(code, messages as never)
  await init({ fallbackLocale: 'en', initialLocale: 'en' })
})

describe('the tray in words', () => {
  it('counts who is waiting, and says so when nobody is', async () => {
    await locale.set('en')
    expect(trayWords(t, 0).waiting).toBe('Tsunagi: nobody is waiting')
    expect(trayWords(t, 1).waiting).toBe('Tsunagi: 1 patient waiting')
    expect(trayWords(t, 3)).toEqual({
      open: 'Open Tsunagi',
      pause_30: 'Pause alerts for 30 minutes',
      pause_60: 'Pause alerts for 1 hour',
      resume: 'Resume alerts',
      quit: 'Quit',
      waiting: 'Tsunagi: 3 patients waiting',
    })
  })

  it('words the menu in the operator’s language', async () => {
    await locale.set('th')
    expect(trayWords(t, 2)).toMatchObject({ resume: 'แจ้งเตือนต่อ', waiting: 'Tsunagi: รออยู่ 2 คน' })
    await locale.set('en')
  })
})
