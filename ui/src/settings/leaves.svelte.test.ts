import { fireEvent, render, screen } from '@testing-library/svelte'
import { createRawSnippet } from 'svelte'
import { describe, expect, it } from 'vitest'
import { Attempts } from '../lib/attempts.svelte'
import type { AiSettings } from '../lib/bindings'
import { fakeDesk } from '../testing/fake'
import AiEditor from './AiEditor.svelte'
import type { TelegramDraft } from './settings.svelte'
import TelegramEditor from './TelegramEditor.svelte'

const nothing = createRawSnippet(() => ({ render: () => '<span></span>' }))

describe('what leaves for services outside the clinic, in plain words', () => {
  it('names the AI service and how much of the chat goes with a question, down to only the question', async () => {
    // As the dialog's draft is: state the editor changes.
    const ai: AiSettings = $state({
      base_url: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini',
      prompt: 'Sakura Clinic, open 9–18.',
      history: 10,
      timeout_seconds: 20,
      when_open: false,
      when_closed: true,
    })
    render(AiEditor, { ai, children: nothing })
    const leaves = screen.getByRole('region', { name: 'What goes to the AI service' })
    expect(leaves.textContent).toContain(
      "To api.openai.com, with each question: what you wrote about the clinic, the patient's question, and the 10 messages of the chat before it.",
    )
    expect(leaves.textContent).toContain("Never: the patient's name or LINE ID")

    const only = screen.getByRole('checkbox', { name: "Send only the patient's question (no earlier messages)" })
    await fireEvent.click(only)
    expect(ai.history).toBe(0)
    expect(leaves.textContent).toContain("the patient's question, and no earlier messages.")
    await fireEvent.click(only)
    expect(ai.history).toBe(10)
  })

  it('says whether Telegram alerts name the patient, and that their words never go', async () => {
    const telegram: TelegramDraft = $state({
      chats: '-1001234567890',
      on_handoff: true,
      on_escalation: true,
      on_reminder_failed: false,
      show_names: false,
      language: 'ja',
    })
    render(TelegramEditor, {
      telegram,
      token: null,
      desk: fakeDesk({}),
      attempts: new Attempts(),
      tested: null,
      children: nothing,
    })
    const leaves = screen.getByRole('region', { name: 'What goes to Telegram' })
    expect(leaves.textContent).toContain('Patients are called “a patient”.')
    expect(leaves.textContent).not.toContain("the patient's LINE name")
    expect(leaves.textContent).toContain('Never what patients wrote, their photos or files.')
    await fireEvent.click(screen.getByRole('checkbox', { name: "Show patients' names in alerts" }))
    expect(leaves.textContent).toContain("the patient's LINE name")
  })
})
