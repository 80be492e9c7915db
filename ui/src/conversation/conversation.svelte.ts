// One open conversation: its messages (the newest first, older ones paged in as the
// history scrolls up), who did what to it, this desk's actions still on their way, and
// the handoff controls its state allows.
import type {
  ConversationView,
  HandoffEvent,
  HandoffRequest,
  InboxItem,
  MessageView,
  Outgoing,
  PendingAction,
  QuotedView,
} from '../lib/bindings'
import type { Desk } from '../lib/desk'

export const PAGE = 60
/** How long a message found by search stays marked. */
export const HIGHLIGHT_MS = 6000

export type Row =
  | { kind: 'message'; key: string; seq: number; message: MessageView }
  | { kind: 'handoff'; key: string; seq: number; event: HandoffEvent }
  | { kind: 'queued'; key: string; seq: number; action: PendingAction; message: MessageView }

/** An answer this desk wrote that has not reached the relay (offline, or refused): drawn
 *  in the thread where it will go, after everything the log holds. */
export function queuedRows(pending: PendingAction[], me: string): Row[] {
  return pending
    .filter((action) => action.kind === 'send')
    .map((action) => ({
      kind: 'queued' as const,
      key: `q${action.op_id}`,
      seq: Number.MAX_SAFE_INTEGER,
      action,
      message: {
        seq: Number.MAX_SAFE_INTEGER,
        part: 0,
        direction: 'out' as const,
        author: me,
        author_name: null,
        line_message_id: null,
        type: action.text === null ? 'unsupported' : 'text',
        supported: action.text !== null,
        text: action.text,
        body: '{}',
        quote_token: null,
        reply_token_expires_at: null,
        send_status: null,
        sent_via: null,
        media: null,
        failure: null,
        line_request_id: null,
        unsent: false,
        edited_at: null,
        at: action.created_at,
        ai_model: null,
        quoted: null,
      },
    }))
}

/** Messages and handoffs in log order; handoffs older than the loaded messages wait. */
export function timeline(
  messages: MessageView[],
  handoffs: HandoffEvent[],
  hasOlder: boolean,
): Row[] {
  const from = hasOlder && messages.length > 0 ? messages[0].seq : -Infinity
  const rows: Row[] = messages.map((message) => ({
    kind: 'message',
    key: `m${message.seq}.${message.part}`,
    seq: message.seq,
    message,
  }))
  for (const event of handoffs) {
    if (event.seq >= from) rows.push({ kind: 'handoff', key: `h${event.seq}`, seq: event.seq, event })
  }
  return rows.sort((a, b) => a.seq - b.seq || (a.kind === b.kind ? 0 : a.kind === 'message' ? -1 : 1))
}

/** How a thread draws a row besides the message itself. */
export type Marks = {
  /** The same person wrote the message before, within a few minutes: no name again. */
  continued: boolean
  /** The first of a day on the clinic's calendar: a divider with the day goes before. */
  day: number | null
  /** The message this one answers (LINE's quote): loaded, or as the desk found it. */
  quoted: QuotedView | null
  /** A photo sent together with others (LINE's `imageSet`): which one, of how many. */
  set: { index: number; total: number } | null
}

/** Which of the photos sent together a message is, from LINE's `imageSet`. */
function photoSet(body: Record<string, unknown>): Marks['set'] {
  const set = body.imageSet as { index?: unknown; total?: unknown } | undefined
  const index = Number(set?.index)
  const total = Number(set?.total)
  return Number.isInteger(index) && Number.isInteger(total) && total > 1 && index >= 1 ? { index, total } : null
}

/** A run of messages from one sender breaks after this long. */
export const RUN_GAP_MS = 5 * 60_000

/** Each row's marks, by its key. `dayOf` names the calendar day of a time. */
export function threadMarks(rows: Row[], dayOf: (at: number) => string): Map<string, Marks> {
  const byLineId = new Map<string, MessageView>()
  const byQuoteToken = new Map<string, MessageView>()
  for (const row of rows) {
    if (row.kind !== 'message') continue
    if (row.message.line_message_id) byLineId.set(row.message.line_message_id, row.message)
    if (row.message.quote_token) byQuoteToken.set(row.message.quote_token, row.message)
  }
  const marks = new Map<string, Marks>()
  let previous: MessageView | null = null
  let day: string | null = null
  for (const row of rows) {
    if (row.kind === 'handoff') {
      previous = null
      continue
    }
    const message = row.message
    const today = dayOf(message.at)
    const newDay = today !== day
    day = today
    const continued =
      !newDay &&
      previous !== null &&
      message.direction !== 'system' &&
      previous.direction === message.direction &&
      previous.author === message.author &&
      previous.ai_model === message.ai_model &&
      message.at - previous.at < RUN_GAP_MS
    const b = parsed(message.body)
    const quoted =
      (typeof b.quotedMessageId === 'string' ? byLineId.get(b.quotedMessageId) : undefined) ??
      (typeof b.quoteToken === 'string' && message.direction === 'out' ? byQuoteToken.get(b.quoteToken) : undefined) ??
      message.quoted ??
      null
    marks.set(row.key, { continued, day: newDay ? message.at : null, quoted, set: photoSet(b) })
    previous = message.direction === 'system' ? null : message
  }
  return marks
}

function parsed(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** Which handoff controls a conversation offers to operator `me`. */
export type Control = 'claim' | 'release' | 'transfer' | 'close' | 'to_bot' | 'to_people'

export function controls(item: InboxItem, me: string): Control[] {
  if (item.kind !== 'user') return []
  const session = item.session
  if (item.mode === 'bot' && (!session || session.status === 'closed')) return ['to_people']
  if (!session || session.status === 'closed') return ['to_bot']
  if (session.status === 'waiting') return ['claim', 'close', 'to_bot']
  if (session.operator === me) return ['release', 'transfer', 'close', 'to_bot']
  return []
}

/** The header's controls: one primary action, and the rest in the holder's menu. */
export function headerControls(item: InboxItem, me: string): { primary: Control | null; menu: Control[] } {
  const offered = controls(item, me)
  if (offered.includes('claim')) return { primary: 'claim', menu: offered.filter((c) => c !== 'claim') }
  if (offered.includes('release')) {
    // Done closes; handing the chat on is in the menu.
    return { primary: 'close', menu: ['transfer', 'release', 'to_bot'] }
  }
  return { primary: offered[0] ?? null, menu: offered.slice(1) }
}

/** Whether `me` may write: the chat is theirs, or waits in the queue (the first answer
 *  claims it). */
export function canWrite(item: InboxItem, me: string): boolean {
  const session = item.session
  if (item.kind !== 'user' || !session) return false
  return session.status === 'waiting' || (session.status === 'active' && session.operator === me)
}

/** How long a claim made by answering waits to be settled by the log. */
export const CLAIM_WAIT_MS = 15_000

/** The answer was not sent: someone else took the chat first (`by`, when their name is
 *  known), or the claim has not reached the log yet (`settled` false). The draft is kept
 *  either way. */
export class TakenFirst extends Error {
  constructor(
    readonly settled: boolean,
    readonly by: string | null = null,
  ) {
    super(settled ? 'someone else took the chat first' : 'the claim has not reached the relay yet')
  }
}

/** Adds `page` (older or newer) to `messages` without repeats, in order. */
export function merge(messages: MessageView[], page: MessageView[]): MessageView[] {
  const byKey = new Map<string, MessageView>()
  for (const m of [...messages, ...page]) byKey.set(`${m.seq}.${m.part}`, m)
  return [...byKey.values()].sort((a, b) => a.seq - b.seq || a.part - b.part)
}

export class Conversation {
  view = $state<ConversationView | null>(null)
  messages = $state<MessageView[]>([])
  hasOlder = $state(false)
  loadingOlder = $state(false)
  /** A message to bring into view and mark (from search). */
  highlight = $state<number | null>(null)
  #generation = 0

  constructor(
    private desk: Desk,
    readonly id: string,
  ) {}

  rows = $derived(timeline(this.messages, this.view?.handoffs ?? [], this.hasOlder))

  /** The thread, with this desk's answers still on their way at its end. */
  rowsWithQueued(me: string): Row[] {
    return [...this.rows, ...queuedRows(this.view?.pending ?? [], me)]
  }

  /** Opens it (marking it read), keeping older pages already loaded. */
  async load() {
    const generation = ++this.#generation
    const view = await this.desk.call('conversation_open', { conversation: this.id })
    if (generation !== this.#generation) return
    const keepOlder = this.messages.length > 0 && this.hasOlder
    this.messages = keepOlder ? merge(this.messages, view.messages) : view.messages
    if (!keepOlder) this.hasOlder = view.has_older
    this.view = view
  }

  async older() {
    if (this.loadingOlder || !this.hasOlder || this.messages.length === 0) return
    this.loadingOlder = true
    try {
      const first = this.messages[0]
      const page = await this.desk.call('conversation_messages', {
        conversation: this.id,
        seq: first.seq,
        part: first.part,
        newer: false,
        limit: PAGE,
      })
      this.messages = merge(this.messages, page)
      this.hasOlder = page.length === PAGE
    } finally {
      this.loadingOlder = false
    }
  }

  /** Loads the history around `seq` and marks that message. */
  async jumpTo(seq: number) {
    await this.load()
    if (!this.messages.some((m) => m.seq === seq)) {
      const [before, after] = await Promise.all([
        this.desk.call('conversation_messages', {
          conversation: this.id,
          seq: seq + 1,
          part: 0,
          newer: false,
          limit: PAGE,
        }),
        this.desk.call('conversation_messages', {
          conversation: this.id,
          seq,
          part: 0,
          newer: true,
          limit: 500,
        }),
      ])
      this.messages = merge(before, after)
      this.hasOlder = before.length === PAGE
    }
    this.highlight = seq
    // Marked long enough to be found, then the chat looks as it always does.
    setTimeout(() => {
      if (this.highlight === seq) this.highlight = null
    }, HIGHLIGHT_MS)
  }

  async act(action: HandoffRequest) {
    await this.desk.call('conversation_act', { conversation: this.id, action })
    await this.load()
  }

  /** Sends `message`; in a waiting chat, claims it first and sends only once the log
   *  says the claim was this desk's ([`TakenFirst`] otherwise: the draft is kept). */
  async send(message: Outgoing, me: string) {
    if (this.view?.item.session?.status === 'waiting') await this.claimFirst(me)
    await this.desk.call('message_send', { conversation: this.id, message })
    await this.load()
  }

  private async claimFirst(me: string) {
    await this.desk.call('conversation_act', { conversation: this.id, action: { type: 'claim' } })
    const deadline = Date.now() + CLAIM_WAIT_MS
    for (;;) {
      await this.load()
      const session = this.view?.item.session
      if (session?.status === 'active' && session.operator === me) return
      if (session?.status !== 'waiting') throw new TakenFirst(true, session?.operator_name ?? null)
      if (Date.now() > deadline) throw new TakenFirst(false)
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
  }

  /** Hands a photo to the relay, then sends it (claiming a waiting chat first). */
  async sendPhoto(bytes: Uint8Array, me: string) {
    const uploaded = await this.desk.call('image_upload', bytes)
    await this.send({ type: 'image', ...uploaded }, me)
  }

  async retry(opId: string) {
    await this.desk.call('op_retry', { op_id: opId })
    await this.load()
  }

  async discard(opId: string) {
    await this.desk.call('op_discard', { op_id: opId })
    await this.load()
  }
}
