import { describe, expect, it } from 'vitest'
import { SCREENS, screensFor } from './screens'

describe('the clinic menu', () => {
  it('offers an owner every screen, in the menu’s order', () => {
    expect(screensFor('owner')).toEqual([...SCREENS])
  })

  it('offers staff contacts, reminders, settings and updates, and no report, trail or team', () => {
    expect(screensFor('staff')).toEqual(['contacts', 'reminders', 'settings', 'updates'])
  })
})
