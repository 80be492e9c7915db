// What the clinic set that the workspace's panes draw with: the saved answers, the fields
// owners added to contacts, the escalation time, the team's tags, and the stickers LINE
// lets bots send. Read when the workspace opens; the settings and tags again when the log
// changes them.
import type { Canned, ContactField, StickerPackage } from '../lib/bindings'
import type { Desk } from '../lib/desk'
import { setClinicTimeZone } from '../lib/format'

export class Clinic {
  canned = $state<Canned[]>([])
  /** The fields owners added to every contact. */
  contactFields = $state<ContactField[]>([])
  /** The tags the team uses: the inbox narrows to one. */
  tags = $state<string[]>([])
  /** The clinic's escalation time: a row's wait turns amber at half of it, red at it. */
  escalateMs = $state(0)
  stickers = $state<StickerPackage[]>([])
  /** A window nobody used for this long locks (15 minutes until the settings are read). */
  lockAfterMs = $state(15 * 60_000)

  constructor(private readonly desk: Desk) {}

  /** The clinic's settings, and its time zone for every time the window shows. */
  async loadSettings() {
    const settings = await this.desk.call('clinic_settings', null)
    setClinicTimeZone(settings.time_zone)
    this.canned = settings.canned
    this.contactFields = settings.contact_fields
    this.escalateMs = settings.escalate_seconds * 1000
    this.lockAfterMs = settings.lock_after_minutes * 60_000
  }

  /** The team's tags; those already read stay when they cannot be read again. */
  async loadTags() {
    this.tags = await this.desk.call('tags_list', null).catch(() => this.tags)
  }

  async loadStickers() {
    this.stickers = await this.desk.call('stickers_list', null)
  }
}
