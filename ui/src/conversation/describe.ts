// What a message is, read from the body the desk keeps (LINE's message object), for
// drawing. Pure functions: tested without a window.
import type { MessageView } from '../lib/bindings'

type Translate = (
  key: string,
  options?: { values?: Record<string, string | number | boolean | Date | null | undefined> },
) => string

/** LINE's limit for one text message, in UTF-16 code units. */
export const MAX_TEXT = 5000
/** The composer shows the count from here on. */
export const SHOW_COUNT_FROM = 4000

export function utf16Length(text: string): number {
  return text.length
}

const PREVIEW_KINDS = ['sticker', 'image', 'video', 'audio', 'file', 'location', 'postback']
/** A glyph before the words of a kind of message, so a row is read without reading it. */
const PREVIEW_GLYPHS: Record<string, string> = {
  sticker: '🙂',
  image: '📷',
  video: '🎬',
  audio: '🎤',
  file: '📎',
  location: '📍',
}

/** A list row's preview: the text, or what kind of message it was in the reader's words. */
export function previewText(preview: string | null, t: Translate): string {
  if (!preview) return ''
  const kind = /^\[(\w+)\]$/.exec(preview)?.[1]
  if (!kind) return preview
  const words = t(`inbox.preview.${PREVIEW_KINDS.includes(kind) ? kind : 'unsupported'}`)
  const glyph = PREVIEW_GLYPHS[kind]
  return glyph ? `${glyph} ${words}` : words
}

/** A run of a text message: plain, a LINE emoji, or a mention. */
export type Run =
  | { kind: 'text'; text: string }
  | { kind: 'emoji'; text: string; productId: string; emojiId: string }
  | { kind: 'mention'; text: string }

type Placed = { index: number; length: number }

/** Splits a text at its emojis and mentions (LINE counts indexes in UTF-16 units). */
export function runs(text: string, body: unknown): Run[] {
  const b = (body ?? {}) as {
    emojis?: (Placed & { productId: string; emojiId: string })[]
    mention?: { mentionees?: Placed[] }
  }
  const marks: (Placed & { run: (text: string) => Run })[] = [
    ...(b.emojis ?? []).map((e) => ({
      index: e.index,
      length: e.length,
      run: (text: string): Run => ({ kind: 'emoji', text, productId: e.productId, emojiId: e.emojiId }),
    })),
    ...(b.mention?.mentionees ?? []).map((m) => ({
      index: m.index,
      length: m.length,
      run: (text: string): Run => ({ kind: 'mention', text }),
    })),
  ]
    .filter((m) => m.index >= 0 && m.length > 0 && m.index + m.length <= text.length)
    .sort((a, b) => a.index - b.index)
  const out: Run[] = []
  let at = 0
  for (const mark of marks) {
    if (mark.index < at) continue
    if (mark.index > at) out.push({ kind: 'text', text: text.slice(at, mark.index) })
    out.push(mark.run(text.slice(mark.index, mark.index + mark.length)))
    at = mark.index + mark.length
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at) })
  return out
}

/** The message object, parsed; `{}` when it cannot be. */
export function body(message: MessageView): Record<string, unknown> {
  try {
    const parsed = JSON.parse(message.body)
    return typeof parsed === 'object' && parsed !== null ? parsed : {}
  } catch {
    return {}
  }
}

/** LINE's sticker image (not an official API: when it cannot load, a tile is drawn). */
export function stickerUrl(stickerId: string): string {
  return `https://stickershop.line-scdn.net/stickershop/v1/sticker/${encodeURIComponent(stickerId)}/android/sticker.png`
}

export function emojiUrl(productId: string, emojiId: string): string {
  return `https://stickershop.line-scdn.net/sticonshop/v1/sticon/${encodeURIComponent(productId)}/android/${encodeURIComponent(emojiId)}.png`
}

/** A map of a shared location, for the system browser. */
export function mapUrl(latitude: number, longitude: number): string {
  return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=17/${latitude}/${longitude}`
}

/** A system line (followed, blocked …) in the reader's words. */
export function systemText(message: MessageView, t: Translate): string {
  const note = message.text ?? ''
  const key = `message.system.${note}`
  const text = t(key, { values: { name: message.author_name ?? t('inbox.unknownName') } })
  return text === key ? note : text
}

/** What a patient picked in a date or time picker (LINE's postback `params`: the
 *  patient's own wall-clock, with no zone), in the reader's words; null when nothing was. */
export function pickedWhen(params: unknown, locale: string): string | null {
  const p = (params ?? {}) as { date?: unknown; time?: unknown; datetime?: unknown }
  const text = (v: unknown) => (typeof v === 'string' ? v : '')
  const parts = (value: string) => /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(value)
  const utc = (m: RegExpExecArray) =>
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0))
  const format = (options: Intl.DateTimeFormatOptions, at: number) =>
    new Intl.DateTimeFormat(locale, { timeZone: 'UTC', ...options }).format(at)
  const datetime = parts(text(p.datetime))
  if (datetime?.[4] !== undefined) return format({ dateStyle: 'medium', timeStyle: 'short' }, utc(datetime))
  const date = parts(text(p.date))
  if (date) return format({ dateStyle: 'medium' }, utc(date))
  const time = /^(\d{2}):(\d{2})$/.exec(text(p.time))
  if (time) return format({ timeStyle: 'short' }, Date.UTC(1970, 0, 1, Number(time[1]), Number(time[2])))
  return null
}

/** A patient's tap on a consent button the clinic sent (its postback data), in the
 *  reader's words; null for any other postback. */
export function consentAnswer(data: string, t: Translate): string | null {
  const m = /^tsunagi:consent:(reminders|health_on_line):(yes|no):(.+)$/.exec(data)
  if (!m) return null
  return t(`message.consent.${m[2] === 'yes' ? 'agreed' : 'declined'}`, {
    values: { what: t(`contact.consent.kind.${m[1]}`), wording: m[3] },
  })
}
