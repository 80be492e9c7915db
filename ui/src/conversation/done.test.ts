import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PendingDone, UNDO_MS } from './done.svelte'

describe('Done with a moment to undo', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('closes the chat only once the moment has passed, and never when undone', async () => {
    const closed: string[] = []
    const done = new PendingDone(async (id) => void closed.push(id))
    done.start('U1')
    done.start('U1')
    done.start('U2')
    expect(done.has('U1')).toBe(true)
    vi.advanceTimersByTime(UNDO_MS - 1)
    expect(closed).toEqual([])
    done.undo('U2')
    vi.advanceTimersByTime(1)
    expect(closed).toEqual(['U1'])
    vi.advanceTimersByTime(UNDO_MS)
    expect(closed).toEqual(['U1'])
    expect(done.entries).toEqual([])
  })
})
