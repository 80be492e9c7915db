// The clinic's screens the workspace opens over itself from the clinic menu, and which of
// them each role may open.
import type { ProfileView } from '../lib/bindings'

/** Every screen, in the menu's order. */
export const SCREENS = ['contacts', 'reminders', 'settings', 'analytics', 'audit', 'team', 'updates'] as const
export type Screen = (typeof SCREENS)[number]

/** What staff open; owners open every screen. */
const STAFF_SCREENS: readonly Screen[] = ['contacts', 'reminders', 'settings', 'updates']

/** The screens the menu offers someone with `role`, in the menu's order. */
export function screensFor(role: ProfileView['role']): Screen[] {
  return SCREENS.filter((id) => role === 'owner' || STAFF_SCREENS.includes(id))
}
