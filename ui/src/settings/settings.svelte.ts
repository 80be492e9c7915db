// The owner's settings editors: one draft per setting, checked as it is typed by the very
// rules the relay refuses a setting for (`settings_check`), saved whole (`settings_save`).
import type {
  AiSettings,
  BusinessHours,
  CannedResponse,
  Greetings,
  HandoffSettings,
  KeywordRuleView,
  PatientData,
  ReadReceipts,
  RedFlagSettings,
  SettingEdit,
  SettingProblem,
  TeamSettingsView,
  TelegramSettings,
} from '../lib/bindings'

/** One setting as an editor has it, against what the log holds. */
export class Draft<T> {
  value = $state() as T
  problems = $state<SettingProblem[]>([])
  #kept = $state('')

  /** `kept`: false when the log holds nothing yet, so the suggestion shown can be saved. */
  constructor(
    initial: T,
    private readonly toEdit: (value: T) => SettingEdit,
    kept = true,
  ) {
    this.value = structuredClone(initial)
    this.#kept = kept ? JSON.stringify(initial) : ''
  }

  /** Differs from what the log holds. */
  get changed(): boolean {
    return JSON.stringify(this.value) !== this.#kept
  }

  edit(): SettingEdit {
    return this.toEdit($state.snapshot(this.value) as T)
  }

  /** What was saved is now what the log holds. */
  saved() {
    this.#kept = JSON.stringify(this.value)
  }
}

/** How long typing pauses before a draft is checked or a sentence tried. */
export const CHECK_AFTER_MS = 150

/** Every editor's draft. */
export type Drafts = {
  hours: Draft<BusinessHours>
  greetings: Draft<Greetings>
  handoff: Draft<HandoffSettings>
  replies: Draft<KeywordRuleView[]>
  canned: Draft<CannedResponse[]>
  receipts: Draft<ReadReceipts>
  ai: Draft<AiSettings>
  telegram: Draft<TelegramDraft>
  red_flags: Draft<RedFlagSettings>
  patient_data: Draft<PatientData>
}

/** Telegram alerts as the editor has them: the chat ids one per line, as typed. */
export type TelegramDraft = Omit<TelegramSettings, 'chats'> & { chats: string }

export const SECTIONS = [
  'hours',
  'greetings',
  'handoff',
  'red_flags',
  'replies',
  'canned',
  'receipts',
  'ai',
  'telegram',
  'patient_data',
] as const
export type Section = (typeof SECTIONS)[number]

/** Opening hours to start from where none were ever set: weekdays nine to six, Saturday
 *  mornings, in this computer's time zone. */
export function suggestedHours(timeZone: string): BusinessHours {
  const day = (weekday: number, from: string, to: string) => ({ weekday, from, to })
  return {
    time_zone: timeZone,
    open: [1, 2, 3, 4, 5].map((d) => day(d, '09:00', '18:00')).concat(day(6, '09:00', '12:00')),
    holidays: [],
    away_message: null,
  }
}

export function drafts(settings: TeamSettingsView, timeZone: string): Drafts {
  return {
    hours: new Draft(
      settings.business_hours ?? suggestedHours(timeZone),
      (hours) => ({ setting: 'business_hours', ...hours, away_message: blankless(hours.away_message) }),
      settings.business_hours !== null,
    ),
    greetings: new Draft(settings.greetings, (g) => ({
      setting: 'greetings',
      follow: blankless(g.follow),
      refollow: blankless(g.refollow),
      handoff: blankless(g.handoff),
      clinic: blankless(g.clinic),
    })),
    handoff: new Draft<HandoffSettings>(
      { ...settings.handoff, keywords_by_language: settings.handoff.keywords_by_language ?? {} },
      (h) => ({ setting: 'handoff', ...h }),
    ),
    replies: new Draft(settings.keyword_rules, (rules) => ({ setting: 'keyword_rules', rules })),
    canned: new Draft(settings.canned_responses, (responses) => ({ setting: 'canned_responses', responses })),
    receipts: new Draft(settings.read_receipts, (receipts) => ({ setting: 'read_receipts', ...receipts })),
    ai: new Draft(settings.ai ?? suggestedAi(), (ai) => ({ setting: 'ai', ...ai }), settings.ai !== null),
    telegram: new Draft(
      telegramDraft(settings.telegram),
      (t) => ({ setting: 'telegram', ...t, chats: chatIds(t.chats) }),
      settings.telegram !== null,
    ),
    red_flags: new Draft(settings.red_flags, (f) => ({ setting: 'red_flags', ...f }), settings.red_flags_set),
    patient_data: new Draft(settings.patient_data, (d) => ({ setting: 'patient_data', ...d })),
  }
}

/** The AI responder to start from: OpenAI's API, answering only while the clinic is
 *  closed, until the owner says otherwise. */
export function suggestedAi(): AiSettings {
  return {
    base_url: 'https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    prompt: '',
    history: 10,
    timeout_seconds: 20,
    when_open: false,
    when_closed: true,
  }
}

function telegramDraft(settings: TelegramSettings | null): TelegramDraft {
  const kept = settings ?? {
    chats: [],
    on_handoff: true,
    on_escalation: true,
    on_reminder_failed: false,
    show_names: false,
    language: 'en',
  }
  return { ...kept, chats: kept.chats.join('\n') }
}

/** The chat ids typed one per line (a group's start with a minus). */
export function chatIds(lines: string): number[] {
  return chatLines(lines)
    .filter((line) => CHAT_ID.test(line))
    .map(Number)
}

/** The lines that are not chat ids, as typed. */
export function notChatIds(lines: string): string[] {
  return chatLines(lines).filter((line) => !CHAT_ID.test(line))
}

const CHAT_ID = /^-?\d{1,15}$/

function chatLines(lines: string): string[] {
  return lines
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
}

/** An emptied text box means "none". */
function blankless(text: string | null): string | null {
  return text?.trim() ? text : null
}

/** The languages patients are answered in, as the editors offer them. */
export const PATIENT_LANGUAGES = ['th', 'ja', 'zh-TW', 'en'] as const

/** The languages handoff words are kept under, `''` for any. */
export const WORD_LANGUAGES = ['', 'th', 'ja', 'zh-TW', 'en'] as const

/** Each language's handoff words as the editor shows them, one per line. */
export function wordBoxes(handoff: HandoffSettings): Record<string, string> {
  const boxes: Record<string, string> = {}
  for (const language of WORD_LANGUAGES) {
    boxes[language] = keywordLines(language === '' ? handoff.keywords : (handoff.keywords_by_language?.[language] ?? []))
  }
  return boxes
}

/** Puts one box's words back into the setting (a language left empty is dropped). */
export function setWords(handoff: HandoffSettings, language: string, lines: string) {
  const words = keywordsOf(lines)
  if (language === '') {
    handoff.keywords = words
    return
  }
  const byLanguage = { ...(handoff.keywords_by_language ?? {}) }
  if (words.length === 0) delete byLanguage[language]
  else byLanguage[language] = words
  handoff.keywords_by_language = byLanguage
}

/** Handoff keywords as the editor shows them: one per line. */
export function keywordLines(keywords: string[]): string {
  return keywords.join('\n')
}

export function keywordsOf(lines: string): string[] {
  return lines
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
}
