import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { ChannelConnected, ProfileView } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import ConnectChannel from './ConnectChannel.svelte'

const profile: ProfileView = {
  relay: 'https://relay.clinic.example',
  channel_id: null,
  operator_id: 'd-yuki',
  operator: 'Yuki',
  role: 'owner',
}
const URL = 'https://relay.clinic.example/webhook/line/1656789012'

describe('connecting a channel', () => {
  it('says in the owner’s words what LINE’s console must change, and how LINE failed to reach the relay', async () => {
    const connected: ChannelConnected = {
      profile: { ...profile, channel_id: '1656789012' },
      steps: [
        { name: 'credentials', ok: true, detail: 'LINE accepted the channel id and secret', problem: null },
        {
          name: 'webhook URL',
          ok: false,
          detail: `LINE has the webhook URL ${URL} but does not use it`,
          problem: { problem: 'webhook_off', endpoint: URL },
        },
        {
          name: 'webhook test',
          ok: false,
          detail: `LINE could not reach ${URL}: COULD_NOT_CONNECT — Connection refused`,
          problem: { problem: 'webhook_unreached', endpoint: URL, reason: 'COULD_NOT_CONNECT', detail: 'Connection refused' },
        },
      ],
    }
    const desk = fakeDesk({ channel_connect: () => connected })
    render(ConnectChannel, { desk, profile, onconnected: () => {} })
    await fireEvent.input(screen.getByLabelText('Channel ID'), { target: { value: '1656789012' } })
    await fireEvent.input(screen.getByLabelText('Channel secret'), { target: { value: 'x'.repeat(32) } })
    await fireEvent.submit(screen.getByRole('button', { name: 'Connect' }))
    const steps = await waitFor(() => screen.getByRole('list', { name: 'Steps' }))
    expect(steps.textContent).toContain('“Use webhook” is off')
    expect(steps.textContent).toContain('Messaging API tab → Webhook settings')
    expect(steps.textContent).toContain(`LINE could not reach ${URL} (COULD_NOT_CONNECT — Connection refused)`)
  })
})
