// A photo the operator attaches to a chat. It goes at once, unless the relay last found
// that LINE cannot fetch photos from it: then it is held, with the reason, until the
// operator sends it anyway or drops it, or an owner has the relay check again.
import type { PhotoDeliveryView } from '../lib/bindings'
import type { Desk } from '../lib/desk'
import { photoHeld } from './composer'

/** Who is asked about photos (none: the photo goes unasked), and who sends them. */
export type PhotoSending = {
  desk: Desk | null
  onphoto?: (bytes: Uint8Array) => Promise<void>
}

export class PhotoAttachment {
  /** True while a photo goes to the relay. */
  uploading = $state(false)
  /** The photo held, until the operator chooses. */
  held = $state<Uint8Array | null>(null)
  /** Why it is held: what the relay found. */
  delivery = $state<PhotoDeliveryView | null>(null)
  /** True while the relay checks again. */
  rechecking = $state(false)

  /** `sending` is read at each use: the composer's props may change. */
  constructor(private readonly sending: () => PhotoSending) {}

  /** Sends the photo the operator chose, or holds it. */
  async attach(file: File) {
    const { desk, onphoto } = this.sending()
    if (!onphoto) return
    this.uploading = true
    try {
      const bytes = new Uint8Array(await file.arrayBuffer())
      // The relay's last check (it answers from memory); when it cannot say, the photo goes.
      const found = desk ? await desk.call('photo_delivery_get', null).catch(() => null) : null
      if (photoHeld(found)) {
        this.delivery = found
        this.held = bytes
        return
      }
      await onphoto(bytes)
    } finally {
      this.uploading = false
    }
  }

  /** Sends the held photo as it is. */
  async sendHeld() {
    const bytes = this.held
    this.drop()
    const { onphoto } = this.sending()
    if (!bytes || !onphoto) return
    this.uploading = true
    try {
      await onphoto(bytes)
    } finally {
      this.uploading = false
    }
  }

  /** An owner has the relay check again: fixed now, the photo goes. */
  async checkAgain() {
    const { desk } = this.sending()
    if (!desk) return
    this.rechecking = true
    try {
      const found = await desk.call('photo_delivery_check', null)
      if (photoHeld(found)) this.delivery = found
      else await this.sendHeld()
    } catch {
      // The warning stays as it was.
    } finally {
      this.rechecking = false
    }
  }

  /** The held photo is not sent (or was for another chat). */
  drop() {
    this.held = null
    this.delivery = null
  }
}
