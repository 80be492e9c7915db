import { fireEvent, render, screen } from '@testing-library/svelte'
import { describe, expect, it, vi } from 'vitest'
import type { IpcError, RelayUrlChecked } from './bindings'
import Connect from './Connect.svelte'
import type { Desk } from './desk'

function fakeDesk(check: (url: string) => Promise<RelayUrlChecked>): Desk {
  return {
    appInfo: vi.fn(),
    checkRelayUrl: vi.fn(check),
  }
}

async function submit(url: string) {
  const input = screen.getByLabelText('Relay address')
  await fireEvent.input(input, { target: { value: url } })
  await fireEvent.click(screen.getByRole('button', { name: 'Check address' }))
}

describe('Connect', () => {
  it('shows the normalized address and the webhook LINE will call', async () => {
    const desk = fakeDesk(async () => ({
      relay_url: 'https://relay.example.com',
      webhook_url_template: 'https://relay.example.com/webhook/line/{channel_id}',
      encrypted: true,
    }))
    render(Connect, { desk })
    await submit(' https://relay.example.com/ ')

    expect(desk.checkRelayUrl).toHaveBeenCalledWith(' https://relay.example.com/ ')
    const status = await screen.findByTestId('relay-checked')
    expect(status.textContent).toContain('https://relay.example.com/webhook/line/{channel_id}')
    expect(status.textContent).not.toContain('without encryption')
  })

  it('warns when the relay is local and unencrypted', async () => {
    render(Connect, {
      desk: fakeDesk(async () => ({
        relay_url: 'http://127.0.0.1:8080',
        webhook_url_template: 'http://127.0.0.1:8080/webhook/line/{channel_id}',
        encrypted: false,
      })),
    })
    await submit('http://127.0.0.1:8080')
    const status = await screen.findByTestId('relay-checked')
    expect(status.textContent).toContain('without encryption')
  })

  it('shows the error message and marks the field invalid', async () => {
    const refusal: IpcError = {
      code: 'invalid_input',
      message: 'The relay must use https://',
    }
    render(Connect, { desk: fakeDesk(() => Promise.reject(refusal)) })
    await submit('http://relay.example.com')

    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('The relay must use https://')
    expect(alert.dataset.code).toBe('invalid_input')
    expect(screen.getByLabelText('Relay address').getAttribute('aria-invalid')).toBe('true')
    expect(screen.queryByTestId('relay-checked')).toBeNull()
  })
})
