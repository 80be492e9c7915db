// The only module that talks to Tauri. Components take a `Desk`, so tests can hand them a
// fake and run in a plain browser or jsdom.
import { invoke } from '@tauri-apps/api/core'
import type { AppInfo, IpcError, RelayUrlChecked } from './bindings'

export interface Desk {
  appInfo(): Promise<AppInfo>
  checkRelayUrl(url: string): Promise<RelayUrlChecked>
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

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (error) {
    throw asIpcError(error)
  }
}

export const tauriDesk: Desk = {
  appInfo: () => call<AppInfo>('app_info'),
  checkRelayUrl: (url) => call<RelayUrlChecked>('relay_url_check', { request: { url } }),
}
