// Dates, times and durations through Intl, in the clinic's time zone.

let zone: string | undefined

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
  const day = (ms: number) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, dateStyle: 'short' }).format(ms)
  const sameDay = day(at) === day(now)
  return new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    ...(sameDay ? {} : { month: 'numeric', day: 'numeric' }),
  }).format(at)
}

export function dateTime(at: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(at)
}

export function date(at: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, dateStyle: 'medium' }).format(at)
}

/** A waiting time: `45 sec`, `12 min`, `2 hr 5 min`. */
export function duration(ms: number, locale: string): string {
  const unit = (value: number, unit: 'second' | 'minute' | 'hour') =>
    new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value)
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return unit(seconds, 'second')
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return unit(minutes, 'minute')
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return rest === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} ${unit(rest, 'minute')}`
}

/** A language tag (`th`, `zh-TW`) as its name in the reader's language. */
export function languageName(tag: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(tag) ?? tag
  } catch {
    return tag
  }
}
