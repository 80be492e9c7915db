import IntlMessageFormat from 'intl-messageformat'
import { describe, expect, it } from 'vitest'
import { closestLanguage, LANGUAGES, MESSAGES } from './i18n'

function flatten(messages: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (typeof value === 'string') out.set(path, value)
    else for (const [k, v] of flatten(value as object, path)) out.set(k, v)
  }
  return out
}

/** The `{name}` arguments a message uses. */
function argumentsOf(text: string): string[] {
  return [...text.matchAll(/\{\s*(\w+)/g)].map((m) => m[1]).sort()
}

describe('languages', () => {
  const english = flatten(MESSAGES.en)

  for (const { code } of LANGUAGES) {
    const messages = flatten(MESSAGES[code])
    it(`${code} has every key English has, and no other`, () => {
      expect([...english.keys()].filter((k) => !messages.has(k))).toEqual([])
      expect([...messages.keys()].filter((k) => !english.has(k))).toEqual([])
    })

    it(`${code} messages parse and use the same arguments as English`, () => {
      for (const [key, text] of messages) {
        expect(() => new IntlMessageFormat(text, code), key).not.toThrow()
        const wanted = new Set(argumentsOf(english.get(key) ?? ''))
        for (const used of argumentsOf(text)) {
          expect(wanted.has(used), `${code} ${key} uses {${used}}`).toBe(true)
        }
      }
    })
  }

  it('picks the closest language from the OS', () => {
    expect(closestLanguage('ja-JP')).toBe('ja')
    expect(closestLanguage('th-TH')).toBe('th')
    expect(closestLanguage('zh-Hant-TW')).toBe('zh-TW')
    expect(closestLanguage('fr-FR')).toBe('en')
    expect(closestLanguage(undefined)).toBe('en')
  })
})
