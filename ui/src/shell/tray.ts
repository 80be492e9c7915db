// The tray's menu and the count of patients waiting, in the operator's words: the app draws
// the tray, the window words it.
import type { TrayWords } from '../lib/bindings'

type Translate = (key: string, options?: { values?: Record<string, string | number> }) => string

/** The tray's words, with `waiting` patients waiting. */
export function trayWords(t: Translate, waiting: number): TrayWords {
  return {
    open: t('tray.open'),
    pause_30: t('tray.pause30'),
    pause_60: t('tray.pause60'),
    resume: t('tray.resume'),
    quit: t('tray.quit'),
    waiting: t('tray.waiting', { values: { count: waiting } }),
  }
}
