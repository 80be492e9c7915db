import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { LockState } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import { IdleLock } from './idle.svelte'
import LockScreen from './LockScreen.svelte'

describe('the window locks', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('after the clinic’s time without input, and not while the operator works', () => {
    const idle = new IdleLock(15 * 60_000)
    vi.advanceTimersByTime(14 * 60_000)
    idle.touched()
    vi.advanceTimersByTime(14 * 60_000)
    expect(idle.locked).toBe(false)
    vi.advanceTimersByTime(60_000 + 1000)
    expect(idle.locked).toBe(true)
    idle.unlock()
    expect(idle.locked).toBe(false)
    // The clinic shortened it: the new time counts from the last input.
    idle.afterMs = 60_000
    vi.advanceTimersByTime(61_000)
    expect(idle.locked).toBe(true)
    idle.stop()
  })

  it('at once when the operator locks it', () => {
    const idle = new IdleLock(15 * 60_000)
    idle.lock(true)
    expect([idle.locked, idle.byOperator]).toEqual([true, true])
    idle.stop()
  })
})

describe('the lock screen', () => {
  const set: LockState = { pin_set: true, tries_left: 5, wait_until: null }

  it('opens with the right PIN, says how many tries are left, and makes the next wait', async () => {
    const tries: string[] = []
    const desk = fakeDesk({
      lock_state: () => set,
      lock_open: ({ pin }) => {
        tries.push(pin)
        if (pin === '2580') return { result: 'opened' }
        if (tries.length < 2) return { result: 'wrong', pin_set: true, tries_left: 1, wait_until: null }
        return { result: 'wrong', pin_set: true, tries_left: 0, wait_until: Date.now() + 30_000 }
      },
    })
    let opened = 0
    render(LockScreen, { desk, byOperator: false, onopen: () => opened++ })
    const pin = await screen.findByLabelText('PIN')
    await fireEvent.input(pin, { target: { value: '1111' } })
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong PIN. 1 more try before a wait.')
    await fireEvent.input(pin, { target: { value: '1112' } })
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }))
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Too many wrong PINs. Try again at'))
    expect(pin).toHaveProperty('disabled', true)
    expect(opened).toBe(0)
  })

  it('only hides a desk without a PIN when time locks it: nobody who finds it chooses one', async () => {
    const desk = fakeDesk({ lock_state: () => ({ pin_set: false, tries_left: 5, wait_until: null }) })
    let opened = 0
    render(LockScreen, { desk, byOperator: false, onopen: () => opened++ })
    await fireEvent.click(await screen.findByRole('button', { name: 'Show' }))
    expect(opened).toBe(1)
    expect(screen.queryByLabelText('New PIN')).toBeNull()
  })

  it('asks a desk without a PIN to choose one when the operator locks it, twice alike', async () => {
    const chosen: string[] = []
    const desk = fakeDesk({
      lock_state: () => ({ pin_set: false, tries_left: 5, wait_until: null }),
      lock_set_pin: ({ pin }) => {
        chosen.push(pin)
        return set
      },
    })
    let opened = 0
    render(LockScreen, { desk, byOperator: true, onopen: () => opened++ })
    await fireEvent.input(await screen.findByLabelText('New PIN'), { target: { value: '246810' } })
    await fireEvent.input(screen.getByLabelText('New PIN again'), { target: { value: '246811' } })
    await fireEvent.click(screen.getByRole('button', { name: 'Set PIN and unlock' }))
    expect((await screen.findByRole('alert')).textContent).toBe('The two PINs differ.')
    await fireEvent.input(screen.getByLabelText('New PIN again'), { target: { value: '246810' } })
    await fireEvent.click(screen.getByRole('button', { name: 'Set PIN and unlock' }))
    await waitFor(() => expect(opened).toBe(1))
    expect(chosen).toEqual(['246810'])
  })
})
