import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { ContactDetail } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import ContactFields from './ContactFields.svelte'
import ContactPanel from './ContactPanel.svelte'

describe('the clinic’s details on a patient', () => {
  it('saves only what changed, a cleared field as empty, and lets owners add a field', async () => {
    const saved: Record<string, string>[] = []
    const added: string[] = []
    render(ContactFields, {
      id: 'U1',
      values: { chart_number: 'A-20931', phone: '090-1234-5678' },
      custom: [{ key: 'field_x', label: 'Insurance card' }],
      owner: true,
      onsave: async (changed: Record<string, string>) => void saved.push(changed),
      onaddfield: async (label: string) => void added.push(label),
    })
    // The details read as lines, until the form is opened.
    expect(screen.getByText('A-20931')).toBeTruthy()
    await fireEvent.click(screen.getByRole('button', { name: 'Edit details' }))
    const save = screen.getByRole('button', { name: 'Save details' })
    expect(save).toHaveProperty('disabled', true)
    await fireEvent.input(screen.getByLabelText('Name for the team'), { target: { value: 'Tanaka (back)' } })
    await fireEvent.input(screen.getByLabelText('Phone'), { target: { value: '' } })
    await fireEvent.input(screen.getByLabelText('Insurance card'), { target: { value: '12-345' } })
    await fireEvent.submit(save.closest('form')!)
    expect(saved).toEqual([{ team_name: 'Tanaka (back)', phone: '', field_x: '12-345' }])
    await screen.findByRole('button', { name: 'Edit details' })

    await fireEvent.click(screen.getByRole('button', { name: 'Add a field for every patient' }))
    await fireEvent.input(screen.getByLabelText('Field name'), { target: { value: 'Allergies' } })
    await fireEvent.click(screen.getByRole('button', { name: 'Add field' }))
    expect(added).toEqual(['Allergies'])
  })

  it('offers staff no new fields', () => {
    render(ContactFields, { id: 'U1', values: {}, custom: [], owner: false, onsave: async () => {}, onaddfield: async () => {} })
    expect(screen.queryByRole('button', { name: 'Add a field for every patient' })).toBeNull()
  })
})

describe('a patient’s data', () => {
  const contact: ContactDetail = {
    user_id: 'U1',
    display_name: 'Tanaka Yui',
    picture_url: null,
    status_message: null,
    language: 'ja',
    friend_status: 'following',
    first_seen_at: 0,
    tags: [],
    fields: {},
    notes: [],
    friend_history: [],
    stopped: null,
    consents: [],
    held: null,
  }

  it('is saved whole by an owner, who is told what the archive holds', async () => {
    const desk = fakeDesk({
      tags_list: () => [],
      contact_export: () => ({ messages: 42, files: 3, files_missing: 1 }),
    })
    render(ContactPanel, { desk, contact, sessions: [], owner: true, onchanged: () => {} })
    await fireEvent.click(screen.getByRole('button', { name: 'Export all their data…' }))
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toContain('Saved: 42 messages and 3 files.'),
    )
    expect(screen.getByRole('status').textContent).toContain('1 files the relay no longer kept')
    const exports = desk.calls.filter((c) => c.command === 'contact_export').map((c) => c.request)
    expect(exports).toEqual([{ contact: 'U1', title: "Save Tanaka Yui's data" }])
  })

  it('is erased by an owner only once they type the word asked for', async () => {
    const desk = fakeDesk({ tags_list: () => [], contact_erase: () => null })
    let erased = 0
    render(ContactPanel, { desk, contact, sessions: [], owner: true, onchanged: () => {}, onerased: () => erased++ })
    await fireEvent.click(screen.getByRole('button', { name: 'Erase all their data…' }))
    const dialog = screen.getByRole('dialog', { name: 'Erase Tanaka Yui?' })
    expect(dialog.textContent).toContain('It cannot be undone')
    const confirm = screen.getByRole('button', { name: 'Erase everything' })
    expect(confirm).toHaveProperty('disabled', true)
    await fireEvent.input(screen.getByLabelText('Type ERASE to confirm'), { target: { value: 'eras' } })
    expect(confirm).toHaveProperty('disabled', true)
    await fireEvent.input(screen.getByLabelText('Type ERASE to confirm'), { target: { value: 'erase ' } })
    expect(confirm).toHaveProperty('disabled', false)
    await fireEvent.click(confirm)
    await waitFor(() => expect(erased).toBe(1))
    const erases = desk.calls.filter((c) => c.command === 'contact_erase').map((c) => c.request)
    expect(erases).toEqual([{ contact: 'U1', typed: 'erase ', expected: 'ERASE' }])
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('is not offered to staff', () => {
    const desk = fakeDesk({ tags_list: () => [] })
    render(ContactPanel, { desk, contact, sessions: [], owner: false, onchanged: () => {} })
    expect(screen.queryByRole('button', { name: 'Export all their data…' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Erase all their data…' })).toBeNull()
  })
})
