import { render, screen, waitFor } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import type { ConversationView, ProfileView } from '../lib/bindings'
import { counts, fakeDesk, item, message } from '../testing/fake'
import Workspace from './Workspace.svelte'

const PATIENT = 'U4af4980629a1b2c3d4e5f60718293a4b'

const profile: ProfileView = {
  relay: 'https://relay.example.com',
  channel_id: '1656789012',
  operator_id: 'd-me',
  operator: 'Aiko',
  role: 'staff',
}

function view(): ConversationView {
  return {
    item: item({ unread: 2 }),
    messages: [message({ text: 'ฟันผุค่ะ' })],
    has_older: false,
    handoffs: [],
    pending: [],
    contact: null,
    sessions: [],
    free_reply_until: null,
  }
}

/** A workspace on a fake desk, started from a `tsunagi://` link to `linked` if given. */
function workspace(linked: string | null = null, pinSet = false) {
  const desk = fakeDesk({
    lock_state: () => ({ pin_set: pinSet, tries_left: 5, wait_until: null }),
    desk_status: () => ({ connection: { state: 'online' }, waiting: 0, refused: 0 }),
    inbox_list: () => [item({ unread: 2 })],
    inbox_counts: () => counts({ waiting: 1 }),
    clinic_settings: () => ({ time_zone: null, canned: [], escalate_seconds: 0, contact_fields: [], lock_after_minutes: 15 }),
    tags_list: () => [],
    stickers_list: () => [],
    alert_paused: () => ({ until: null }),
    presence_update: () => null,
    link_at_start: () => linked,
    conversation_open: view,
    conversation_show: view,
  })
  let left = 0
  render(Workspace, { desk, profile, onleft: () => left++ })
  const opened = (command: 'conversation_open' | 'conversation_show') =>
    desk.calls.filter((c) => c.command === command).length
  return { desk, opened, left: () => left }
}

describe('a tsunagi:// link', () => {
  it('shows its chat and marks nothing read, until the operator opens it', async () => {
    const { desk, opened } = workspace()
    await waitFor(() => expect(desk.calls.some((c) => c.command === 'link_at_start')).toBe(true))

    // Anyone can make the link: following it only shows the chat.
    desk.emit('alert-open', { conversation: PATIENT, linked: true })
    await waitFor(() => expect(opened('conversation_show')).toBe(1))
    expect(await screen.findByText('ฟันผุค่ะ', { ignore: false })).toBeTruthy()
    expect(opened('conversation_open')).toBe(0)
    // The chat on screen changes (a patient writes again): still only shown.
    desk.emit('desk-changed', {
      conversations: [PATIENT],
      contacts: [],
      settings: false,
      followers: false,
      reminders: false,
      live: true,
    })
    await waitFor(() => expect(opened('conversation_show')).toBe(2))
    expect(opened('conversation_open')).toBe(0)

    // A clicked notification is the operator's own choice: that opens it, read.
    desk.emit('alert-open', { conversation: PATIENT, linked: false })
    await waitFor(() => expect(opened('conversation_open')).toBe(1))
  })

  it('the app was started with only shows its chat', async () => {
    const { desk, opened } = workspace(PATIENT)
    await waitFor(() => expect(opened('conversation_show')).toBe(1))
    expect(opened('conversation_open')).toBe(0)
    expect(desk.calls.map((c) => c.command)).not.toContain('conversation_act')
  })
})

describe('a desk its clinic removed', () => {
  it('leaves the workspace for the join screen', async () => {
    const { desk, left } = workspace()
    await waitFor(() => expect(desk.calls.some((c) => c.command === 'link_at_start')).toBe(true))
    desk.emit('desk-removed', { at: Date.UTC(2026, 11, 1, 9, 0) })
    expect(left()).toBe(1)
  })
})

describe('a desk with a PIN', () => {
  it('starts locked: quitting and starting the app again is no way past its lock', async () => {
    workspace(null, true)
    expect(await screen.findByRole('heading', { name: 'Tsunagi is locked' })).toBeTruthy()
  })

  it('starts open when it has none', async () => {
    const { desk } = workspace()
    await waitFor(() => expect(desk.calls.some((c) => c.command === 'lock_state')).toBe(true))
    expect(screen.queryByRole('heading', { name: 'Tsunagi is locked' })).toBeNull()
  })
})
