// Every string the window shows goes through svelte-i18n (ICU messages: plurals, numbers).
// The language is the OS's by default, switchable, and kept on this computer.
import { addMessages, getLocaleFromNavigator, init, locale } from 'svelte-i18n'
import en from '../locales/en.json'
import ja from '../locales/ja.json'
import th from '../locales/th.json'
import zhTW from '../locales/zh-TW.json'

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'ja', name: '日本語' },
  { code: 'zh-TW', name: '繁體中文' },
  { code: 'th', name: 'ไทย' },
] as const

export type Language = (typeof LANGUAGES)[number]['code']

export const MESSAGES: Record<Language, object> = { en, ja, 'zh-TW': zhTW, th }

const KEPT = 'tsunagi.language'

/** The supported language closest to a BCP 47 tag (`zh-Hant-TW` → `zh-TW`, `th-TH` → `th`). */
export function closestLanguage(tag: string | null | undefined): Language {
  const lower = (tag ?? '').toLowerCase()
  if (lower.startsWith('ja')) return 'ja'
  if (lower.startsWith('th')) return 'th'
  if (lower.startsWith('zh')) return 'zh-TW'
  return 'en'
}

function kept(): Language | null {
  try {
    const value = globalThis.localStorage?.getItem(KEPT)
    return LANGUAGES.some((l) => l.code === value) ? (value as Language) : null
  } catch {
    return null
  }
}

/** Loads every language and picks the kept one, else the OS's. */
export function setupI18n(initial?: Language): Language {
  for (const [code, messages] of Object.entries(MESSAGES)) {
    addMessages(code, messages as never)
  }
  const chosen = initial ?? kept() ?? closestLanguage(getLocaleFromNavigator())
  init({ fallbackLocale: 'en', initialLocale: chosen })
  return chosen
}

export function setLanguage(language: Language) {
  locale.set(language)
  try {
    globalThis.localStorage?.setItem(KEPT, language)
  } catch {
    // Not kept: the next start uses the OS language again.
  }
  document.documentElement.lang = language
}
