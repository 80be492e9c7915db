import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { afterEach, describe, expect, it } from 'vitest'
import { asIpcError, tauriDesk } from './desk'

afterEach(() => clearMocks())

describe('tauriDesk', () => {
  it('calls relay_url_check with the request shape the Rust command takes', async () => {
    const calls: Array<{ cmd: string; args: unknown }> = []
    mockIPC((cmd, args) => {
      calls.push({ cmd, args })
      return { relay_url: 'https://r.example', webhook_url_template: 'x', encrypted: true }
    })
    const checked = await tauriDesk.checkRelayUrl('https://r.example/')
    expect(calls).toEqual([
      { cmd: 'relay_url_check', args: { request: { url: 'https://r.example/' } } },
    ])
    expect(checked.relay_url).toBe('https://r.example')
  })

  it('passes an IpcError through unchanged', async () => {
    mockIPC(() => {
      throw { code: 'invalid_input', message: 'Enter the relay address.' }
    })
    await expect(tauriDesk.checkRelayUrl('')).rejects.toEqual({
      code: 'invalid_input',
      message: 'Enter the relay address.',
    })
  })

  it('turns anything else into an internal error', () => {
    expect(asIpcError('command app_info not found')).toEqual({
      code: 'internal',
      message: 'command app_info not found',
    })
  })
})
