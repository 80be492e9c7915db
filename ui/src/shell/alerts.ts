// Alerts the desk decided on (`desk-alert`): worded in the operator's language, shown as a
// native notification by the app, and heard. The notice carries no more than the
// operator's privacy setting allows; nothing here adds to it.
import type { Notice } from '../lib/bindings'
import type { Desk } from '../lib/desk'

type Translate = (key: string, options?: { values?: Record<string, string | number> }) => string

/** The notification's title and body: the patient's name and message where the notice
 *  has them, else the app's name and what kind of alert it is. */
export function wordsOf(notice: Notice, t: Translate): { title: string; body: string } {
  const kind = t(`alerts.kind.${notice.kind}`, { values: { count: notice.count } })
  return {
    title: notice.name ?? t('alerts.app'),
    body: notice.text ?? kind,
  }
}

/** The bundled sounds, by the name the preferences use. */
export const SOUNDS = ['bell', 'chime', 'alarm'] as const

/** Plays `sound` at `volume` (0 to 100); a sound that cannot play is only logged. */
export function play(sound: string | null, volume: number, make = (src: string) => new Audio(src)) {
  if (!sound || !(SOUNDS as readonly string[]).includes(sound) || volume <= 0) return
  const player = make(`/sounds/${sound}.wav`)
  player.volume = Math.min(1, volume / 100)
  void player.play()?.catch((error: unknown) => console.warn('an alert sound did not play', error))
}

/** What a notice may show: while the window is locked, only what kind of alert it is,
 *  never a patient's name or words, whatever the privacy setting allows. */
export function shownOf(notice: Notice, locked: boolean): Notice {
  return locked ? { ...notice, name: null, text: null } : notice
}

/** Shows and sounds every alert from now on (`locked` says whether the window is locked
 *  as each comes); returns how to stop. */
export async function listenForAlerts(desk: Desk, t: Translate, locked: () => boolean): Promise<() => void> {
  return desk.on('desk-alert', (notice) => {
    const { title, body } = wordsOf(shownOf(notice, locked()), t)
    desk
      .call('alert_show', { title, body, conversation: notice.conversation })
      .catch((error: unknown) => console.warn('an alert could not be shown', error))
    play(notice.sound, notice.volume)
  })
}
