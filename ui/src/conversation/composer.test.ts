import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { Outgoing, PhotoDeliveryView } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import Composer from './Composer.svelte'
import {
  cannedMatches,
  clockText,
  draft,
  fill,
  keepDraft,
  keyAction,
  limit,
  photoHeld,
  photoWhyKey,
  sendable,
  slashQuery,
} from './composer'

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

  it('counts the free reply down in minutes and seconds, rounding up to the second', () => {
    expect(clockText(40_000)).toBe('0:40')
    expect(clockText(39_001)).toBe('0:40')
    expect(clockText(61_000)).toBe('1:01')
    expect(clockText(0)).toBe('0:00')
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

describe('a photo LINE cannot fetch', () => {
  const login: PhotoDeliveryView = {
    ok: false,
    url: 'https://relay.clinic.example/public/uploads/probe.png',
    problem: 'not_an_image',
    detail: 'answered text/html; charset=utf-8, not a JPEG or PNG',
    checked_at: Date.UTC(2026, 11, 1, 1, 0),
  }
  const fine: PhotoDeliveryView = { ...login, ok: true, problem: null, detail: null }

  function setup(last: PhotoDeliveryView | 'unanswered', owner = false, again: PhotoDeliveryView = fine) {
    const photos: Uint8Array[] = []
    const desk = fakeDesk({
      photo_delivery_get: () => {
        if (last === 'unanswered') throw { code: 'relay_unreachable', message: 'offline' }
        return last
      },
      photo_delivery_check: () => again,
    })
    render(Composer, {
      conversation: 'U-photo',
      canned: [],
      patientName: 'Mali',
      disabled: false,
      desk,
      owner,
      onsend: async () => {},
      onphoto: async (bytes: Uint8Array) => {
        photos.push(bytes)
      },
    })
    const attach = async () => {
      const file = new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], 'rash.jpg', { type: 'image/jpeg' })
      await fireEvent.change(screen.getByLabelText('Attach photo'), { target: { files: [file] } })
    }
    return { photos, desk, attach }
  }

  it('is held, with the reason in plain words, and goes only when the operator says so', async () => {
    const { photos, attach } = setup(login)
    await attach()
    const warning = await screen.findByRole('alert')
    expect(warning.textContent).toContain(
      'LINE cannot fetch photos from this relay’s address (its address answered with a page, not a photo). ' +
        'The patient would see a broken image. Ask the person who runs the relay.',
    )
    expect(photos).toEqual([])
    // Staff cannot have the relay check again, nor read its technical detail.
    expect(screen.queryByRole('button', { name: 'Check again' })).toBeNull()
    expect(warning.textContent).not.toContain('text/html')
    await fireEvent.click(screen.getByRole('button', { name: 'Send anyway' }))
    await waitFor(() => expect(photos).toEqual([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])]))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('is dropped when the operator chooses not to send it', async () => {
    const { photos, attach } = setup({ ...login, problem: 'certificate' })
    await attach()
    expect((await screen.findByRole('alert')).textContent).toContain('its certificate is not one LINE trusts')
    await fireEvent.click(screen.getByRole('button', { name: 'Don’t send' }))
    expect(screen.queryByRole('alert')).toBeNull()
    expect(photos).toEqual([])
  })

  it('goes once an owner has the relay check again and LINE can fetch it now', async () => {
    const { photos, desk, attach } = setup(login, true)
    await attach()
    const warning = await screen.findByRole('alert')
    expect(warning.textContent).toContain('text/html')
    await fireEvent.click(screen.getByRole('button', { name: 'Check again' }))
    await waitFor(() => expect(photos.length).toBe(1))
    expect(desk.calls.map((c) => c.command)).toEqual(['photo_delivery_get', 'photo_delivery_check'])
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('stays held when the check again still finds LINE cannot fetch it, with the new reason', async () => {
    const { photos, attach } = setup(login, true, { ...login, problem: 'unreachable' })
    await attach()
    await screen.findByRole('alert')
    await fireEvent.click(screen.getByRole('button', { name: 'Check again' }))
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('nothing answered at its address'))
    expect(photos).toEqual([])
  })

  it('goes at once when LINE can fetch photos, or when the relay cannot say', async () => {
    for (const last of [fine, 'unanswered'] as const) {
      const { photos, attach } = setup(last)
      await attach()
      await waitFor(() => expect(photos.length).toBe(1))
      expect(screen.queryByRole('alert')).toBeNull()
      document.body.innerHTML = ''
    }
  })

  it('is held only when the relay’s last check found a problem', () => {
    expect(photoHeld(null)).toBe(false)
    expect(photoHeld(fine)).toBe(false)
    expect(photoHeld(login)).toBe(true)
    expect(photoWhyKey(login)).toBe('photos.why.not_an_image')
    expect(photoWhyKey({ ...login, problem: null })).toBe('photos.why.unknown')
  })
})
