import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import { fakeDesk } from '../testing/fake'
import ContactHold from './ContactHold.svelte'
import RetentionEditor from '../settings/RetentionEditor.svelte'
import type { Retention } from '../lib/bindings'

describe('a patient on hold', () => {
  it('is held with a reason an owner types, and released', async () => {
    const desk = fakeDesk({ contact_hold: () => null })
    let changed = 0
    const { rerender } = render(ContactHold, { desk, contact: 'U1', held: null, onchanged: () => changed++ })
    await fireEvent.click(screen.getByRole('button', { name: 'Keep their data (hold)…' }))
    const keep = screen.getByRole('button', { name: 'Keep' })
    expect(keep).toHaveProperty('disabled', true)
    await fireEvent.input(screen.getByLabelText('Why their data is kept'), { target: { value: 'a complaint' } })
    await fireEvent.click(keep)
    await waitFor(() => expect(changed).toBe(1))
    await rerender({ desk, contact: 'U1', held: { reason: 'a complaint', at: 0 }, onchanged: () => changed++ })
    expect(screen.getByText(/On hold: a complaint/)).toBeTruthy()
    await fireEvent.click(screen.getByRole('button', { name: 'Release the hold' }))
    await waitFor(() => expect(changed).toBe(2))
    const holds = desk.calls.filter((c) => c.command === 'contact_hold').map((c) => c.request)
    expect(holds).toEqual([
      { contact: 'U1', held: true, reason: 'a complaint' },
      { contact: 'U1', held: false, reason: '' },
    ])
  })
})

describe('the retention', () => {
  it('keeps each kind forever until an owner sets days, and says what tonight would remove', async () => {
    const asked: Retention[] = []
    const desk = fakeDesk({
      retention_preview: (retention: Retention) => {
        asked.push({ ...retention })
        return { messages: retention.messages_days === null ? null : 12, media: null, ai: null, audit: null, held: 2 }
      },
    })
    const retention: Retention = $state({
      messages_days: null,
      media_days: null,
      uploads_days: null,
      ai_days: null,
      audit_days: null,
    })
    render(RetentionEditor, { desk, retention })
    expect(screen.queryByRole('status')).toBeNull()
    const messages = screen.getByRole('combobox', { name: 'How long: Messages (both ways, with their files)' })
    await fireEvent.change(messages, { target: { value: 'days' } })
    expect(retention.messages_days).toBe(365)
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toContain("tonight's purge would remove from this desk: 12 messages."),
    )
    expect(screen.getByRole('status').textContent).toContain('2 patients on hold keep theirs.')
    expect(asked.at(-1)?.messages_days).toBe(365)
  })
})
