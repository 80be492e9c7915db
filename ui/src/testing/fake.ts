// A fake `Desk` for component tests: answers commands from handlers, records each call, and
// lets a test emit the app's events.
import type { Commands, Events, InboxCounts, InboxItem, MessageView, SessionSummary } from '../lib/bindings'
import type { Desk } from '../lib/desk'

type Handlers = {
  [K in keyof Commands]?: (request: Commands[K]['request']) => Commands[K]['response'] | Promise<Commands[K]['response']>
}

export type FakeDesk = Desk & {
  calls: { command: keyof Commands; request: unknown }[]
  emit<E extends keyof Events>(event: E, payload: Events[E]): void
}

export function fakeDesk(handlers: Handlers): FakeDesk {
  const listeners = new Map<string, ((payload: unknown) => void)[]>()
  const calls: FakeDesk['calls'] = []
  return {
    calls,
    async call(command, request) {
      calls.push({ command, request })
      const handler = handlers[command] as ((r: unknown) => unknown) | undefined
      if (!handler) throw { code: 'internal', message: `no fake for ${command}` }
      return (await handler(request)) as never
    },
    async on(event, handler) {
      const list = listeners.get(event) ?? []
      list.push(handler as (payload: unknown) => void)
      listeners.set(event, list)
      return () => listeners.set(event, (listeners.get(event) ?? []).filter((h) => h !== handler))
    },
    mediaUrl(messageId, preview) {
      return `media://test/${messageId}${preview ? '?preview' : ''}`
    },
    async playable(messageId) {
      return { url: `media://test/${messageId}`, release: () => {} }
    },
    emit(event, payload) {
      for (const handler of listeners.get(event) ?? []) handler(payload)
    },
  }
}

export function session(overrides: Partial<SessionSummary> = {}): SessionSummary {
  return {
    id: 1,
    status: 'waiting',
    operator: null,
    operator_name: null,
    started_at: Date.UTC(2026, 11, 1, 1, 0),
    claimed_at: null,
    first_response_at: null,
    closed_at: null,
    closed_by: null,
    message_count: 1,
    transfers: 0,
    csat: null,
    urgent_at: null,
    ...overrides,
  }
}

/** Inbox counts: every list empty, but for `overrides`. */
export function counts(overrides: Partial<InboxCounts> = {}): InboxCounts {
  return {
    waiting: 0,
    mine: 0,
    active: 0,
    team: 0,
    bot: 0,
    closed: 0,
    unread_conversations: 0,
    needs_reply: 0,
    unread_needs_reply: 0,
    unread_waiting: 0,
    unread_mine: 0,
    unread_team: 0,
    ...overrides,
  }
}

export function item(overrides: Partial<InboxItem> = {}): InboxItem {
  return {
    conversation: 'U4af4980629a1b2c3d4e5f60718293a4b',
    kind: 'user',
    mode: 'human',
    name: 'สมหญิง',
    team_name: null,
    picture_url: null,
    preview: 'ขอนัดพรุ่งนี้ค่ะ',
    speaker: 'patient',
    speaker_id: null,
    speaker_name: null,
    awaiting_since: null,
    tags: [],
    last_message_at: Date.UTC(2026, 11, 1, 1, 0),
    unread: 2,
    session: session(),
    queue_position: 1,
    waiting_ms: 90_000,
    cursor: 1,
    ...overrides,
  }
}

export function message(overrides: Partial<MessageView> = {}): MessageView {
  return {
    seq: 1,
    part: 0,
    direction: 'in',
    author: 'U4af4980629a1b2c3d4e5f60718293a4b',
    author_name: 'สมหญิง',
    line_message_id: '1001',
    type: 'text',
    supported: true,
    text: 'สวัสดีค่ะ',
    body: JSON.stringify({ type: 'text', text: 'สวัสดีค่ะ' }),
    quote_token: null,
    reply_token_expires_at: null,
    send_status: null,
    sent_via: null,
    media: null,
    failure: null,
    line_request_id: null,
    unsent: false,
    edited_at: null,
    at: Date.UTC(2026, 11, 1, 1, 0),
    ai_model: null,
    quoted: null,
    ...overrides,
  }
}
