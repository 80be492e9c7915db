import type { IpcError } from './bindings'

/** A component's commands, run so that what went wrong stays on screen (for `ErrorText`)
 *  until the next one is tried. */
export class Attempts {
  error = $state<IpcError | null>(null)
  /** True while a command runs. */
  busy = $state(false)

  /** Does `work`; a command's failure is kept in `error`, not thrown. True if it worked. */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    this.error = null
    this.busy = true
    try {
      await work()
      return true
    } catch (e) {
      this.error = e as IpcError
      return false
    } finally {
      this.busy = false
    }
  }
}
