// The inbox's state: which list, its rows (paged in as the list scrolls), the counts on
// each tab, and which conversation is selected.
import type { InboxCounts, InboxItem, InboxList } from '../lib/bindings'
import { previewText } from '../conversation/describe'
import type { Desk } from '../lib/desk'

export const TABS: readonly InboxList[] = ['needs_reply', 'waiting', 'mine', 'team', 'bot', 'closed']
export const PAGE = 100
/** The most rows one read of a list gives. */
export const MAX_PAGE = 500

type Translate = (
  key: string,
  options?: { values?: Record<string, string | number | boolean | Date | null | undefined> },
) => string

/** The badge of a tab. */
export function countOf(counts: InboxCounts | null, tab: InboxList): number {
  if (!counts) return 0
  switch (tab) {
    case 'needs_reply':
      return counts.needs_reply
    case 'waiting':
      return counts.waiting
    case 'mine':
      return counts.mine
    case 'team':
      return counts.team
    case 'bot':
      return counts.bot
    case 'closed':
      return counts.closed
    case 'active':
      return counts.active
  }
}

/** Whether a tab's list holds messages this desk has not seen. */
export function hasUnread(counts: InboxCounts | null, tab: InboxList): boolean {
  if (!counts) return false
  switch (tab) {
    case 'needs_reply':
      return counts.unread_needs_reply > 0
    case 'waiting':
      return counts.unread_waiting > 0
    case 'mine':
      return counts.unread_mine > 0
    case 'team':
      return counts.unread_team > 0
    default:
      return false
  }
}

/** How long the patient has waited for a person, as of `now` (`sinceRead`: how long ago
 *  the row was read); `null` for a chat that is not in people's hands, or answered. */
export function waitOf(item: InboxItem, sinceRead: number, now: number): number | null {
  const open = item.session !== null && item.session.status !== 'closed' && item.mode === 'human'
  if (!open) return null
  if (item.awaiting_since !== null) return Math.max(0, now - item.awaiting_since)
  if (item.waiting_ms !== null) return item.waiting_ms + Math.max(0, sinceRead)
  return null
}

/** Before the clinic set one, chats escalate after five minutes. */
const DEFAULT_ESCALATE_MS = 5 * 60_000

/** How pressing a wait is: amber from half the clinic's escalation time, red from it. */
export function waitLevel(ms: number, escalateMs: number): 'calm' | 'amber' | 'red' {
  const limit = escalateMs > 0 ? escalateMs : DEFAULT_ESCALATE_MS
  if (ms >= limit) return 'red'
  if (ms >= limit / 2) return 'amber'
  return 'calm'
}

/** A row's preview: who spoke last, unless the patient did, and what was said. */
export function previewLine(item: InboxItem, me: string, t: Translate): { who: string | null; text: string } {
  const text = previewText(item.preview, t)
  switch (item.speaker) {
    case 'bot':
      return { who: t('inbox.from.bot'), text }
    case 'staff':
      return {
        who:
          item.speaker_id === me
            ? t('inbox.from.you')
            : t('inbox.from.staff', { values: { name: item.speaker_name ?? t('inbox.from.colleague') } }),
        text,
      }
    default:
      return { who: null, text }
  }
}

/** "99+" past the cap the desk counts to. */
export function unreadBadge(unread: number): string {
  return unread >= 100 ? '99+' : String(unread)
}

export class Inbox {
  tab = $state<InboxList>('needs_reply')
  /** Only the chats of patients with this tag. */
  tag = $state<string | null>(null)
  items = $state<InboxItem[]>([])
  counts = $state<InboxCounts | null>(null)
  selected = $state<string | null>(null)
  /** When the rows were read: waiting times grow from here. */
  readAt = $state(Date.now())
  exhausted = $state(false)
  #loading = false
  #generation = 0

  constructor(private desk: Desk) {}

  async show(tab: InboxList) {
    // The rows of the last list stay until the new ones arrive (no empty flash).
    const changed = this.tab !== tab
    this.tab = tab
    this.exhausted = false
    await this.refresh(changed)
  }

  /** Shows only the chats of patients tagged `tag` (null: everyone's). */
  async filter(tag: string | null) {
    this.tag = tag
    this.exhausted = false
    await this.refresh(true)
  }

  /** Reads the first pages again (as many rows as are loaded, or one page for a list
   *  just chosen), and the counts. */
  async refresh(fresh = false) {
    const generation = ++this.#generation
    // Needs reply comes in one page, as long as the desk gives one.
    const want =
      this.tab === 'needs_reply' ? MAX_PAGE : fresh ? PAGE : Math.min(Math.max(this.items.length, PAGE), MAX_PAGE)
    const [items, counts] = await Promise.all([
      this.desk.call('inbox_list', { list: this.tab, tag: this.tag, before: null, limit: want }),
      this.desk.call('inbox_counts', null),
    ])
    if (generation !== this.#generation) return
    this.#listed = new Set(items.map((i) => i.conversation))
    this.items = fresh ? items : this.keepSelected(items)
    this.counts = counts
    this.readAt = Date.now()
    this.exhausted = items.length < want
  }

  /** The chat being answered stays where it was in the list shown, though it left the
   *  list (claimed from the queue, answered from Needs reply), until another is chosen. */
  private keepSelected(items: InboxItem[]): InboxItem[] {
    const selected = this.selected
    if (!selected || items.some((i) => i.conversation === selected)) return items
    const at = this.items.findIndex((i) => i.conversation === selected)
    if (at < 0) return items
    const kept = this.openItem?.conversation === selected ? this.openItem : this.items[at]
    return [...items.slice(0, at), kept, ...items.slice(at)]
  }

  #openItem: InboxItem | null = null

  /** The open chat as the conversation pane last read it: what a kept row shows, and
   *  shown at once if it is one. */
  get openItem(): InboxItem | null {
    return this.#openItem
  }

  set openItem(item: InboxItem | null) {
    this.#openItem = item
    if (!item) return
    // Only a row kept in view: a listed row is the list's own, with its place and wait.
    const at = this.items.findIndex((i) => i.conversation === item.conversation)
    if (at >= 0 && !this.#listed.has(item.conversation)) {
      this.items = [...this.items.slice(0, at), item, ...this.items.slice(at + 1)]
    }
  }

  /** The conversations the last read of the list held (not kept ones). */
  #listed = $state(new Set<string>())

  /** Whether `conversation` is shown only because it is open (it left the list). */
  isKept(conversation: string): boolean {
    return !this.#listed.has(conversation)
  }

  /** The next page, when the list is scrolled near its end. */
  async more() {
    if (this.#loading || this.exhausted || this.tab === 'needs_reply') return
    // The next page starts after the last row the list gave (not one kept in view).
    const last = this.items.findLast((i) => this.#listed.has(i.conversation))
    if (!last) return
    this.#loading = true
    const generation = this.#generation
    try {
      const page = await this.desk.call('inbox_list', {
        list: this.tab,
        tag: this.tag,
        before: last.cursor,
        limit: PAGE,
      })
      if (generation !== this.#generation) return
      const known = new Set(this.items.map((i) => i.conversation))
      this.#listed = new Set([...this.#listed, ...page.map((i) => i.conversation)])
      this.items = [...this.items, ...page.filter((i) => !known.has(i.conversation))]
      this.exhausted = page.length < PAGE
    } finally {
      this.#loading = false
    }
  }

  /** Moves the selection up or down the list; the conversation now selected. */
  move(by: number): string | null {
    if (this.items.length === 0) return null
    const at = this.items.findIndex((i) => i.conversation === this.selected)
    const next = at < 0 ? 0 : Math.min(this.items.length - 1, Math.max(0, at + by))
    this.selected = this.items[next].conversation
    return this.selected
  }
}
