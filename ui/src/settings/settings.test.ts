import { render, screen } from '@testing-library/svelte'
import IntlMessageFormat from 'intl-messageformat'
import { describe, expect, it } from 'vitest'
import type { SettingProblem } from '../lib/bindings'
import { LANGUAGES, MESSAGES } from '../lib/i18n'
import { problemText } from './problems'
import ReadReceiptsEditor from './ReadReceiptsEditor.svelte'
import { Draft, chatIds, keywordsOf, notChatIds, setWords, suggestedHours, wordBoxes } from './settings.svelte'

function translator(language: string) {
  return (key: string, options?: { values?: Record<string, string | number> }) => {
    let node: unknown = MESSAGES[language as keyof typeof MESSAGES]
    for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
    if (typeof node !== 'string') return key
    return String(new IntlMessageFormat(node, language).format(options?.values))
  }
}

/** One of every problem the relay's checks can find. */
const EVERY: SettingProblem[] = [
  { problem: 'too_many', list: 'keyword_rules', count: 501, max: 500 },
  { problem: 'pattern_empty', rule: 2 },
  { problem: 'pattern_too_long', rule: 2, max: 1000 },
  { problem: 'pattern_invalid', rule: 3, error: 'unclosed group' },
  { problem: 'reply_count', rule: 1, max: 5 },
  { problem: 'reply_invalid', rule: 1, error: 'text too long' },
  { problem: 'canned_incomplete', item: 4 },
  { problem: 'template_unnamed' },
  { problem: 'zone_unknown', zone: 'Asia/Bangkog' },
  { problem: 'weekday_invalid', weekday: 8 },
  { problem: 'closes_before_opens', from: '18:00', to: '09:00' },
  { problem: 'time_invalid', from: '9am', to: '18:00' },
  { problem: 'holiday_invalid', day: '31/12' },
  { problem: 'handoff_keyword_blank' },
  { problem: 'handoff_keyword_too_long', max: 1000 },
  { problem: 'auto_close_zero' },
  { problem: 'variable_unclosed', text: { field: 'away_message' } },
  { problem: 'variable_unknown', text: { field: 'handoff_greeting' }, name: 'queue', known: ['name', 'position'] },
  { problem: 'ai_address_invalid', address: 'api.example' },
  { problem: 'ai_model_missing' },
  { problem: 'ai_prompt_too_long', max: 8000 },
  { problem: 'ai_history_too_long', max: 50 },
  { problem: 'ai_timeout_invalid', min: 5, max: 60 },
  { problem: 'telegram_no_chat' },
  { problem: 'telegram_chats_invalid', max: 10 },
  { problem: 'telegram_language_unknown', language: 'xx' },
  { problem: 'handoff_postback_invalid', max: 300 },
  { problem: 'lock_after_invalid', min: 1, max: 240 },
  { problem: 'stop_words_invalid', words: 50, chars: 40 },
]

describe('problemText', () => {
  for (const { code } of LANGUAGES) {
    it(`words every problem in ${code}, with its details and no key left over`, () => {
      const t = translator(code)
      for (const problem of EVERY) {
        const text = problemText(problem, t)
        expect(text, problem.problem).not.toMatch(/^settings\./)
        // An argument left unfilled; `{{name}}` is a variable shown on purpose.
        expect(text, problem.problem).not.toMatch(/(?<!\{)\{\w+\}(?!\})/)
      }
      expect(problemText(EVERY[8], t)).toContain('Asia/Bangkog')
      expect(problemText(EVERY[16], t)).toContain('{{')
      expect(problemText(EVERY[17], t)).toContain('{{queue}}')
      expect(problemText(EVERY[17], t)).toContain('{{position}}')
    })
  }
})

describe('Draft', () => {
  it('is changed until saved, and a suggestion never saved can be saved as it is', () => {
    const hours = suggestedHours('Asia/Tokyo')
    const kept = new Draft(hours, (h) => ({ setting: 'business_hours', ...h }))
    expect(kept.changed).toBe(false)
    kept.value.open.pop()
    expect(kept.changed).toBe(true)
    kept.saved()
    expect(kept.changed).toBe(false)
    expect(kept.edit()).toMatchObject({ setting: 'business_hours', time_zone: 'Asia/Tokyo' })

    const suggested = new Draft(hours, (h) => ({ setting: 'business_hours', ...h }), false)
    expect(suggested.changed).toBe(true)
    expect(hours.open).toHaveLength(6)
  })

  it('keeps handoff words by language, dropping a language left empty', () => {
    const handoff = { keywords: ['talk to staff'], keywords_by_language: {}, auto_close_minutes: null, csat: false, escalate_seconds: 300 }
    setWords(handoff, 'th', 'ขอคุยกับพยาบาล\n')
    setWords(handoff, 'ja', '')
    expect(handoff.keywords_by_language).toEqual({ th: ['ขอคุยกับพยาบาล'] })
    expect(wordBoxes(handoff)).toMatchObject({ '': 'talk to staff', th: 'ขอคุยกับพยาบาล', ja: '' })
    setWords(handoff, 'th', '  ')
    expect(handoff.keywords_by_language).toEqual({})
  })

  it('reads handoff words one per line, dropping blank lines', () => {
    expect(keywordsOf('スタッフ\n\n  talk to staff \n')).toEqual(['スタッフ', 'talk to staff'])
  })
})

describe('Telegram chat ids', () => {
  it('reads one per line (or by commas), a group with its minus, and names what is not one', () => {
    const typed = '424242\n -1001000000001 ,\n\n@clinic_owner\n12ab'
    expect(chatIds(typed)).toEqual([424242, -1001000000001])
    expect(notChatIds(typed)).toEqual(['@clinic_owner', '12ab'])
  })
})

describe('when patients see “Read”', () => {
  it('says what each choice shows the patient, and lets the owner choose while LINE leaves it to the desks', () => {
    render(ReadReceiptsEditor, { receipts: { mode: 'answered' }, account: { chat: true, marks_read_itself: false } })
    const answered = screen.getByRole('radio', { name: 'Only once staff answer' }) as HTMLInputElement
    expect(answered.checked).toBe(true)
    expect(answered.disabled).toBe(false)
    expect(answered.getAttribute('aria-describedby')).toBe('read-mode-answered-means')
    expect(screen.getByText(/appears together with an answer/)).toBeTruthy()
    expect(screen.queryByRole('note')).toBeNull()
  })

  it('cannot be chosen, and says where to change it, when LINE marks everything read itself', () => {
    render(ReadReceiptsEditor, { receipts: { mode: 'opened' }, account: { chat: true, marks_read_itself: true } })
    for (const radio of screen.getAllByRole('radio')) expect((radio as HTMLInputElement).disabled).toBe(true)
    expect(screen.getByRole('note').textContent).toContain('Read receipts')
  })

  it('says patients never see “Read” while the account’s Chat is off', () => {
    render(ReadReceiptsEditor, { receipts: { mode: 'opened' }, account: { chat: false, marks_read_itself: false } })
    expect(screen.getByRole('note').textContent).toContain('Chat is off')
    for (const radio of screen.getAllByRole('radio')) expect((radio as HTMLInputElement).disabled).toBe(true)
  })
})
