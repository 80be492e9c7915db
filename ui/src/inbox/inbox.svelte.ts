// The inbox's state: which list, its rows (paged in as the list scrolls), the counts on
// each tab, and which conversation is selected.
import type { InboxCounts, InboxItem, InboxList } from '../lib/bindings'
import type { Desk } from '../lib/desk'

export const TABS: readonly InboxList[] = ['waiting', 'mine', 'team', 'bot', 'closed']
export const PAGE = 100

/** The badge of a tab. */
export function countOf(counts: InboxCounts | null, tab: InboxList): number {
  if (!counts) return 0
  switch (tab) {
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

/** "99+" past the cap the desk counts to. */
export function unreadBadge(unread: number): string {
  return unread >= 100 ? '99+' : String(unread)
}

export class Inbox {
  tab = $state<InboxList>('waiting')
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

  /** Reads the first pages again (as many rows as are loaded, or one page for a list
   *  just chosen), and the counts. */
  async refresh(fresh = false) {
    const generation = ++this.#generation
    const want = fresh ? PAGE : Math.min(Math.max(this.items.length, PAGE), 500)
    const [items, counts] = await Promise.all([
      this.desk.call('inbox_list', { list: this.tab, before: null, limit: want }),
      this.desk.call('inbox_counts', null),
    ])
    if (generation !== this.#generation) return
    this.items = items
    this.counts = counts
    this.readAt = Date.now()
    this.exhausted = items.length < want
  }

  /** The next page, when the list is scrolled near its end. */
  async more() {
    if (this.#loading || this.exhausted || this.items.length === 0) return
    this.#loading = true
    const generation = this.#generation
    try {
      const last = this.items[this.items.length - 1]
      const page = await this.desk.call('inbox_list', {
        list: this.tab,
        before: last.cursor,
        limit: PAGE,
      })
      if (generation !== this.#generation) return
      const known = new Set(this.items.map((i) => i.conversation))
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
