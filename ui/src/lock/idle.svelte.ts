// When the window locks: after the clinic's time without the operator's input (a key, the
// pointer, the wheel), or at once when they lock it themselves.

/** How often the time since the last input is looked at. */
const LOOK_EVERY_MS = 1000

export class IdleLock {
  locked = $state(false)
  /** Locked by the operator, who is at the desk (not by time): the one moment a desk
   *  without a PIN may choose one. */
  byOperator = $state(false)
  #afterMs: number
  #last = Date.now()
  #looking: ReturnType<typeof setInterval>

  constructor(afterMs: number) {
    this.#afterMs = afterMs
    this.#looking = setInterval(() => {
      if (!this.locked && Date.now() - this.#last >= this.#afterMs) {
        this.locked = true
        this.byOperator = false
      }
    }, LOOK_EVERY_MS)
  }

  /** The clinic changed how long a window may sit unused. */
  set afterMs(ms: number) {
    this.#afterMs = ms
  }

  /** The operator did something: the wait starts again. */
  touched() {
    this.#last = Date.now()
  }

  /** Locked at once: by the operator as they leave the desk, or as the app starts on a
   *  desk that has a PIN. */
  lock(byOperator: boolean) {
    this.locked = true
    this.byOperator = byOperator
  }

  /** Opened with the PIN: the wait starts again. */
  unlock() {
    this.locked = false
    this.#last = Date.now()
  }

  stop() {
    clearInterval(this.#looking)
  }
}
