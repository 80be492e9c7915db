import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { InboxItem, InboxList } from '../lib/bindings'
import { counts as countsOf, fakeDesk, item, session } from '../testing/fake'
import Inbox from './Inbox.svelte'
import { Inbox as InboxState, PAGE, unreadBadge, waitLevel } from './inbox.svelte'

const counts = countsOf({
  needs_reply: 4,
  waiting: 3,
  mine: 1,
  active: 2,
  team: 1,
  bot: 40,
  closed: 7,
  unread_conversations: 2,
  unread_mine: 1,
})

function many(n: number, from = 0): InboxItem[] {
  return Array.from({ length: n }, (_, i) =>
    item({
      conversation: `U${String(from + i).padStart(32, '0')}`,
      name: `Patient ${from + i}`,
      cursor: 100_000 - from - i,
      queue_position: null,
      waiting_ms: null,
      session: null,
      mode: 'bot',
    }),
  )
}

describe('the inbox', () => {
  it('shows every tab with its count, and a waiting row with its place and live wait', async () => {
    const desk = fakeDesk({
      inbox_list: () => [item({ queue_position: 2, waiting_ms: 90_000 })],
      inbox_counts: () => counts,
    })
    const inbox = new InboxState(desk)
    await inbox.show('waiting')
    const { rerender } = render(Inbox, { inbox, now: inbox.readAt, onopen: () => {} })
    const tabs = screen.getAllByRole('tab')
    expect(tabs.map((t) => t.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Needs reply 4',
      'Waiting 3',
      'Mine 1',
      'Team 1',
      'Bot 40',
      'Closed 7',
    ])
    expect(screen.getByRole('tab', { name: /Waiting/ }).getAttribute('aria-selected')).toBe('true')
    const row = await screen.findByRole('option', { hidden: true })
    expect(row.textContent).toContain('สมหญิง')
    expect(row.textContent).toContain('No. 2 in line')
    expect(within(row).getByLabelText('waiting 1 min').textContent).toBe('1 min')
    expect(within(row).getByLabelText('2 unread messages').textContent).toBe('2')
    // A minute later, without asking the desk again, the wait has grown.
    await rerender({ inbox, now: inbox.readAt + 60_000, onopen: () => {} })
    expect(screen.getByRole('option', { hidden: true }).textContent).toContain('2 min')
    // Mine holds a message this desk has not seen: its tab says so; the others do not.
    expect(screen.getByRole('tab', { name: /Mine/ }).getAttribute('aria-describedby')).toBe('inbox-tab-unread')
    expect(screen.getByRole('tab', { name: /Team/ }).getAttribute('aria-describedby')).toBeNull()
  })

  it('previews the patient’s words, or who answered last, with a glyph for media', async () => {
    const rows = [
      item({ conversation: 'U1', name: 'Ann', preview: '[image]', speaker: 'patient' }),
      item({ conversation: 'U2', name: 'Ben', preview: 'See you at 10', speaker: 'staff', speaker_id: 'd-me' }),
      item({
        conversation: 'U3',
        name: 'Cho',
        preview: 'Take two a day',
        speaker: 'staff',
        speaker_id: 'd-aiko',
        speaker_name: 'Aiko',
      }),
      item({ conversation: 'U4', name: 'Dao', preview: 'We open at 9', speaker: 'bot', mode: 'bot', session: null }),
    ]
    const desk = fakeDesk({ inbox_list: () => rows, inbox_counts: () => counts })
    const inbox = new InboxState(desk)
    await inbox.show('needs_reply')
    render(Inbox, { inbox, now: Date.now(), me: 'd-me', onopen: () => {} })
    const texts = (await screen.findAllByRole('option', { hidden: true })).map((r) =>
      r.querySelector('.preview')?.textContent?.replace(/\s+/g, ' ').trim(),
    )
    expect(texts).toEqual(['📷 Photo', 'You: See you at 10', 'Aiko: Take two a day', 'Bot: We open at 9'])
  })

  it('shows how long the patient has waited on every open row, amber at half the escalation time and red at it', async () => {
    const now = Date.UTC(2026, 11, 1, 2, 0)
    const waited = (minutes: number) =>
      item({
        conversation: `U${minutes}`,
        queue_position: null,
        waiting_ms: null,
        awaiting_since: now - minutes * 60_000,
        session: session({ status: 'active', operator: 'd-me', operator_name: 'Me' }),
      })
    const desk = fakeDesk({
      inbox_list: () => [waited(1), waited(6), waited(12), { ...waited(30), mode: 'bot', session: null }],
      inbox_counts: () => counts,
    })
    const inbox = new InboxState(desk)
    await inbox.show('mine')
    render(Inbox, { inbox, now, escalateMs: 10 * 60_000, onopen: () => {} })
    const pills = (await screen.findAllByRole('option', { hidden: true })).map(
      (r) => r.querySelector('.wait')?.className.replace(/svelte-\S+/g, '').trim() ?? 'none',
    )
    // In the bot's hands, no wait is shown.
    expect(pills).toEqual(['wait calm', 'wait amber', 'wait red', 'none'])
    expect(waitLevel(4 * 60_000, 0)).toBe('amber')
  })

  it('narrows every list to the patients with a tag', async () => {
    const asked: (string | null)[] = []
    const desk = fakeDesk({
      inbox_list: (r) => {
        asked.push(r.tag)
        return r.tag ? [] : [item()]
      },
      inbox_counts: () => counts,
    })
    const inbox = new InboxState(desk)
    await inbox.show('waiting')
    render(Inbox, { inbox, now: Date.now(), tags: ['diabetes', 'vip'], onopen: () => {} })
    await fireEvent.change(screen.getByRole('combobox', { name: 'Show chats with the tag' }), {
      target: { value: 'vip' },
    })
    await screen.findByText('No chat here with the tag “vip”.')
    await fireEvent.click(screen.getByRole('tab', { name: /Mine/ }))
    expect(asked).toEqual([null, 'vip', 'vip'])
  })

  it('keeps the chat being answered in view when it leaves the list', async () => {
    let list = [item({ conversation: 'U1', name: 'Ann' }), item({ conversation: 'U2', name: 'Ben' })]
    const desk = fakeDesk({ inbox_list: () => list, inbox_counts: () => counts })
    const inbox = new InboxState(desk)
    await inbox.show('waiting')
    inbox.selected = 'U1'
    inbox.openItem = { ...list[0], queue_position: null, session: session({ status: 'active' }) }
    // Claimed: the queue no longer holds it.
    list = [list[1]]
    await inbox.refresh()
    expect(inbox.items.map((i) => [i.conversation, i.queue_position])).toEqual([
      ['U1', null],
      ['U2', 1],
    ])
    // The pane reads the chat again (it was answered): the kept row shows it at once.
    inbox.openItem = { ...inbox.openItem!, preview: 'See you at 10', speaker: 'staff' }
    expect(inbox.items[0].preview).toBe('See you at 10')
    // Another chosen: the list is the queue again.
    inbox.selected = 'U2'
    await inbox.refresh()
    expect(inbox.items.map((i) => i.conversation)).toEqual(['U2'])
  })

  it('shows who holds a chat in Team, and opens a row on click', async () => {
    const held = item({
      queue_position: null,
      waiting_ms: null,
      session: session({ status: 'active', operator: 'd-aiko', operator_name: 'Aiko' }),
    })
    const desk = fakeDesk({ inbox_list: () => [held], inbox_counts: () => counts })
    const inbox = new InboxState(desk)
    await inbox.show('team')
    let opened = ''
    render(Inbox, { inbox, now: Date.now(), onopen: (id: string) => (opened = id) })
    const row = await screen.findByRole('option', { hidden: true })
    expect(row.textContent).toContain('with Aiko')
    await fireEvent.click(row)
    expect(opened).toBe(held.conversation)
  })

  it('asks for the list of the tab chosen, and says when it is empty', async () => {
    const asked: InboxList[] = []
    const desk = fakeDesk({
      inbox_list: (r) => {
        asked.push(r.list)
        return []
      },
      inbox_counts: () => counts,
    })
    const inbox = new InboxState(desk)
    await inbox.show('waiting')
    render(Inbox, { inbox, now: Date.now(), onopen: () => {} })
    await fireEvent.click(screen.getByRole('tab', { name: /Mine/ }))
    await screen.findByText('You have no open chats.')
    expect(asked).toEqual(['waiting', 'mine'])
  })

  it('pages in from the last row’s cursor and never repeats a row', async () => {
    const pages = [many(PAGE), many(PAGE, PAGE - 1)]
    const desk = fakeDesk({
      inbox_list: (r) => (r.before === null ? pages[0] : pages[1]),
      inbox_counts: () => counts,
    })
    const inbox = new InboxState(desk)
    await inbox.show('bot')
    await inbox.more()
    const before = desk.calls.filter((c) => c.command === 'inbox_list').map((c) => (c.request as { before: number | null }).before)
    expect(before).toEqual([null, 100_000 - PAGE + 1])
    expect(inbox.items.length).toBe(2 * PAGE - 1)
    expect(new Set(inbox.items.map((i) => i.conversation)).size).toBe(inbox.items.length)
    expect(inbox.exhausted).toBe(false)
  })

  it('moves the selection with the keyboard within the list', async () => {
    const desk = fakeDesk({ inbox_list: () => many(3), inbox_counts: () => counts })
    const inbox = new InboxState(desk)
    await inbox.show('bot')
    expect(inbox.move(1)).toBe(inbox.items[0].conversation)
    expect(inbox.move(1)).toBe(inbox.items[1].conversation)
    expect(inbox.move(5)).toBe(inbox.items[2].conversation)
    expect(inbox.move(-9)).toBe(inbox.items[0].conversation)
  })

  it('caps the unread badge', () => {
    expect(unreadBadge(7)).toBe('7')
    expect(unreadBadge(100)).toBe('99+')
  })
})
