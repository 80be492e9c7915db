import { describe, expect, it } from 'vitest'
import type { PhotoDeliveryView } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import { PhotoAttachment } from './photo.svelte'

const jpeg = () => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], 'rash.jpg', { type: 'image/jpeg' })

const broken: PhotoDeliveryView = {
  ok: false,
  url: 'https://relay.clinic.example/public/uploads/probe.png',
  problem: 'unreachable',
  detail: null,
  checked_at: 0,
}

describe('a photo attached', () => {
  it('is uploading until it has gone, and goes unasked when there is no desk to ask', async () => {
    const seen: boolean[] = []
    const photo: PhotoAttachment = new PhotoAttachment(() => ({
      desk: null,
      onphoto: async () => {
        seen.push(photo.uploading)
      },
    }))
    await photo.attach(jpeg())
    expect(seen).toEqual([true])
    expect(photo.uploading).toBe(false)
    expect(photo.held).toBeNull()
  })

  it('does nothing where photos cannot be sent', async () => {
    const desk = fakeDesk({ photo_delivery_get: () => broken })
    const photo = new PhotoAttachment(() => ({ desk }))
    await photo.attach(jpeg())
    expect(desk.calls).toEqual([])
    expect(photo.held).toBeNull()
  })

  it('is held with the reason, and dropped for another chat', async () => {
    const sent: Uint8Array[] = []
    const desk = fakeDesk({ photo_delivery_get: () => broken })
    const photo = new PhotoAttachment(() => ({ desk, onphoto: async (bytes) => void sent.push(bytes) }))
    await photo.attach(jpeg())
    expect(photo.delivery?.problem).toBe('unreachable')
    expect(photo.held).toEqual(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))
    photo.drop()
    expect([photo.held, photo.delivery]).toEqual([null, null])
    expect(sent).toEqual([])
  })

  it('stays held when the relay cannot check again', async () => {
    const desk = fakeDesk({
      photo_delivery_get: () => broken,
      photo_delivery_check: () => {
        throw { code: 'relay_unreachable', message: 'offline' }
      },
    })
    const photo = new PhotoAttachment(() => ({ desk, onphoto: async () => {} }))
    await photo.attach(jpeg())
    await photo.checkAgain()
    expect(photo.delivery).toEqual(broken)
    expect(photo.rechecking).toBe(false)
  })
})
