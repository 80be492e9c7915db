// The workspace's keyboard shortcuts, apart from what they do.

export type Shortcut = { type: 'search' } | { type: 'tab'; index: number } | { type: 'claim' }

/** Ctrl (Cmd on macOS) with K, 1…5 or Enter. */
export function shortcut(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>): Shortcut | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null
  if (event.key === 'k' || event.key === 'K') return { type: 'search' }
  if (event.key === 'Enter') return { type: 'claim' }
  const digit = Number(event.key)
  if (Number.isInteger(digit) && digit >= 1 && digit <= 5) return { type: 'tab', index: digit - 1 }
  return null
}

/** Whether keys typed at `target` are text (so j, k and Enter are left alone). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  )
}

/** Whether Enter at `target` already means something there (a button, a link). */
export function isControl(target: EventTarget | null): boolean {
  return target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement
}
