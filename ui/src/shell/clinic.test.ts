import { describe, expect, it } from 'vitest'
import { fakeDesk } from '../testing/fake'
import { Clinic } from './clinic.svelte'

describe('what the clinic set, for the workspace', () => {
  it('reads the saved answers, contact fields and escalation time in milliseconds', async () => {
    const desk = fakeDesk({
      clinic_settings: () => ({
        time_zone: null,
        canned: [{ title: 'greet', text: 'Hello', language: null }],
        escalate_seconds: 600,
        contact_fields: [{ key: 'chart', label: 'Chart number' }],
        lock_after_minutes: 5,
      }),
    })
    const clinic = new Clinic(desk)
    await clinic.loadSettings()
    expect(clinic.canned.map((c) => c.title)).toEqual(['greet'])
    expect(clinic.contactFields).toHaveLength(1)
    expect(clinic.escalateMs).toBe(600_000)
    expect(clinic.lockAfterMs).toBe(300_000)
  })

  it('keeps the tags it had when they cannot be read again', async () => {
    let offline = false
    const desk = fakeDesk({
      tags_list: () => {
        if (offline) throw { code: 'store', message: 'busy' }
        return ['flu', 'vaccine']
      },
    })
    const clinic = new Clinic(desk)
    await clinic.loadTags()
    offline = true
    await clinic.loadTags()
    expect(clinic.tags).toEqual(['flu', 'vaccine'])
  })
})
