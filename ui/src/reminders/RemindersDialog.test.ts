import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { ProfileView, ReminderDraft } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import RemindersDialog from './RemindersDialog.svelte'

const profile = (role: ProfileView['role']): ProfileView => ({
  relay: 'https://relay.test',
  channel_id: '2000000000',
  operator_id: 'd-me',
  operator: 'Yuki',
  role,
})

function clinic() {
  const scheduled: ReminderDraft[] = []
  const desk = fakeDesk({
    settings_get: () => ({ greetings: { clinic: 'Sakura Clinic' } }) as never,
    tags_list: () => ['flu', 'vaccine'],
    reminders_list: () => [],
    contacts_list: () => [],
    reminder_preview: (draft) => ({ recipients: 2, blocked: 0, sample: 'Aiko', text: draft.text, quota: null }),
    reminder_schedule: (draft) => {
      scheduled.push(draft)
      return null as never
    },
  })
  return { desk, scheduled }
}

describe('the reminders dialog', () => {
  it('schedules what the form holds, then starts a blank one to the same tag', async () => {
    const { desk, scheduled } = clinic()
    render(RemindersDialog, { desk, profile: profile('owner'), onclose: () => {} })
    await waitFor(() => expect((screen.getByRole('textbox', { name: 'Clinic' }) as HTMLInputElement).value).toBe('Sakura Clinic'))
    await fireEvent.input(screen.getByRole('textbox', { name: 'Message' }), { target: { value: 'Hello {{name}}' } })
    await fireEvent.change(screen.getByRole('combobox', { name: 'Tag' }), { target: { value: 'flu' } })
    const region = await screen.findByRole('region', { name: 'Preview' })
    expect(region.textContent).toContain('Reaches 2 patients')
    await fireEvent.click(screen.getByRole('button', { name: 'Schedule reminder' }))
    expect(await screen.findByRole('status')).toHaveProperty('textContent', 'Scheduled.')
    expect(scheduled).toMatchObject([{ text: 'Hello {{name}}', audience: 'tag', target: 'flu', clinic: 'Sakura Clinic' }])
    expect((screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement).value).toBe('')
    expect((screen.getByRole('combobox', { name: 'Tag' }) as HTMLSelectElement).value).toBe('flu')
    expect(desk.calls.filter((c) => c.command === 'reminders_list')).toHaveLength(2)
  })

  it('lets staff remind one patient, and no tag or every follower', async () => {
    const { desk } = clinic()
    render(RemindersDialog, { desk, profile: profile('staff'), onclose: () => {} })
    await waitFor(() => expect(screen.getByRole('radio', { name: 'One patient' })).toHaveProperty('checked', true))
    expect(screen.getByRole('radio', { name: 'Everyone with a tag' })).toHaveProperty('disabled', true)
    expect(screen.getByRole('radio', { name: 'Every follower' })).toHaveProperty('disabled', true)
    expect(screen.getByRole('combobox', { name: 'Patient' })).toBeTruthy()
  })
})
