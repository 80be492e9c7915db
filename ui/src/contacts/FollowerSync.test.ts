import { render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { FollowerSyncView } from '../lib/bindings'
import FollowerSync from './FollowerSync.svelte'

const sync = (over: Partial<FollowerSyncView>): FollowerSyncView => ({
  eta: null,
  sync: 's1',
  device: 'd-owner',
  started_at: Date.UTC(2026, 11, 1, 1, 0),
  done: 0,
  total: null,
  progress_at: null,
  outcome: null,
  reason: null,
  ended_at: null,
  ...over,
})

describe('the follower sync', () => {
  it('shows how far a running sync is, and lets nobody start another', () => {
    render(FollowerSync, { sync: sync({ done: 500, total: 2000 }), owner: true, onstart: () => {} })
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('25')
    expect(screen.getByRole('status').textContent).toContain('500 of 2,000 followers')
    expect(screen.getByRole('button', { name: 'Sync followers from LINE' })).toHaveProperty('disabled', true)
  })

  it('says why LINE would not list followers, in LINE’s words too', () => {
    render(FollowerSync, {
      sync: sync({ outcome: 'unavailable', reason: 'Access to this API is not available' }),
      owner: false,
      onstart: () => {},
    })
    expect(screen.getByRole('status').textContent).toContain('verified and premium accounts')
    expect(screen.getByText('LINE said: Access to this API is not available')).toBeTruthy()
    expect(screen.queryByRole('button')).toBeNull()
  })

  it('says what a sync would do before the first', () => {
    render(FollowerSync, { sync: null, owner: true, onstart: () => {} })
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(screen.getByText(/An owner can also fetch every follower/)).toBeTruthy()
  })
})
