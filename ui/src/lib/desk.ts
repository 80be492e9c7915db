// The only module that talks to Tauri. Components take a `Desk`, so tests can hand them a
// fake and run in jsdom or a plain browser.
import { convertFileSrc, invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type { Commands, Events, IpcError } from './bindings'

type Request<K extends keyof Commands> = Commands[K]['request']
type Response<K extends keyof Commands> = Commands[K]['response']

/** Every command of the app, typed by the generated table, and its events. */
export interface Desk {
  call<K extends keyof Commands>(command: K, request: Request<K>): Promise<Response<K>>
  on<E extends keyof Events>(event: E, handler: (payload: Events[E]) => void): Promise<UnlistenFn>
  /** Where the window loads a message's media (or its thumbnail) from the desk's cache. */
  mediaUrl(messageId: string, preview: boolean): string
  /** An address a `<video>` or `<audio>` can play a message's file from; `release` frees
   *  what it holds once the player is gone. */
  playable(messageId: string): Promise<Playable>
}

export type Playable = { url: string; release: () => void }

/** WebKitGTK's media player (GStreamer) cannot read an app's own URI scheme (WebKit bug
 *  146351), where WebKit on macOS and WebView2 can: on Linux the file is read through the
 *  scheme and played from memory. */
const PLAYS_APP_SCHEMES = !/\bLinux\b/.test(globalThis.navigator?.userAgent ?? '')

/** The name the relay gave an upload, from its public address (`…/public/uploads/<name>`). */
export function uploadName(url: string): string | null {
  return /\/public\/uploads\/([0-9a-f]{32})(?:\/preview)?$/.exec(url)?.[1] ?? null
}

/** Commands reject with an `IpcError`; anything else (a bug, a lost IPC) is made into one. */
export function asIpcError(error: unknown): IpcError {
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    'message' in error &&
    typeof (error as IpcError).message === 'string'
  ) {
    return error as IpcError
  }
  return { code: 'internal', message: String(error) }
}

export const tauriDesk: Desk = {
  async call(command, request) {
    try {
      // Bytes go as the raw body (no JSON); everything else as the command's `request`.
      const args = request instanceof Uint8Array ? request : request === null ? {} : { request }
      return await invoke(command, args)
    } catch (error) {
      throw asIpcError(error)
    }
  },
  on(event, handler) {
    return listen(event, (e) => handler(e.payload as never))
  },
  mediaUrl(messageId, preview) {
    // The app's `media` scheme (media://localhost/… here, http://media.localhost/… on Windows).
    return convertFileSrc(messageId, 'media') + (preview ? '?preview' : '')
  },
  async playable(messageId) {
    const url = tauriDesk.mediaUrl(messageId, false)
    if (PLAYS_APP_SCHEMES) return { url, release: () => {} }
    const response = await fetch(url)
    if (!response.ok) {
      throw asIpcError({
        code: response.status === 503 ? 'relay_unreachable' : 'not_found',
        message: `the file could not be read (${response.status})`,
      })
    }
    const blob = URL.createObjectURL(await response.blob())
    return { url: blob, release: () => URL.revokeObjectURL(blob) }
  },
}
