import { render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import { fakeDesk, item, message } from '../testing/fake'
import ConversationPane from './Conversation.svelte'
import { Conversation } from './conversation.svelte'

describe('the conversation pane', () => {
  it('draws a waiting chat with the header’s Claim and a box to answer it', async () => {
    const desk = fakeDesk({
      conversation_open: () => ({
        item: item(),
        messages: [message({ text: 'ขอนัดพรุ่งนี้ค่ะ' })],
        has_older: false,
        handoffs: [],
        pending: [],
        contact: null,
        sessions: [],
        free_reply_until: null,
      }),
    })
    const conversation = new Conversation(desk, 'U4af4980629a1b2c3d4e5f60718293a4b')
    await conversation.load()
    render(ConversationPane, { desk, conversation, me: 'd-me', canned: [], stickers: [] })
    expect(await screen.findByRole('button', { name: 'Claim' })).toBeTruthy()
    expect(screen.getByText('ขอนัดพรุ่งนี้ค่ะ', { ignore: false })).toBeTruthy()
    expect(screen.getByRole('separator', { hidden: true }).textContent).toContain('2026')
    // A waiting chat can be answered: the answer claims it.
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveProperty('disabled', false)
  })
})
