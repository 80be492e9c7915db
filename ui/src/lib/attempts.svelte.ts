import type { IpcError } from './bindings'

/** A component's commands, run so that what went wrong stays on screen (for `ErrorText`)
 *  until the next one is tried. */
export class Attempts {
  error = $state<IpcError | null>(null)

  /** Does `work`; a command's failure is kept in `error`, not thrown. */
  async run(work: () => Promise<unknown>): Promise<void> {
    this.error = null
    try {
      await work()
    } catch (e) {
      this.error = e as IpcError
    }
  }
}
