import { fireEvent, render, screen } from '@testing-library/svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { item, session } from '../testing/fake'
import ChatHeader from './ChatHeader.svelte'
import type { Control } from './conversation.svelte'
import { PendingDone, UNDO_MS } from './done.svelte'

function setup(overrides: Parameters<typeof item>[0]) {
  const acted: Control[] = []
  const closed: string[] = []
  const done = new PendingDone(async (id) => void closed.push(id))
  render(ChatHeader, {
    item: item(overrides),
    name: 'สมหญิง',
    me: 'd-me',
    language: 'th',
    stateLine: '',
    done,
    loadOperators: async () => [
      { id: 'd-me', name: 'Me', active: true },
      { id: 'd-aiko', name: 'Aiko', active: true },
    ],
    onact: (c: Control) => void acted.push(c),
    ontransfer: () => {},
  })
  return { acted, closed }
}

describe('the chat’s header', () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }))
  afterEach(() => vi.useRealTimers())

  it('offers Claim on a waiting chat, and says how long the patient has waited, urgently', async () => {
    const { acted } = setup({
      awaiting_since: Date.now() - 7 * 60_000,
      session: session({ urgent_at: Date.now() }),
    })
    expect(screen.getByText('Urgent')).toBeTruthy()
    expect(screen.getByText('waiting 7 min').className).toContain('red')
    expect(screen.getByText('Thai')).toBeTruthy()
    await fireEvent.click(screen.getByRole('button', { name: 'Claim' }))
    expect(acted).toEqual(['claim'])
  })

  it('puts handing on in the holder’s menu and Done first, with a moment to undo', async () => {
    const { acted, closed } = setup({
      queue_position: null,
      session: session({ status: 'active', operator: 'd-me', operator_name: 'Me' }),
    })
    await fireEvent.click(screen.getByRole('button', { name: 'You: hand on the chat' }))
    const items = screen.getAllByRole('menuitem').map((m) => m.textContent)
    expect(items).toEqual(['Transfer to a colleague…', 'Put back in the queue', 'Back to bot'])
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Put back in the queue' }))
    expect(acted).toEqual(['release'])

    await fireEvent.click(screen.getByRole('button', { name: 'Done' }))
    expect(screen.getByRole('status').textContent).toContain('Closing in 5 s')
    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }))
    vi.advanceTimersByTime(UNDO_MS + 100)
    expect(closed).toEqual([])
    await fireEvent.click(screen.getByRole('button', { name: 'Done' }))
    vi.advanceTimersByTime(UNDO_MS + 100)
    expect(closed).toEqual(['U4af4980629a1b2c3d4e5f60718293a4b'])
  })

  it('shows who holds a colleague’s chat, with nothing to press', () => {
    setup({
      queue_position: null,
      session: session({ status: 'active', operator: 'd-aiko', operator_name: 'Aiko' }),
    })
    expect(screen.getByText('Aiko')).toBeTruthy()
    expect(screen.queryAllByRole('button')).toEqual([])
  })
})
