import { fireEvent, render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { Outgoing } from '../lib/bindings'
import Composer from './Composer.svelte'
import { cannedMatches, draft, fill, keepDraft, keyAction, limit, sendable, slashQuery } from './composer'

const key = (k: string, extra: Partial<KeyboardEvent> = {}) => ({
  key: k,
  shiftKey: false,
  isComposing: false,
  ctrlKey: false,
  metaKey: false,
  keyCode: k === 'Enter' ? 13 : 0,
  ...extra,
})

describe('the composer’s rules', () => {
  it('sends on Enter, breaks the line on Shift+Enter, and leaves IME input alone', () => {
    expect(keyAction(key('Enter'))).toBe('send')
    expect(keyAction(key('Enter', { shiftKey: true }))).toBe('newline')
    expect(keyAction(key('Enter', { isComposing: true }))).toBe(null)
    // WebKit: the composition has ended, but the key is still the input method's.
    expect(keyAction(key('Enter', { keyCode: 229 }))).toBe(null)
    expect(keyAction(key('Enter', { ctrlKey: true }))).toBe(null)
    expect(keyAction(key('a'))).toBe(null)
  })

  it('counts in UTF-16 units as LINE does, and shows the count near the limit', () => {
    expect(limit('สวัสดี').used).toBe(6)
    expect(limit('😀').used).toBe(2)
    expect(limit('a'.repeat(3999)).show).toBe(false)
    expect(limit('a'.repeat(4000)).show).toBe(true)
    expect(limit('a'.repeat(5003)).over).toBe(3)
    expect(sendable('a'.repeat(5000))).toBe(true)
    expect(sendable('a'.repeat(5001))).toBe(false)
    expect(sendable('   ')).toBe(false)
  })

  it('finds saved answers from "/" and fills what it knows', () => {
    expect(slashQuery('/hou')).toBe('hou')
    expect(slashQuery('/')).toBe('')
    expect(slashQuery('hello /x')).toBe(null)
    const canned = [
      { title: 'Hours', text: 'We open at 9, {{name}}.', language: null },
      { title: '予約', text: '{{name}}様、ご予約ありがとうございます', language: null },
    ]
    expect(cannedMatches(canned, 'hou').map((c) => c.title)).toEqual(['Hours'])
    expect(cannedMatches(canned, '予約').map((c) => c.title)).toEqual(['予約'])
    expect(fill('We open at 9, {{name}}. {{clinic}}', { name: 'Mali' })).toBe('We open at 9, Mali. {{clinic}}')
  })

  it("offers a patient's own language first, and no other language's answers", () => {
    const canned = [
      { title: 'hours', text: 'We open at 9.', language: null },
      { title: 'hours-th', text: 'เปิด 9 โมงค่ะ', language: 'th' },
      { title: 'hours-zh', text: '9點開始', language: 'zh' },
    ]
    const titles = (language: string | null) => cannedMatches(canned, 'hours', language).map((c) => c.title)
    expect(titles('th')).toEqual(['hours-th', 'hours'])
    expect(titles('zh-TW')).toEqual(['hours-zh', 'hours'])
    expect(titles(null)).toEqual(['hours'])
  })

  it('keeps a draft per conversation', () => {
    keepDraft('U1', 'half a thought')
    keepDraft('U2', '')
    expect(draft('U1')).toBe('half a thought')
    expect(draft('U2')).toBe('')
  })
})

describe('the composer', () => {
  function setup(disabled = false) {
    const sent: Outgoing[] = []
    const typed: number[] = []
    render(Composer, {
      conversation: 'U-composer',
      canned: [{ title: 'Hours', text: 'We open at 9, {{name}}.', language: null }],
      patientName: 'Mali',
      disabled,
      stickers: [{ package_id: '446', sticker_ids: ['1988', '1989'] }],
      onsend: async (message: Outgoing) => {
        sent.push(message)
      },
      ontyping: () => typed.push(Date.now()),
    })
    return { sent, typed, box: screen.getByRole('textbox', { name: 'Message' }) }
  }

  it('sends with Enter and clears, and a new line with Shift+Enter does not send', async () => {
    const { sent, box } = setup()
    await fireEvent.input(box, { target: { value: 'ขอบคุณค่ะ' } })
    await fireEvent.keyDown(box, { key: 'Enter', shiftKey: true })
    expect(sent).toEqual([])
    await fireEvent.keyDown(box, { key: 'Enter' })
    expect(sent).toEqual([{ type: 'text', text: 'ขอบคุณค่ะ', quote_token: null }])
    expect((box as HTMLTextAreaElement).value).toBe('')
  })

  it('does not send when Enter confirms a Japanese conversion, as WebKit reports it', async () => {
    const { sent, box } = setup()
    // Typing にほんご and converting it: WebKit ends the composition first, then sends the
    // Enter that confirmed it, with isComposing false and the input method's key code.
    await fireEvent.compositionStart(box, { data: '' })
    await fireEvent.input(box, { target: { value: 'にほんご' }, isComposing: true })
    await fireEvent.input(box, { target: { value: '日本語' }, isComposing: true })
    await fireEvent.compositionEnd(box, { data: '日本語' })
    await fireEvent.keyDown(box, { key: 'Enter', keyCode: 229, isComposing: false })
    expect(sent).toEqual([])
    expect((box as HTMLTextAreaElement).value).toBe('日本語')
    // The next Enter, with nothing composing, sends.
    await fireEvent.keyDown(box, { key: 'Enter', keyCode: 13 })
    expect(sent).toEqual([{ type: 'text', text: '日本語', quote_token: null }])
  })

  it('does not pick a saved answer when Enter confirms a conversion in the "/" search', async () => {
    const { box } = setup()
    await fireEvent.input(box, { target: { value: '/ho' } })
    await fireEvent.keyDown(box, { key: 'Enter', keyCode: 229 })
    expect((box as HTMLTextAreaElement).value).toBe('/ho')
    await fireEvent.keyDown(box, { key: 'Enter', keyCode: 13 })
    expect((box as HTMLTextAreaElement).value).toBe('We open at 9, Mali.')
  })

  it('tells the patient the operator is writing, once per while', async () => {
    const { typed, box } = setup()
    await fireEvent.input(box, { target: { value: 'ก' } })
    await fireEvent.input(box, { target: { value: 'กำ' } })
    await fireEvent.input(box, { target: { value: 'กำลัง' } })
    expect(typed.length).toBe(1)
  })

  it('offers saved answers after "/" and fills the patient’s name', async () => {
    const { box } = setup()
    await fireEvent.input(box, { target: { value: '/ho' } })
    const option = screen.getByRole('option', { name: /Hours/ })
    await fireEvent.click(option)
    expect((box as HTMLTextAreaElement).value).toBe('We open at 9, Mali.')
  })

  it('sends a sticker LINE lets bots send, picked from the list', async () => {
    const { sent } = setup()
    await fireEvent.click(screen.getByRole('button', { name: 'Sticker' }))
    await fireEvent.click(screen.getByRole('button', { name: 'Sticker 446/1989' }))
    expect(sent).toEqual([{ type: 'sticker', package_id: '446', sticker_id: '1989' }])
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('is read-only until the chat is claimed', () => {
    const { box } = setup(true)
    expect((box as HTMLTextAreaElement).disabled).toBe(true)
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true)
  })
})
