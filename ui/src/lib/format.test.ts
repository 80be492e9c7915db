import { describe, expect, it } from 'vitest'
import { duration, plainName, setClinicTimeZone, shortTime } from './format'

describe('times', () => {
  it('are shown in the clinic’s time zone, with the day only when it is not today', () => {
    setClinicTimeZone('Asia/Tokyo')
    const at = Date.UTC(2026, 11, 1, 1, 2) // 10:02 in Tokyo
    expect(shortTime(at, 'en-GB', at)).toBe('10:02')
    expect(shortTime(at, 'en-GB', at + 2 * 86_400_000)).toBe('01/12, 10:02')
    setClinicTimeZone('Asia/Bangkok')
    expect(shortTime(at, 'en-GB', at)).toBe('08:02')
    setClinicTimeZone('Not/AZone')
    setClinicTimeZone(null)
  })

  it('waiting times read as units', () => {
    expect(duration(45_000, 'en')).toBe('45 sec')
    expect(duration(12 * 60_000, 'en')).toBe('12 min')
    expect(duration(125 * 60_000, 'en')).toBe('2 hr 5 min')
  })
})

describe('plainName', () => {
  it('drops the bidi and control characters a file name could pose with', () => {
    expect(plainName('invoice\u202efdp.exe')).toBe('invoicefdp.exe')
    expect(plainName('a\u2066b\u2069\u200f\u0007.pdf')).toBe('ab.pdf')
    expect(plainName('検査結果.pdf')).toBe('検査結果.pdf')
  })
})
