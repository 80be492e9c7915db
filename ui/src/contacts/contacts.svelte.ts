// The follower list's state: which contacts it shows (status, tag, part of a name), the
// rows paged in as it scrolls, and the counts on its filters.
import type { ContactCounts, ContactFilter, ContactView, FollowerSyncView, FriendStatus } from '../lib/bindings'
import type { Desk } from '../lib/desk'

export const PAGE = 200

/** The list's filters, as its buttons name them. */
export const SHOWS = ['all', 'following', 'blocked', 'never_wrote'] as const
export type Show = (typeof SHOWS)[number]

export function filterOf(show: Show, tag: string, name: string): ContactFilter {
  const status: Record<Show, FriendStatus | null> = {
    all: null,
    following: 'following',
    blocked: 'blocked',
    never_wrote: null,
  }
  return {
    friend_status: status[show],
    never_messaged: show === 'never_wrote',
    tag: tag || null,
    name: name.trim() || null,
  }
}

export function countFor(counts: ContactCounts | null, show: Show): number {
  if (!counts) return 0
  return show === 'never_wrote' ? counts.never_messaged : counts[show]
}

/** How far a sync is, 0 to 100; null before LINE said how many followers there are. */
export function percent(sync: FollowerSyncView): number | null {
  if (sync.outcome === 'done') return 100
  if (!sync.total) return null
  return Math.min(100, Math.floor((sync.done * 100) / sync.total))
}

export class Contacts {
  show = $state<Show>('all')
  tag = $state('')
  name = $state('')
  rows = $state<ContactView[]>([])
  counts = $state<ContactCounts | null>(null)
  exhausted = $state(false)
  #loading = false
  #generation = 0

  constructor(private desk: Desk) {}

  get filter(): ContactFilter {
    return filterOf(this.show, this.tag, this.name)
  }

  /** Reads the first page again for the filter as it is now, and the counts. */
  async refresh() {
    const generation = ++this.#generation
    const [rows, counts] = await Promise.all([
      this.desk.call('contacts_list', { filter: this.filter, before: null, limit: PAGE }),
      this.desk.call('contact_counts', null),
    ])
    if (generation !== this.#generation) return
    this.rows = rows
    this.counts = counts
    this.exhausted = rows.length < PAGE
  }

  /** The next page, when the list scrolls near its end. */
  async more() {
    if (this.#loading || this.exhausted || this.rows.length === 0) return
    this.#loading = true
    const generation = this.#generation
    try {
      const before = this.rows[this.rows.length - 1].cursor
      const page = await this.desk.call('contacts_list', { filter: this.filter, before, limit: PAGE })
      if (generation !== this.#generation) return
      this.rows.push(...page)
      this.exhausted = page.length < PAGE
    } finally {
      this.#loading = false
    }
  }
}
