import { describe, expect, it } from 'vitest'
import { daysAgo, shortDay } from './range'

describe('analytics range', () => {
  it('counts days back on the calendar, across a month', () => {
    const now = new Date(2026, 11, 3, 9, 30)
    expect(daysAgo(0, now)).toBe('2026-12-03')
    expect(daysAgo(29, now)).toBe('2026-11-04')
  })

  it('labels a day in the reader language, whatever the computer zone', () => {
    expect(shortDay('2026-12-03', 'en')).toBe('Dec 3')
    expect(shortDay('2026-12-03', 'ja')).toBe('12月3日')
  })
})
