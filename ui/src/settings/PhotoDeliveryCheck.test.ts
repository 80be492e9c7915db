import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { PhotoDeliveryView } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import PhotoDeliveryCheck from './PhotoDeliveryCheck.svelte'

const URL = 'https://relay.clinic.example/public/uploads/probe.png'
const broken: PhotoDeliveryView = {
  ok: false,
  url: URL,
  problem: 'certificate',
  detail: 'invalid peer certificate: UnknownIssuer',
  checked_at: Date.UTC(2026, 11, 1, 1, 0),
}
const fine: PhotoDeliveryView = { ...broken, ok: true, problem: null, detail: null, checked_at: Date.UTC(2026, 11, 1, 2, 0) }

describe('the photo delivery check', () => {
  it('shows what the relay last found, and checks again on demand', async () => {
    const desk = fakeDesk({ photo_delivery_get: () => broken, photo_delivery_check: () => fine })
    render(PhotoDeliveryCheck, { desk })
    const status = screen.getByRole('status')
    await waitFor(() =>
      expect(status.textContent).toContain(
        `LINE cannot fetch photos from ${URL}: its certificate is not one LINE trusts. Patients would see broken images.`,
      ),
    )
    expect(status.textContent).toContain('What the relay saw: invalid peer certificate: UnknownIssuer')
    expect(status.textContent).toContain('Checked')
    await fireEvent.click(screen.getByRole('button', { name: 'Check now' }))
    await waitFor(() => expect(status.textContent).toContain(`LINE can fetch photos from ${URL}.`))
    expect(status.textContent).not.toContain('UnknownIssuer')
    expect(desk.calls.map((c) => c.command)).toEqual(['photo_delivery_get', 'photo_delivery_check'])
  })

  it('says so when the relay cannot be asked, and the button stays to try again', async () => {
    const desk = fakeDesk({
      photo_delivery_get: () => {
        throw { code: 'relay_unreachable', message: 'connection refused' }
      },
      photo_delivery_check: () => {
        throw { code: 'owner_only', message: 'only the channel’s owners may do this' }
      },
    })
    render(PhotoDeliveryCheck, { desk })
    const alert = await screen.findByRole('alert')
    expect(alert.getAttribute('data-code')).toBe('relay_unreachable')
    await fireEvent.click(screen.getByRole('button', { name: 'Check now' }))
    await waitFor(() => expect(screen.getByRole('alert').getAttribute('data-code')).toBe('owner_only'))
    expect((screen.getByRole('button', { name: 'Check now' }) as HTMLButtonElement).disabled).toBe(false)
  })
})
