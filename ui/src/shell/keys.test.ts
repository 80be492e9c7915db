import { describe, expect, it } from 'vitest'
import { isControl, isTyping, shortcut } from './keys'

describe('keyboard shortcuts', () => {
  const key = (k: string, extra: Partial<KeyboardEvent> = {}) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    ...extra,
  })

  it('are Ctrl (or Cmd) with K, 1 to 5 and Enter', () => {
    expect(shortcut(key('k', { ctrlKey: true }))).toEqual({ type: 'search' })
    expect(shortcut(key('K', { metaKey: true }))).toEqual({ type: 'search' })
    expect(shortcut(key('3', { ctrlKey: true }))).toEqual({ type: 'tab', index: 2 })
    expect(shortcut(key('6', { ctrlKey: true }))).toBe(null)
    expect(shortcut(key('Enter', { ctrlKey: true }))).toEqual({ type: 'claim' })
    expect(shortcut(key('k'))).toBe(null)
    expect(shortcut(key('k', { ctrlKey: true, altKey: true }))).toBe(null)
  })

  it('leave text boxes and buttons to themselves', () => {
    expect(isTyping(document.createElement('textarea'))).toBe(true)
    expect(isTyping(document.createElement('input'))).toBe(true)
    expect(isTyping(document.createElement('div'))).toBe(false)
    expect(isControl(document.createElement('button'))).toBe(true)
    expect(isControl(document.createElement('div'))).toBe(false)
  })
})
