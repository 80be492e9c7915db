import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { InboxItem, InboxList } from '../lib/bindings'
import { fakeDesk, item, session } from '../testing/fake'
import Inbox from './Inbox.svelte'
import { Inbox as InboxState, PAGE, unreadBadge } from './inbox.svelte'

const counts = { waiting: 3, mine: 1, active: 2, team: 1, bot: 40, closed: 7, unread_conversations: 2 }

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
    expect(row.textContent).toContain('waiting 1 min')
    expect(within(row).getByLabelText('2 unread messages').textContent).toBe('2')
    // A minute later, without asking the desk again, the wait has grown.
    await rerender({ inbox, now: inbox.readAt + 60_000, onopen: () => {} })
    expect(screen.getByRole('option', { hidden: true }).textContent).toContain('waiting 2 min')
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
