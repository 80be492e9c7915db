// The composer's rules, apart from its drawing: what a key does, LINE's length limit,
// the "/" picker's matches, and drafts kept per conversation.
import type { Canned, PhotoDeliveryView } from '../lib/bindings'
import { MAX_TEXT, SHOW_COUNT_FROM, utf16Length } from './describe'

/** How often the patient is told the operator is writing (LINE shows it for 20 s). */
export const TYPING_EVERY = 15_000

type Key = Pick<KeyboardEvent, 'key' | 'shiftKey' | 'isComposing' | 'ctrlKey' | 'metaKey' | 'keyCode'>

/** An Enter that confirms what a Japanese or Chinese input method composed, not one that
 *  sends. WebKit (Safari, and the Linux window) ends the composition before the key's
 *  `keydown`, so `isComposing` is already false there; the key's code is still 229. */
export function confirmsComposition(event: Pick<Key, 'isComposing' | 'keyCode'>): boolean {
  return event.isComposing || event.keyCode === 229
}

/** What a key press in the message box means. */
export function keyAction(event: Key): 'send' | 'newline' | null {
  if (event.key !== 'Enter' || confirmsComposition(event)) return null
  // Ctrl/Cmd+Enter claims the chat (the workspace handles it).
  if (event.ctrlKey || event.metaKey) return null
  return event.shiftKey ? 'newline' : 'send'
}

export type Limit = { used: number; over: number; show: boolean }

export function limit(text: string): Limit {
  const used = utf16Length(text)
  return { used, over: Math.max(0, used - MAX_TEXT), show: used >= SHOW_COUNT_FROM }
}

/** Whether the text can go: something to say, within LINE's limit. */
export function sendable(text: string): boolean {
  return text.trim().length > 0 && utf16Length(text) <= MAX_TEXT
}

/** The "/" query when the box holds one (`/greet` → `greet`), else null. */
export function slashQuery(text: string): string | null {
  const match = /^\/(\S*)$/u.exec(text)
  return match ? match[1] : null
}

/** Whether an answer for `wanted` (`zh`, `zh-TW`) suits a patient whose LINE is in
 *  `language`. */
function suits(wanted: string, language: string): boolean {
  const [w, l] = [wanted.toLowerCase(), language.toLowerCase()]
  return l === w || l.startsWith(`${w}-`)
}

/** Saved answers whose title or text holds `query`: those for any language, and the
 *  patient's own language first (an answer for another language is left out). */
export function cannedMatches(canned: Canned[], query: string, language: string | null = null): Canned[] {
  const q = query.toLocaleLowerCase()
  const found = canned.filter(
    (c) =>
      (c.language === null || (language !== null && suits(c.language, language))) &&
      (c.title.toLocaleLowerCase().includes(q) || c.text.toLocaleLowerCase().includes(q)),
  )
  return [...found.filter((c) => c.language !== null), ...found.filter((c) => c.language === null)]
}

/** Fills `{{name}}` and `{{clinic}}`-style variables the desk knows; leaves the rest. */
export function fill(text: string, values: Record<string, string | null | undefined>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole)
}

const drafts = new Map<string, string>()

export function draft(conversation: string): string {
  return drafts.get(conversation) ?? ''
}

export function keepDraft(conversation: string, text: string) {
  if (text.length === 0) drafts.delete(conversation)
  else drafts.set(conversation, text)
}

/** Whether a photo waits, with the reason said, before it goes: the relay last found that
 *  LINE cannot fetch photos from it. When the relay could not say (`null`), it goes. */
export function photoHeld(delivery: PhotoDeliveryView | null): delivery is PhotoDeliveryView {
  return delivery !== null && !delivery.ok
}

/** The words for why LINE cannot fetch photos from the relay. */
export function photoWhyKey(delivery: PhotoDeliveryView): string {
  return `photos.why.${delivery.problem ?? 'unknown'}`
}

/** `0:40`: the minutes and seconds left of `ms`, rounded up to the second. */
export function clockText(ms: number): string {
  const seconds = Math.ceil(ms / 1000)
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}
