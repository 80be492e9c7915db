// The analytics' days, as the date pickers and the charts show them.

/** The day `days` before today on this computer's calendar, as `YYYY-MM-DD`. */
export function daysAgo(days: number, now = new Date()): string {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - days)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`
}

/** `2026-12-03` as a chart's short label in the reader's language ("Dec 3", "12/3"). */
export function shortDay(day: string, locale: string): string {
  const [year, month, date] = day.split('-').map(Number)
  return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(year, month - 1, date)),
  )
}
