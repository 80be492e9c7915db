import { fireEvent, render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { PendingAction } from '../lib/bindings'
import PendingActions from './PendingActions.svelte'

const action = (over: Partial<PendingAction>): PendingAction => ({
  op_id: 'op-1',
  kind: 'claim',
  text: null,
  created_at: 0,
  last_error: null,
  refused: false,
  ...over,
})

describe('what has not reached the log', () => {
  it('says what waits and what was refused, and retries only the refused', async () => {
    const retried: string[] = []
    const discarded: string[] = []
    render(PendingActions, {
      actions: [action({}), action({ op_id: 'op-2', kind: 'close', refused: true, last_error: 'not yours' })],
      onretry: (id: string) => retried.push(id),
      ondiscard: (id: string) => discarded.push(id),
    })
    const list = screen.getByRole('list', { name: '2 actions waiting' })
    expect(list.textContent).toContain('Waiting for the relay: claim')
    expect(list.textContent).toContain('Not done: close (not yours)')
    expect(screen.getAllByRole('button', { name: 'Retry' })).toHaveLength(1)
    await fireEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await fireEvent.click(screen.getAllByRole('button', { name: 'Cancel' })[0])
    expect([retried, discarded]).toEqual([['op-2'], ['op-1']])
  })

  it('draws nothing when nothing waits', () => {
    render(PendingActions, { actions: [], onretry: () => {}, ondiscard: () => {} })
    expect(screen.queryByRole('list')).toBeNull()
  })
})
