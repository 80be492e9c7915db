import { describe, expect, it } from 'vitest'
import { Attempts } from './attempts.svelte'
import type { IpcError } from './bindings'

describe('Attempts', () => {
  it('keeps a failure until the next attempt, which clears it', async () => {
    const attempts = new Attempts()
    const refused: IpcError = { code: 'owner_only', message: 'owners only' }
    await attempts.run(() => Promise.reject(refused))
    expect(attempts.error).toEqual(refused)
    let ran = false
    await attempts.run(async () => {
      ran = true
    })
    expect(ran).toBe(true)
    expect(attempts.error).toBeNull()
  })
})
