import { render, screen } from '@testing-library/svelte'
import { describe, expect, it, vi } from 'vitest'
import type { HandoffEvent } from '../lib/bindings'
import { item, message, session } from '../testing/fake'
import {
  canWrite,
  controls,
  headerControls,
  merge,
  queuedRows,
  threadMarks,
  timeline,
  type Row,
} from './conversation.svelte'
import { consentAnswer, pickedWhen, runs } from './describe'
import HandoffLine from './HandoffLine.svelte'
import Message from './Message.svelte'

const claim = (seq: number, applied = true): HandoffEvent => ({
  seq,
  action: 'claimed',
  by: 'd-aiko',
  by_name: 'Aiko',
  to_name: null,
  applied,
  reason: applied ? null : 'Somchai has this conversation already',
  at: Date.UTC(2026, 11, 1, 1, 2),
})

describe('a conversation’s logic', () => {
  it('puts handoffs among the messages in log order, and only within what is loaded', () => {
    const messages = [message({ seq: 5 }), message({ seq: 9 })]
    const rows = timeline(messages, [claim(3), claim(7)], true)
    expect(rows.map((r) => `${r.kind}${r.seq}`)).toEqual(['message5', 'handoff7', 'message9'])
    const all = timeline(messages, [claim(3), claim(7)], false)
    expect(all.map((r) => `${r.kind}${r.seq}`)).toEqual(['handoff3', 'message5', 'handoff7', 'message9'])
  })

  it('groups a sender’s run, divides days, and finds the message a reply quotes', () => {
    const at = (day: number, minute: number) => Date.UTC(2026, 11, day, 1, minute)
    const messages = [
      message({ seq: 1, at: at(1, 0), line_message_id: 'L1', text: 'Can I come today?' }),
      message({ seq: 2, at: at(1, 1), line_message_id: 'L2' }),
      message({ seq: 3, at: at(1, 9), line_message_id: 'L3' }),
      message({ seq: 4, at: at(1, 10), direction: 'out', author: 'd-aiko', author_name: 'Aiko' }),
      message({
        seq: 5,
        at: at(2, 0),
        line_message_id: 'L5',
        body: JSON.stringify({ type: 'text', text: 'about this', quotedMessageId: 'L1' }),
      }),
    ]
    const rows = timeline(messages, [], false)
    const marks = threadMarks(rows, (t) => new Date(t).toISOString().slice(0, 10))
    const of = (seq: number) => marks.get(rows.find((r) => r.seq === seq)!.key)!
    expect([1, 2, 3, 4, 5].map((seq) => of(seq).continued)).toEqual([false, true, false, false, false])
    expect([1, 2, 3, 4, 5].map((seq) => of(seq).day !== null)).toEqual([true, false, false, false, true])
    expect(of(5).quoted?.text).toBe('Can I come today?')
    expect(of(4).quoted).toBeNull()
  })

  it('merges pages without repeats', () => {
    const merged = merge([message({ seq: 4 }), message({ seq: 6 })], [message({ seq: 2 }), message({ seq: 4 })])
    expect(merged.map((m) => m.seq)).toEqual([2, 4, 6])
  })

  it('offers the controls the chat’s state allows', () => {
    expect(controls(item({ mode: 'bot', session: null }), 'me')).toEqual(['to_people'])
    expect(controls(item(), 'me')).toEqual(['claim', 'close', 'to_bot'])
    const mine = item({ session: session({ status: 'active', operator: 'me' }) })
    expect(controls(mine, 'me')).toEqual(['release', 'transfer', 'close', 'to_bot'])
    expect(canWrite(mine, 'me')).toBe(true)
    const theirs = item({ session: session({ status: 'active', operator: 'd-aiko' }) })
    expect(controls(theirs, 'me')).toEqual([])
    expect(canWrite(theirs, 'me')).toBe(false)
    // A waiting chat can be answered: the answer claims it.
    expect(canWrite(item(), 'me')).toBe(true)
    // The header: one primary action; handing on is in the holder's menu.
    expect(headerControls(mine, 'me')).toEqual({ primary: 'close', menu: ['transfer', 'release', 'to_bot'] })
    expect(headerControls(item(), 'me')).toEqual({ primary: 'claim', menu: ['close', 'to_bot'] })
    expect(headerControls(theirs, 'me')).toEqual({ primary: null, menu: [] })
  })

  it('splits text at LINE emojis and mentions by UTF-16 index', () => {
    const text = '@Aiko 明日$ok'
    const body = {
      emojis: [{ index: 8, length: 1, productId: '5ac1bfd5040ab15980c9b435', emojiId: '001' }],
      mention: { mentionees: [{ index: 0, length: 5 }] },
    }
    expect(runs(text, body)).toEqual([
      { kind: 'mention', text: '@Aiko' },
      { kind: 'text', text: ' 明日' },
      { kind: 'emoji', text: '$', productId: '5ac1bfd5040ab15980c9b435', emojiId: '001' },
      { kind: 'text', text: 'ok' },
    ])
  })
})

describe('messages as drawn', () => {
  it('draws a sticker as LINE’s image, with its ids for when the image is out of reach', () => {
    render(Message, {
      message: message({
        type: 'sticker',
        text: null,
        body: JSON.stringify({ type: 'sticker', packageId: '11537', stickerId: '52002734', keywords: ['OK'] }),
      }),
    })
    const image = screen.getByRole('img', { name: 'Sticker 11537/52002734' })
    expect(image.getAttribute('src')).toContain('/sticker/52002734/')
  })

  it('writes the words a patient typed on a message sticker under it', () => {
    render(Message, {
      message: message({
        type: 'sticker',
        text: 'よろしくお願いします',
        body: JSON.stringify({
          type: 'sticker',
          packageId: '11539',
          stickerId: '52114110',
          stickerResourceType: 'MESSAGE',
          text: 'よろしくお願いします',
        }),
      }),
    })
    expect(screen.getByRole('img', { name: 'Sticker 11539/52114110' })).toBeTruthy()
    expect(screen.getByText('よろしくお願いします')).toBeTruthy()
  })

  it('says which date and time a patient picked, in their own wall-clock', () => {
    render(Message, {
      message: message({
        type: 'postback',
        text: 'action=book',
        body: JSON.stringify({ type: 'postback', data: 'action=book', params: { datetime: '2026-09-03T15:30' } }),
      }),
    })
    expect(screen.getByText('Picked Sep 3, 2026, 3:30 PM')).toBeTruthy()
    expect(pickedWhen({ date: '2026-09-03' }, 'ja')).toBe('2026/09/03')
  })

  it('says what a patient answered by tapping a consent button, and only for one', () => {
    const tap = (data: string) =>
      message({ type: 'postback', text: data, body: JSON.stringify({ type: 'postback', data }) })
    render(Message, { message: tap('tsunagi:consent:reminders:yes:v1') })
    expect(screen.getByText('Answered yes: Reminders (v1)')).toBeTruthy()
    const t = (key: string) => key
    expect(consentAnswer('tsunagi:consent:health_on_line:no:2026-12', t)).toBe('message.consent.declined')
    expect(consentAnswer('action=book', t)).toBeNull()
    expect(pickedWhen({ time: '09:05' }, 'en')).toBe('9:05 AM')
    expect(pickedWhen({ datetime: 'soon' }, 'en')).toBeNull()
    expect(pickedWhen(undefined, 'en')).toBeNull()
  })

  it('quotes the message a patient answered, even one not loaded, and numbers photos sent together', () => {
    render(Message, {
      message: message({ text: 'やはり水曜日で' }),
      quoted: { direction: 'out', author_name: 'Aiko', type: 'text', text: '火曜日の10時はいかがですか', unsent: false },
    })
    const quote = screen.getByRole('blockquote')
    expect(quote.textContent).toContain('Aiko')
    expect(quote.textContent).toContain('火曜日の10時はいかがですか')

    const rows = timeline(
      [
        message({ seq: 1, quoted: { direction: 'in', author_name: null, type: 'sticker', text: 'OK', unsent: false } }),
        message({
          seq: 2,
          type: 'image',
          text: null,
          body: JSON.stringify({ type: 'image', imageSet: { id: 'S1', index: 2, total: 3 } }),
        }),
      ],
      [],
      false,
    )
    const marks = threadMarks(rows, (t) => new Date(t).toISOString().slice(0, 10))
    expect(marks.get(rows[0].key)!.quoted?.text).toBe('OK')
    expect(marks.get(rows[1].key)!.set).toEqual({ index: 2, total: 3 })
    render(Message, { message: rows[1].kind === 'message' ? rows[1].message : message(), set: { index: 2, total: 3 } })
    expect(screen.getByText('Photo 2 of 3 sent together')).toBeTruthy()
  })

  it('draws a location as a card whose map opens in the system browser', () => {
    const opened: string[] = []
    render(Message, {
      onopenlink: (url: string) => opened.push(url),
      message: message({
        type: 'location',
        text: null,
        body: JSON.stringify({ type: 'location', title: 'คลินิก', address: 'Bangkok', latitude: 13.7563, longitude: 100.5018 }),
      }),
    })
    expect(screen.getByText('คลินิก')).toBeTruthy()
    const link = screen.getByRole('link', { name: 'Open in map' })
    expect(link.getAttribute('href')).toContain('mlat=13.7563')
    link.click()
    expect(opened).toEqual([link.getAttribute('href')])
  })

  it('says what this version cannot read, a message or another LINE event, rather than hiding it', () => {
    render(Message, { message: message({ type: 'unreadable', supported: false, text: null }) })
    expect(screen.getByText(/cannot read this message/)).toBeTruthy()
    render(Message, { message: message({ direction: 'system', type: 'unreadable', supported: false, text: 'unsend' }) })
    expect(screen.getByText(/A LINE event this version cannot read: unsend/)).toBeTruthy()
  })

  it('marks unsent, edited and unsupported messages', () => {
    render(Message, { message: message({ unsent: true, edited_at: 5 }) })
    expect(screen.getByText('The patient unsent this message')).toBeTruthy()
    expect(screen.getByText('edited')).toBeTruthy()
    render(Message, { message: message({ type: 'gift', supported: false }) })
    expect(screen.getByText('Unsupported message (gift)')).toBeTruthy()
  })

  it('shows how an outgoing message went, and a failure with LINE’s reason and a retry', () => {
    const sent = (via: 'reply' | 'push', owner: boolean) =>
      render(Message, {
        message: message({ direction: 'out', author_name: 'Aiko', send_status: 'sent', sent_via: via }),
        owner,
      }).container.querySelector('footer')?.textContent?.trim()
    // A receptionist reads that it went; an owner, what it cost.
    expect(sent('push', false)).toBe('Sent')
    expect(sent('reply', true)).toBe('Sent · free')
    expect(sent('push', true)).toBe('Sent · counted in this month’s messages')
    let resent = false
    render(Message, {
      message: message({
        direction: 'out',
        send_status: 'failed',
        failure: 'The user blocked the account',
        line_request_id: '7d9c1e2a-0000-4f00-8000-000000000001',
      }),
      onresend: () => (resent = true),
    })
    expect(screen.getByRole('alert').textContent).toContain('The user blocked the account')
    // What LINE's support asks for.
    expect(screen.getByText('LINE request ID: 7d9c1e2a-0000-4f00-8000-000000000001')).toBeTruthy()
    screen.getByRole('button', { name: 'Send again' }).click()
    expect(resent).toBe(true)
  })

  it('says a reply LINE did not confirm may not have arrived, not that it failed, and offers to send it again', () => {
    let resent = false
    render(Message, {
      message: message({ direction: 'out', send_status: 'unconfirmed', failure: 'LINE did not confirm the reply' }),
      onresend: () => (resent = true),
    })
    const alert = screen.getByRole('alert')
    expect(alert.textContent).toBe('May not have arrived: LINE did not confirm it')
    expect(alert.textContent).not.toContain('Not sent')
    screen.getByRole('button', { name: 'Send again' }).click()
    expect(resent).toBe(true)
  })

  it('draws an answer still on its way as a bubble that can be held back, or sent again once refused', () => {
    const pending = {
      op_id: 'op-1',
      kind: 'send' as const,
      text: 'ได้ค่ะ',
      created_at: Date.UTC(2026, 11, 1, 1, 0),
      last_error: 'the relay could not be reached',
      refused: false,
    }
    const rows = queuedRows([pending, { ...pending, op_id: 'op-2', kind: 'claim' as const, text: null }], 'd-me')
    expect(rows.map((r) => r.kind)).toEqual(['queued'])
    let cancelled = false
    const row = rows[0] as Extract<Row, { kind: 'queued' }>
    render(Message, { message: row.message, queued: row.action, oncancelqueued: () => (cancelled = true) })
    expect(screen.getByText('ได้ค่ะ')).toBeTruthy()
    expect(screen.getByText('Not sent yet: it goes when the connection is back')).toBeTruthy()
    screen.getByRole('button', { name: 'Don’t send' }).click()
    expect(cancelled).toBe(true)
  })

  it('says who took the chat, and who tried too late', () => {
    render(HandoffLine, { event: claim(3) })
    expect(screen.getByText(/^Aiko took this chat at/)).toBeTruthy()
    render(HandoffLine, { event: claim(4, false) })
    expect(screen.getByText(/Aiko also tried to take this chat at .*, too late/)).toBeTruthy()
  })

  it('names the bot when it handed the chat over because the patient asked', () => {
    render(HandoffLine, {
      event: { ...claim(2), action: 'to_people', by: 'executor', by_name: null },
    })
    expect(screen.getByText(/Handed to staff at .*: the patient asked for a person/)).toBeTruthy()
  })

  it('plays a voice message from where the desk says, once the operator asks', async () => {
    const asked: string[] = []
    render(Message, {
      mediaUrl: (id: string, preview: boolean) => `media://test/${id}${preview ? '?preview' : ''}`,
      playable: async (id: string) => {
        asked.push(id)
        return { url: `blob:test/${id}`, release: () => {} }
      },
      message: message({
        type: 'audio',
        text: null,
        body: JSON.stringify({ type: 'audio', id: '1001', duration: 4000 }),
        media: { state: 'stored', content_type: 'audio/x-m4a', size: 64_537, preview: false, reason: null },
      }),
    })
    expect(document.querySelector('audio')).toBeNull()
    expect(screen.getByText('4 sec')).toBeTruthy()
    screen.getByRole('button', { name: /Play voice message/ }).click()
    await vi.waitFor(() => expect(document.querySelector('audio')?.getAttribute('src')).toBe('blob:test/1001'))
    expect(asked).toEqual(['1001'])
  })

  it('saves a patient’s file under the name they gave it, and says so', async () => {
    const saved: (string | null)[] = []
    render(Message, {
      mediaUrl: (id: string) => `media://test/${id}`,
      onsave: async (_m: unknown, name: string | null) => {
        saved.push(name)
        return true
      },
      message: message({
        type: 'file',
        text: null,
        body: JSON.stringify({ type: 'file', id: '1001', fileName: '診斷證明.pdf', fileSize: 48213 }),
        media: { state: 'stored', content_type: 'application/pdf', size: 48_213, preview: false, reason: null },
      }),
    })
    expect(screen.queryByRole('status')).toBeNull()
    screen.getByRole('button', { name: 'Save as…' }).click()
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Saved'))
    expect(saved).toEqual(['診斷證明.pdf'])
  })

  it('offers no saving of what the team sent or LINE no longer has', () => {
    render(Message, {
      mediaUrl: (id: string) => `media://test/${id}`,
      onsave: async () => true,
      message: message({
        type: 'file',
        text: null,
        body: JSON.stringify({ type: 'file', id: '1001', fileName: 'x.pdf', fileSize: 10 }),
        media: { state: 'gone', content_type: null, size: null, preview: false, reason: null },
      }),
    })
    expect(screen.queryByRole('button', { name: 'Save as…' })).toBeNull()
    expect(screen.getByText('LINE no longer has this file.')).toBeTruthy()
  })

  it('draws system lines in the reader’s words', () => {
    render(Message, {
      message: message({ direction: 'system', type: 'system', text: 'followed the account', author_name: 'Mali' }),
    })
    expect(screen.getByText(/Mali added the account as a friend/)).toBeTruthy()
  })
})
