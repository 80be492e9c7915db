import { render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import App from './App.svelte'
import type { Desk } from './lib/desk'

const desk = (keyring: 'available' | 'unavailable'): Desk => ({
  appInfo: async () => ({
    version: '0.1.0',
    os: 'linux',
    keyring:
      keyring === 'available'
        ? { state: 'available' }
        : { state: 'unavailable', reason: 'No keyring service is running.' },
  }),
  checkRelayUrl: async () => {
    throw new Error('not used')
  },
})

describe('App', () => {
  it('renders the first screen with the version from Rust', async () => {
    render(App, { desk: desk('available') })
    expect(screen.getByRole('heading', { name: 'Tsunagi' })).toBeTruthy()
    expect((await screen.findByTestId('app-version')).textContent).toBe('Tsunagi 0.1.0 · linux')
    expect(screen.getByTestId('keyring').textContent).toContain('system keyring')
  })

  it('says plainly when secrets cannot be kept', async () => {
    render(App, { desk: desk('unavailable') })
    const warning = await screen.findByTestId('keyring')
    expect(warning.textContent).toContain('No keyring service is running.')
  })
})
