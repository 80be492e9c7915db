// "Done" with a moment to undo it: closing a chat may send the patient a rating request
// and cannot be taken back once in the log, so the close waits a few seconds on this
// desk first. Switching to another chat meanwhile does not stop it.

/** How long "Done" can be undone. */
export const UNDO_MS = 5000

export class PendingDone {
  /** The chats being closed, and when each close goes to the relay. */
  entries = $state<{ conversation: string; at: number }[]>([])
  #timers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(
    private readonly commit: (conversation: string) => Promise<void>,
    private readonly ms = UNDO_MS,
  ) {}

  /** Starts closing `conversation` (`unanswered`: the patient spoke last, so the moment
   *  to undo is longer); nothing happens if it is already being closed. */
  start(conversation: string, unanswered = false) {
    if (this.#timers.has(conversation)) return
    const ms = unanswered ? this.ms * 2 : this.ms
    this.entries = [...this.entries, { conversation, at: Date.now() + ms }]
    this.#timers.set(
      conversation,
      setTimeout(() => {
        this.#forget(conversation)
        void this.commit(conversation)
      }, ms),
    )
  }

  /** Takes the close back. */
  undo(conversation: string) {
    clearTimeout(this.#timers.get(conversation))
    this.#forget(conversation)
  }

  has(conversation: string): boolean {
    return this.entries.some((e) => e.conversation === conversation)
  }

  #forget(conversation: string) {
    this.#timers.delete(conversation)
    this.entries = this.entries.filter((e) => e.conversation !== conversation)
  }
}
