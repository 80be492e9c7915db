// A chat a `tsunagi://` link names is only shown. Anyone can make such a link (a web page, a
// message), so following one must change nothing: the chat is not marked read, on this desk
// or for the patient on LINE, until the operator opens it themselves.
import type { Desk } from '../lib/desk'

/** The same desk, through which opening a chat only shows it: `conversation_open` (which
 *  marks it read) is asked as `conversation_show` (which changes nothing). Everything else
 *  the operator does goes through as it is. */
export function showingOnly(desk: Desk): Desk {
  return {
    call(command, request) {
      if (command === 'conversation_open') {
        return desk.call('conversation_show', request as never) as never
      }
      return desk.call(command, request)
    },
    on: (event, handler) => desk.on(event, handler),
    mediaUrl: (messageId, preview) => desk.mediaUrl(messageId, preview),
    playable: (messageId) => desk.playable(messageId),
  }
}
