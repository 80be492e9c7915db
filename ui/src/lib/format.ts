// Dates, times and durations through Intl, in the clinic's time zone. Formatters are made
// once per locale and zone (making one costs far more than using it, and every row of the
// inbox and every message shows a time).

let zone: string | undefined

const made = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | Intl.DisplayNames>()

function once<T extends Intl.DateTimeFormat | Intl.NumberFormat | Intl.DisplayNames>(
  key: string,
  make: () => T,
): T {
  let formatter = made.get(key) as T | undefined
  if (!formatter) {
    formatter = make()
    made.set(key, formatter)
  }
  return formatter
}

function dates(locale: string, name: string, options: Intl.DateTimeFormatOptions) {
  return once(`d|${locale}|${zone}|${name}`, () => new Intl.DateTimeFormat(locale, { timeZone: zone, ...options }))
}

/** Shows times in this IANA zone from now on (`null`: the computer's own). */
export function setClinicTimeZone(timeZone: string | null) {
  try {
    if (timeZone) new Intl.DateTimeFormat('en', { timeZone })
    zone = timeZone ?? undefined
  } catch {
    zone = undefined
  }
}

/** `10:02`, or `12/1 10:02` when not today (in the clinic's zone). */
export function shortTime(at: number, locale: string, now = Date.now()): string {
  const day = dates('en-CA', 'day', { dateStyle: 'short' })
  const sameDay = day.format(at) === day.format(now)
  return sameDay
    ? dates(locale, 'time', { hour: '2-digit', minute: '2-digit' }).format(at)
    : dates(locale, 'dayTime', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(at)
}

/** The clinic's calendar day `at` falls on, as `2026-12-01`: to tell days apart. */
export function dayKey(at: number): string {
  return dates('en-CA', 'day', { dateStyle: 'short' }).format(at)
}

/** A day as a thread's divider names it, in the reader's language and calendar:
 *  `Monday, 7 December 2026`, `2026年12月7日月曜日`, `วันจันทร์ที่ 7 ธันวาคม 2569`. */
export function dayName(at: number, locale: string): string {
  return dates(locale, 'dayName', { dateStyle: 'full' }).format(at)
}

export function dateTime(at: number, locale: string): string {
  return dates(locale, 'dateTime', { dateStyle: 'medium', timeStyle: 'short' }).format(at)
}

export function date(at: number, locale: string): string {
  return dates(locale, 'date', { dateStyle: 'medium' }).format(at)
}

/** A waiting time: `45 sec`, `12 min`, `2 hr 5 min`. */
export function duration(ms: number, locale: string): string {
  const unit = (value: number, unit: 'second' | 'minute' | 'hour') =>
    once(
      `n|${locale}|${unit}`,
      () => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }),
    ).format(value)
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return unit(seconds, 'second')
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return unit(minutes, 'minute')
  const hours = Math.floor(minutes / 60)
  if (hours >= 48) {
    const days = once(`n|${locale}|day`, () => new Intl.NumberFormat(locale, { style: 'unit', unit: 'day', unitDisplay: 'short' }))
    return days.format(Math.floor(hours / 24))
  }
  const rest = minutes % 60
  return rest === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} ${unit(rest, 'minute')}`
}

/** A language tag (`th`, `zh-TW`) as its name in the reader's language. */
export function languageName(tag: string, locale: string): string {
  try {
    return once(`l|${locale}`, () => new Intl.DisplayNames([locale], { type: 'language' })).of(tag) ?? tag
  } catch {
    return tag
  }
}

/**
 * A name a patient chose (a file's), as the window shows it: without the bidi and control
 * characters that could make `invoice‮fdp.exe` read as a PDF. The same as the desk's
 * `safe_name` for "Save as".
 */
export function plainName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '')
}
