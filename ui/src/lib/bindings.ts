// Generated from src-tauri/src/ipc.rs by `cargo xtask bindings`. Do not edit.

export type ErrorCode = "invalid_input" | "address_empty" | "address_invalid" | "address_insecure" | "name_empty" | "code_empty" | "code_unknown" | "code_used" | "code_expired" | "code_withdrawn" | "relay_unreachable" | "relay_refused" | "no_keyring" | "no_channel" | "channel_id_empty" | "channel_secret_empty" | "line_refused" | "line_unavailable" | "owner_only" | "not_joined" | "already_joined" | "not_found" | "not_yours" | "save_failed" | "settings_invalid" | "update_off" | "update_address_invalid" | "update_unverifiable" | "update_unreachable" | "update_manifest_invalid" | "update_signature_refused" | "update_not_installable" | "update_install_failed" | "telegram_refused" | "telegram_unavailable" | "no_credential" | "internal";

export type IpcError = { code: ErrorCode, 
/**
 * For the log and for details; the UI shows its own words for `code`.
 */
message: string, };

export type KeyringStatus = { "state": "available" } | { "state": "unavailable", reason: string, };

export type ProfileView = { relay: string, 
/**
 * None while the relay has no LINE channel yet: its owner connects one.
 */
channel_id: string | null, operator_id: string, operator: string, role: "owner" | "staff", };

export type AppInfo = { version: string, 
/**
 * `linux`, `macos` or `windows`.
 */
os: string, keyring: KeyringStatus, profile: ProfileView | null, 
/**
 * This launch found the desk's store unusable and set it aside for a fresh copy from
 * the relay.
 */
set_aside: SetAsideView | null, 
/**
 * When this computer learned that an owner removed it from the clinic, and deleted its
 * copy of patients' conversations and files (ms since the epoch); until it joins again.
 */
removed_at: number | null, };

export type SetAsideView = { 
/**
 * `damaged` or `newer`.
 */
reason: string, kept_as: string, };

export type UpdateSettings = { current_version: string, 
/**
 * The update address set on this computer, if any.
 */
address: string | null, 
/**
 * The address this build came with, used when none is set here.
 */
built_in_address: string | null, 
/**
 * False for a build with no key to check updates with: it never looks.
 */
can_verify: boolean, 
/**
 * False when this copy was not installed from a package (a developer's build).
 */
installable: boolean, 
/**
 * The version "Later" was said to, while it is not offered.
 */
postponed: string | null, };

export type UpdateSettingsRequest = { address: string | null, };

export type UpdateOffer = { version: string, 
/**
 * What is new, as the release wrote it.
 */
notes: string | null, 
/**
 * When it was published (ms since the epoch).
 */
published: number | null, };

export type UpdateProgress = { received: number, total: number | null, };

export type RelayUrlCheckRequest = { url: string, };

export type RelayUrlChecked = { relay_url: string, 
/**
 * The address LINE will call for a channel, with `{channel_id}` to fill in.
 */
webhook_url_template: string, 
/**
 * False only for a relay on this machine over plain HTTP (the demo).
 */
encrypted: boolean, };

export type DeskJoinRequest = { relay: string, code: string, name: string, };

export type ChannelConnectRequest = { channel_id: string, channel_secret: string, };

export type SetupStepView = { 
/**
 * `credentials`, `bot info`, `stored`, `webhook URL` or `webhook test`.
 */
name: string, ok: boolean, 
/**
 * LINE's or the relay's own words: the bot's name, the webhook address, LINE's answer.
 */
detail: string, 
/**
 * What went wrong, when the relay knows: the window says it in the owner's language.
 */
problem: SetupProblem | null, };

export type SetupProblem = { "problem": "webhook_off", endpoint: string, } | { "problem": "webhook_elsewhere", endpoint: string, found: string, } | { "problem": "webhook_unreached", endpoint: string, reason: string, detail: string, } | { "problem": "webhook_refused", endpoint: string, status: number, reason: string, detail: string, };

export type ChannelConnected = { profile: ProfileView, steps: Array<SetupStepView>, };

export type TeamDevice = { device_id: string, operator: string, 
/**
 * The computer, as it named itself when it joined.
 */
device_name: string, role: "owner" | "staff", joined_at: number, revoked_at: number | null, 
/**
 * When it last reached the relay, to the minute.
 */
last_seen_at: number | null, 
/**
 * This desk.
 */
me: boolean, };

export type TeamInviteRequest = { role: "owner" | "staff", };

export type TeamInvite = { id: string, code: string, role: "owner" | "staff", expires_at: number, };

export type TeamRevokeRequest = { device_id: string, };

export type TeamCode = { id: string, role: "owner" | "staff", 
/**
 * The device that asked for it (`null`: the relay's operator).
 */
created_by: string | null, created_at: number, expires_at: number, };

export type TeamWithdrawRequest = { id: string, };

export type Connection = { "state": "connecting" } | { "state": "online" } | { "state": "catching_up", applied: number, head: number, } | { "state": "reconnecting" } | { "state": "offline" } | { "state": "stopped", reason: string, };

export type SyncStatus = { connection: Connection, 
/**
 * Ops waiting for the relay.
 */
waiting: number, 
/**
 * Ops the relay refused, kept for people to retry or discard.
 */
refused: number, };

export type InboxList = "needs_reply" | "waiting" | "mine" | "active" | "team" | "bot" | "closed";

export type ChatKind = "user" | "group" | "room";

export type SessionStatus = "waiting" | "active" | "closed";

export type Speaker = "patient" | "bot" | "staff";

export type Direction = "in" | "out" | "system";

export type SendStatus = "pending" | "sent" | "failed" | "unconfirmed";

export type SentVia = "reply" | "push";

export type MediaState = "stored" | "gone" | "failed";

export type MediaView = { state: MediaState, content_type: string | null, size: number | null, 
/**
 * A thumbnail is kept too.
 */
preview: boolean, 
/**
 * Why it could not be kept.
 */
reason: string | null, };

export type QuotedView = { direction: Direction, 
/**
 * The operator's or the contact's name; none for the bot.
 */
author_name: string | null, type: string, text: string | null, unsent: boolean, };

export type FriendStatus = "following" | "blocked" | "unknown";

export type PageCursor = number;

export type SessionSummary = { id: number, status: SessionStatus, operator: string | null, operator_name: string | null, started_at: number, claimed_at: number | null, first_response_at: number | null, closed_at: number | null, closed_by: string | null, message_count: number, transfers: number, csat: number | null, 
/**
 * When the patient first wrote words of an emergency in this session: it leads the
 * queue and is marked in every list.
 */
urgent_at: number | null, };

export type InboxItem = { conversation: string, kind: ChatKind, mode: "bot" | "human", 
/**
 * The contact's name (user chats) as LINE reported it.
 */
name: string | null, 
/**
 * The name the team uses for the patient, if it gave one: shown in place of `name`.
 */
team_name: string | null, picture_url: string | null, 
/**
 * The newest message of the patient or of a person (the bot's only while nobody is
 * awaited): its text, or `[image]` and the like.
 */
preview: string | null, 
/**
 * Who wrote it.
 */
speaker: Speaker | null, 
/**
 * The operator who wrote it, when staff did.
 */
speaker_id: string | null, speaker_name: string | null, 
/**
 * Since when the patient waits for a person: their oldest message since the team
 * last answered (the bot's messages are no answer).
 */
awaiting_since: number | null, 
/**
 * The contact's tags.
 */
tags: Array<string>, last_message_at: number | null, 
/**
 * Messages from the patient this desk has not seen (up to [`UNREAD_CAP`]); before
 * this desk first opens the chat, those the team has not answered.
 */
unread: number, session: SessionSummary | null, 
/**
 * In the waiting list: 1 is next.
 */
queue_position: number | null, 
/**
 * In the waiting list: how long it has waited, in milliseconds, as of `now`.
 */
waiting_ms: number | null, 
/**
 * Where the next page starts (pass it as `before`).
 */
cursor: PageCursor, };

export type InboxCounts = { waiting: number, mine: number, active: number, 
/**
 * Active and held by another operator.
 */
team: number, bot: number, closed: number, 
/**
 * Conversations with messages the team has not answered.
 */
unread_conversations: number, 
/**
 * The queue, and my chats whose patient spoke last.
 */
needs_reply: number, 
/**
 * How many chats of each list hold messages this desk has not seen.
 */
unread_needs_reply: number, unread_waiting: number, unread_mine: number, unread_team: number, };

export type InboxListRequest = { list: InboxList, 
/**
 * Only the chats of contacts with this tag.
 */
tag: string | null, before: PageCursor | null, limit: number, };

export type MessageView = { seq: number, part: number, direction: Direction, author: string | null, 
/**
 * The operator's name (out), or the contact's (in).
 */
author_name: string | null, line_message_id: string | null, type: string, supported: boolean, text: string | null, 
/**
 * The message object as JSON (images, stickers, locations …).
 */
body: string, quote_token: string | null, reply_token_expires_at: number | null, send_status: SendStatus | null, sent_via: SentVia | null, 
/**
 * Images, video, audio and files users sent: what the relay keeps.
 */
media: MediaView | null, failure: string | null, 
/**
 * LINE's id of a refusal, to quote to LINE's support.
 */
line_request_id: string | null, unsent: boolean, edited_at: number | null, at: number, 
/**
 * The model that wrote it, when the AI responder sent it.
 */
ai_model: string | null, 
/**
 * The message this one quotes (LINE's `quotedMessageId`), when the desk has it.
 */
quoted: QuotedView | null, };

export type ConversationRequest = { conversation: string, };

export type HandoffAction = "claimed" | "released" | "transferred" | "closed" | "to_bot" | "to_people";

export type HandoffEvent = { seq: number, action: HandoffAction, 
/**
 * Who did it (the operator's name when the desk knows it).
 */
by: string, by_name: string | null, 
/**
 * A transfer's new holder.
 */
to_name: string | null, 
/**
 * False when the log refused it (someone else was first); `reason` says why.
 */
applied: boolean, reason: string | null, at: number, };

export type FriendEvent = "followed" | "blocked" | "refollowed";

export type FriendChange = { event: FriendEvent, at: number, };

export type Note = { seq: number, text: string, author_name: string | null, at: number, };

export type ContactDetail = { user_id: string, display_name: string | null, picture_url: string | null, status_message: string | null, 
/**
 * The language of the contact's LINE app (`th`, `ja`, `zh-TW` …).
 */
language: string | null, friend_status: FriendStatus, first_seen_at: number, tags: Array<string>, 
/**
 * The clinic's own facts, by field (`chart_number`, `phone`, an owner's own …).
 */
fields: { [key in string]?: string }, 
/**
 * Newest first.
 */
notes: Array<Note>, 
/**
 * Oldest first.
 */
friend_history: Array<FriendChange>, 
/**
 * The stop word they wrote: they are sent no reminders until they agree again.
 */
stopped: Stopped | null, 
/**
 * Every answer to a consent they gave, newest first.
 */
consents: Array<ConsentRecord>, 
/**
 * An owner keeps their data whatever the retention.
 */
held: Held | null, };

export type PendingKind = "claim" | "release" | "transfer" | "close" | "set_mode" | "send" | "other";

export type PendingAction = { op_id: string, kind: PendingKind, 
/**
 * A send's text.
 */
text: string | null, created_at: number, last_error: string | null, 
/**
 * The relay refused it: it will not go out unless retried.
 */
refused: boolean, };

export type ConversationView = { item: InboxItem, 
/**
 * The newest messages, oldest first.
 */
messages: Array<MessageView>, 
/**
 * Whether older messages exist before `messages`.
 */
has_older: boolean, handoffs: Array<HandoffEvent>, 
/**
 * This desk's actions on the chat that have not reached the log.
 */
pending: Array<PendingAction>, contact: ContactDetail | null, 
/**
 * Earlier sessions, newest first.
 */
sessions: Array<SessionSummary>, 
/**
 * Until when an answer goes free, on a reply token the patient gave that nothing has
 * used yet; null: it would count against the month's messages.
 */
free_reply_until: number | null, };

export type MessagesRequest = { conversation: string, seq: number, part: number, 
/**
 * After the position instead of before it.
 */
newer: boolean, limit: number, };

export type HandoffRequest = { "type": "claim" } | { "type": "release" } | { "type": "close" } | { "type": "to_bot" } | { "type": "to_people" } | { "type": "transfer", to: string, };

export type ActRequest = { conversation: string, action: HandoffRequest, };

export type Outgoing = { "type": "text", text: string, quote_token: string | null, } | { "type": "sticker", package_id: string, sticker_id: string, } | { "type": "image", original_content_url: string, preview_image_url: string, } | { "type": "consent", consent: ConsentKind, wording: string, question: string, yes: string, no: string, };

export type SendRequest = { conversation: string, message: Outgoing, };

export type ImageBytes = Uint8Array;

export type UploadedImage = { original_content_url: string, preview_image_url: string, };

export type StickerPackage = { package_id: string, sticker_ids: Array<string>, };

export type OpRequest = { op_id: string, };

export type Submitted = { op_id: string, };

export type Operator = { id: string, name: string, active: boolean, };

export type LinkRequest = { url: string, };

export type MediaSaveRequest = { 
/**
 * LINE's message id.
 */
message: string, 
/**
 * The name the patient gave the file, if any (the desk keeps only a safe name of it).
 */
file_name: string | null, 
/**
 * The dialog's title, in the user's language.
 */
title: string, };

export type SearchRequest = { query: string, limit: number, };

export type HitKind = "contact" | "message";

export type Piece = { text: string, hit: boolean, };

export type Hit = { kind: HitKind, conversation: string | null, 
/**
 * Whose chat it is: the name the team uses for the patient, else their LINE name.
 */
name: string | null, 
/**
 * The contact's LINE user id (contact hits, and the author of message hits).
 */
user_id: string | null, 
/**
 * The message's seq (message hits).
 */
seq: number | null, at: number | null, 
/**
 * The matching text around the hit, the hit marked.
 */
snippet: Array<Piece>, };

export type TagRequest = { contact: string, tag: string, added: boolean, };

export type NoteRequest = { contact: string, text: string, };

export type ConsentRequest = { contact: string, consent: ConsentKind, given: boolean, 
/**
 * The version of the wording they answered.
 */
wording: string, };

export type ConsentKind = "reminders" | "health_on_line";

export type ConsentRecord = { kind: "reminders" | "health_on_line", given: boolean, 
/**
 * The version of the wording they answered.
 */
wording: string, 
/**
 * An operator recorded it, or the patient tapped a consent button.
 */
how: "operator" | "button", 
/**
 * The operator who recorded it.
 */
by_name: string | null, at: number, };

export type Stopped = { word: string, at: number, };

export type Held = { reason: string, at: number, };

export type Retention = { 
/**
 * What patients wrote and what the team sent them, their media with them.
 */
messages_days: number | null, 
/**
 * The files patients sent (the messages stay, saying the file is no longer kept).
 */
media_days: number | null, 
/**
 * The photos the team uploaded to send.
 */
uploads_days: number | null, 
/**
 * The AI responder's record of its decisions, and the texts it keeps to ask the model.
 */
ai_days: number | null, 
/**
 * The audit's records of who looked, exported, erased and read.
 */
audit_days: number | null, };

export type RetentionPreview = { messages: number | null, media: number | null, ai: number | null, audit: number | null, 
/**
 * Contacts on hold, whose data stays.
 */
held: number, };

export type ContactHoldRequest = { contact: string, held: boolean, reason: string, };

export type OptedOutBy = "stop_word" | "withdrew" | "no_consent";

export type ContactExportRequest = { contact: string, title: string, };

export type ContactEraseRequest = { contact: string, typed: string, expected: string, };

export type ContactExported = { messages: number, files: number, 
/**
 * Messages whose file the relay no longer had.
 */
files_missing: number, };

export type ContactFieldsRequest = { contact: string, fields: { [key in string]?: string }, };

export type ContactRequest = { contact: string, };

export type ContactField = { 
/**
 * Its key in [`Operation::ContactFields`]: lower-case letters, digits and `_`.
 */
key: string, 
/**
 * What the window calls it.
 */
label: string, };

export type Canned = { title: string, text: string, 
/**
 * For patients whose LINE is in this language; any if null.
 */
language: string | null, };

export type ClinicSettings = { 
/**
 * The clinic's IANA time zone (from its business hours); dates and times are shown in
 * it. `null`: not set, so the computer's own.
 */
time_zone: string | null, 
/**
 * Ready-made answers for the composer's "/" picker.
 */
canned: Array<Canned>, 
/**
 * A chat nobody answers this long is escalated to the owners (0: never): an inbox
 * row's wait turns amber at half of it and red at it.
 */
escalate_seconds: number, 
/**
 * The fields owners added to every contact, besides the built-in ones.
 */
contact_fields: Array<ContactField>, 
/**
 * A window nobody used for this long locks.
 */
lock_after_minutes: number, };

export type KeywordMatch = "exact" | "contains" | "regex";

export type OpeningHours = { 
/**
 * 1 = Monday … 7 = Sunday.
 */
weekday: number, 
/**
 * `HH:MM`, local time.
 */
from: string, to: string, };

export type BusinessHours = { 
/**
 * An IANA time zone, such as `Asia/Tokyo`.
 */
time_zone: string, 
/**
 * Opening hours; a weekday without any is closed.
 */
open: Array<OpeningHours>, 
/**
 * Closed all day, as `YYYY-MM-DD` in the time zone.
 */
holidays: Array<string>, 
/**
 * Sent once a day per conversation to patients who write while closed.
 */
away_message: string | null, };

export type Greetings = { follow: string | null, 
/**
 * To a patient who unblocked the account.
 */
refollow: string | null, 
/**
 * When a chat goes to people; `{{position}}` and `{{wait}}` tell the queue.
 */
handoff: string | null, 
/**
 * The clinic's name, as `{{clinic}}` says it in greetings and the away reply.
 */
clinic: string | null, };

export type HandoffSettings = { 
/**
 * Words that hand a chat to people, in any language.
 */
keywords: Array<string>, 
/**
 * More such words, kept by language (`th`, `ja`, `zh-TW`, `en`) for the people who
 * look after them; every patient's message is matched against all of them.
 */
keywords_by_language?: { [key in string]?: Array<string> }, 
/**
 * Close a session idle this long and give the chat back to the bot.
 */
auto_close_minutes: number | null, 
/**
 * Ask for a 1–5 rating when a session closes.
 */
csat: boolean, 
/**
 * A chat nobody has taken this long after it began to wait is escalated to the
 * owners' desks (0: never).
 */
escalate_seconds: number, 
/**
 * Buttons that ask for a person: a patient's postback with one of these `data`
 * values hands the chat to people (besides Tsunagi's own handoff button).
 */
postbacks?: Array<string>, };

export type CannedResponse = { title: string, text: string, 
/**
 * For patients whose LINE is in this language (`th`, `ja`, `zh-TW`, `en`); any if
 * absent. The composer offers a patient's own language first.
 */
language?: string | null, };

export type ReadMode = "opened" | "answered" | "never";

export type ReadReceipts = { mode: ReadMode, };

export type LineAccount = { 
/**
 * LINE's Chat is on (`chatMode: chat`); off (`bot`), LINE's own console cannot
 * answer, and patients never see "Read".
 */
chat: boolean, 
/**
 * LINE marks every message read the moment it arrives (`markAsReadMode: auto`):
 * when the desks tell LINE makes no difference.
 */
marks_read_itself: boolean, };

export type AiSettings = { 
/**
 * An OpenAI-compatible API, such as `https://api.openai.com/v1`: the responder
 * calls `{base_url}/chat/completions`.
 */
base_url: string, model: string, 
/**
 * What the model should know of the clinic: hours, address, services, tone.
 */
prompt: string, 
/**
 * How many earlier messages of the chat go with the question (0 to 50).
 */
history: number, 
/**
 * How long to wait for an answer before the chat goes to people (5 to 60 s).
 */
timeout_seconds: number, 
/**
 * Answers chats in BOT mode while the clinic is open.
 */
when_open: boolean, 
/**
 * Answers chats in BOT mode while the clinic is closed, instead of the away reply.
 */
when_closed: boolean, };

export type TelegramSettings = { 
/**
 * The chats alerted: a person's or a group's id.
 */
chats: Array<number>, 
/**
 * Alert when a patient asks for a person.
 */
on_handoff: boolean, 
/**
 * Alert when a waiting chat is escalated to the owners.
 */
on_escalation: boolean, 
/**
 * Alert when a reminder could not reach some patients.
 */
on_reminder_failed: boolean, 
/**
 * Name the patient in alerts; else "a patient".
 */
show_names: boolean, 
/**
 * The language alerts are written in (`en`, `ja`, `th`, `zh-TW`).
 */
language: string, };

export type RedFlagSettings = { 
/**
 * Phrases kept by language (`ja`, `th`, `zh-TW`, `en`) for the people who look after
 * them; every patient's message is matched against all of them.
 */
phrases: { [key in string]?: Array<string> }, 
/**
 * The urgent-care message by language; `{{number}}` is the emergency number. A
 * patient whose language has none gets the English one.
 */
messages: { [key in string]?: string }, 
/**
 * The number patients are told to call (119 in Japan and Taiwan, 1669 in Thailand).
 */
emergency_number: string, };

export type TelegramTrouble = "token" | "chat" | "unreachable" | "off" | "late" | "other";

export type Credential = "ai_key" | "telegram_token";

export type CredentialState = { kept: boolean, set_at: number, 
/**
 * The operator who gave (or removed) it.
 */
set_by: string | null, 
/**
 * The newest trouble, in the relay's words.
 */
problem: string | null, problem_at: number | null, 
/**
 * What it was, for the owner to mend: the window says it in their language.
 */
trouble: TelegramTrouble | null, };

export type CredentialsView = { ai_key: CredentialState | null, telegram_token: CredentialState | null, };

export type CredentialRequest = { credential: Credential, value: string | null, };

export type TelegramTestRequest = { chats: Array<number>, language: string, };

export type TelegramChatView = { chat: number, ok: boolean, 
/**
 * Telegram's reason, when it was not sent.
 */
error: string | null, };

export type ReplyPart = { "kind": "text", text: string, } | { "kind": "kept", message: unknown, type: string, };

export type KeywordRuleView = { pattern: string, match: KeywordMatch, 
/**
 * Only for patients whose LINE is in this language; any if null.
 */
language: string | null, reply: Array<ReplyPart>, };

export type TeamSettingsView = { 
/**
 * None until an owner sets opening hours: the bot takes the clinic as always open.
 */
business_hours: BusinessHours | null, greetings: Greetings, handoff: HandoffSettings, keyword_rules: Array<KeywordRuleView>, canned_responses: Array<CannedResponse>, read_receipts: ReadReceipts, 
/**
 * How the account is set up in LINE's console, once the relay has read it: whether
 * LINE marks messages read itself (then `read_receipts` does nothing).
 */
line_account: LineAccount | null, 
/**
 * The AI responder, if an owner set it up.
 */
ai: AiSettings | null, 
/**
 * Telegram alerts, if an owner set them up.
 */
telegram: TelegramSettings | null, 
/**
 * Words of an emergency, as seeded until an owner sets them.
 */
red_flags: RedFlagSettings, 
/**
 * An owner has set the red flags.
 */
red_flags_set: boolean, 
/**
 * The fields owners added to every contact.
 */
contact_fields: Array<ContactField>, 
/**
 * How the clinic keeps patients' data on its desks.
 */
patient_data: PatientData, 
/**
 * What the relay keeps for them (never the values).
 */
credentials: CredentialsView, 
/**
 * Most entries in a list (rules, canned responses, handoff keywords).
 */
max_items: number, 
/**
 * Longest pattern or handoff keyword, in characters.
 */
max_pattern_chars: number, };

export type SettingEdit = { "setting": "business_hours" } & BusinessHours | { "setting": "greetings" } & Greetings | { "setting": "handoff" } & HandoffSettings | { "setting": "keyword_rules", rules: Array<KeywordRuleView>, } | { "setting": "canned_responses", responses: Array<CannedResponse>, } | { "setting": "read_receipts" } & ReadReceipts | { "setting": "ai" } & AiSettings | { "setting": "telegram" } & TelegramSettings | { "setting": "red_flags" } & RedFlagSettings | { "setting": "contact_fields", fields: Array<ContactField>, } | { "setting": "patient_data" } & PatientData;

export type SettingList = "keyword_rules" | "canned_responses" | "templates" | "handoff_keywords" | "red_flag_phrases" | "contact_fields";

export type SettingText = { "field": "away_message" } | { "field": "follow_greeting" } | { "field": "refollow_greeting" } | { "field": "handoff_greeting" } | { "field": "reminder" } | { "field": "template", name: string, } | { "field": "red_flag_message", language: string, };

export type SettingProblem = { "problem": "too_many", list: SettingList, count: number, max: number, } | { "problem": "pattern_empty", rule: number, } | { "problem": "pattern_too_long", rule: number, max: number, } | { "problem": "pattern_invalid", rule: number, error: string, } | { "problem": "reply_count", rule: number, max: number, } | { "problem": "reply_invalid", rule: number, error: string, } | { "problem": "canned_incomplete", item: number, } | { "problem": "template_unnamed" } | { "problem": "zone_unknown", zone: string, } | { "problem": "weekday_invalid", weekday: number, } | { "problem": "closes_before_opens", from: string, to: string, } | { "problem": "time_invalid", from: string, to: string, } | { "problem": "holiday_invalid", day: string, } | { "problem": "handoff_keyword_blank" } | { "problem": "handoff_keyword_too_long", max: number, } | { "problem": "auto_close_zero" } | { "problem": "handoff_postback_invalid", max: number, } | { "problem": "ai_address_invalid", address: string, } | { "problem": "ai_model_missing" } | { "problem": "ai_prompt_too_long", max: number, } | { "problem": "ai_history_too_long", max: number, } | { "problem": "ai_timeout_invalid", min: number, max: number, } | { "problem": "lock_after_invalid", min: number, max: number, } | { "problem": "stop_words_invalid", words: number, chars: number, } | { "problem": "retention_invalid", min: number, max: number, } | { "problem": "telegram_no_chat" } | { "problem": "telegram_chats_invalid", max: number, } | { "problem": "telegram_language_unknown", language: string, } | { "problem": "red_flag_phrase_blank" } | { "problem": "red_flag_phrase_too_long", max: number, } | { "problem": "red_flag_number_invalid", number: string, } | { "problem": "red_flag_message_missing" } | { "problem": "contact_field_invalid", field: number, max: number, } | { "problem": "variable_unclosed", text: SettingText, } | { "problem": "variable_unknown", text: SettingText, name: string, known: Array<string>, };

export type KeywordTryRequest = { rules: Array<KeywordRuleView>, text: string, 
/**
 * The patient's LINE language; null: not known.
 */
language: string | null, };

export type ContactFilter = { friend_status: FriendStatus | null, 
/**
 * Only those who never wrote to the clinic.
 */
never_messaged: boolean, tag: string | null, 
/**
 * Part of their LINE name, in any case.
 */
name: string | null, };

export type ContactView = { user_id: string, display_name: string | null, picture_url: string | null, status_message: string | null, language: string | null, friend_status: FriendStatus | "unknown", first_seen_at: number, followed_at: number | null, blocked_at: number | null, last_message_at: number | null, tags: Array<string>, cursor: PageCursor, };

export type ContactCounts = { all: number, following: number, blocked: number, never_messaged: number, };

export type ContactsRequest = { filter: ContactFilter, before: PageCursor | null, limit: number, };

export type ExportRequest = { filter: ContactFilter, title: string, };

export type SyncEnd = "done" | "unavailable" | "failed";

export type FollowerSync = { sync: string, 
/**
 * Who asked for it.
 */
device: string, started_at: number, done: number, 
/**
 * How many followers LINE listed; null until the first page came.
 */
total: number | null, progress_at: number | null, 
/**
 * Null while it runs.
 */
outcome: SyncEnd | null, 
/**
 * LINE's words, when it was unavailable or failed.
 */
reason: string | null, ended_at: number | null, };

export type FollowerSyncView = { 
/**
 * When it should end, from how fast it went so far.
 */
eta: number | null, sync: string, 
/**
 * Who asked for it.
 */
device: string, started_at: number, done: number, 
/**
 * How many followers LINE listed; null until the first page came.
 */
total: number | null, progress_at: number | null, 
/**
 * Null while it runs.
 */
outcome: SyncEnd | null, 
/**
 * LINE's words, when it was unavailable or failed.
 */
reason: string | null, ended_at: number | null, };

export type AudienceKind = "contact" | "tag" | "following";

export type ReminderView = { id: string, 
/**
 * Who scheduled it: their operator name, or their device id if unknown.
 */
by: string, created_at: number, text: string, date: string | null, time: string | null, clinic: string | null, due_at: number, audience: AudienceKind, 
/**
 * The patient's user id, or the tag.
 */
target: string | null, 
/**
 * The patient's name, for a reminder to one.
 */
target_name: string | null, cancelled_at: number | null, 
/**
 * When the relay fixed who it goes to (it came due).
 */
fixed_at: number | null, recipients: number, sent: number, failed: number, blocked: number, 
/**
 * Recipients who asked for no reminders (or never agreed, where the clinic asks).
 */
opted_out: number, };

export type RecipientState = "sent" | "failed" | "blocked" | "opted_out";

export type RecipientView = { user_id: string, display_name: string | null, 
/**
 * Null: LINE has not answered for them yet.
 */
outcome: RecipientState | null, 
/**
 * LINE's words when it failed; the stop word the patient wrote when they opted out
 * by one.
 */
reason: string | null, at: number | null, 
/**
 * Why nothing was sent to a patient who opted out.
 */
why: OptedOutBy | null, };

export type ReminderDraft = { 
/**
 * With `{{name}}`, `{{date}}`, `{{time}}` and `{{clinic}}`.
 */
text: string, 
/**
 * The appointment's date and time as the message says them (free text).
 */
date: string | null, time: string | null, clinic: string | null, 
/**
 * When it goes out, on the clinic's clock: `YYYY-MM-DD` and `HH:MM`.
 */
send_on: string, send_at: string, audience: AudienceKind, 
/**
 * The patient's user id, or the tag.
 */
target: string | null, };

export type QuotaView = { 
/**
 * Null: no limit.
 */
limit: number | null, used: number, };

export type PhotoProblem = "not_https" | "private_address" | "certificate" | "unreachable" | "redirected" | "status" | "not_an_image" | "not_this_relay" | "unknown";

export type PhotoDeliveryView = { ok: boolean, 
/**
 * The address the relay fetched.
 */
url: string, 
/**
 * Why LINE cannot fetch from there; null when it can.
 */
problem: PhotoProblem | null, 
/**
 * What the relay saw, in English (`answered 404 Not Found`, the TLS error).
 */
detail: string | null, 
/**
 * Unix milliseconds.
 */
checked_at: number, };

export type ReminderPreview = { 
/**
 * Following patients it reaches now (the relay fixes the list when it goes out).
 */
recipients: number, 
/**
 * Patients it names (a tag's, or the one) who blocked the clinic: reported blocked.
 */
blocked: number, 
/**
 * Whom the preview is written for; null when it reaches nobody.
 */
sample: string | null, 
/**
 * The text as that patient reads it.
 */
text: string, 
/**
 * The month's quota as LINE tells it; null when LINE could not be asked.
 */
quota: QuotaView | null, };

export type ReminderRequest = { id: string, };

export type Figures = { sessions: number, closed: number, 
/**
 * From the session's start to the team's first answer, on average.
 */
first_response_ms: number | null, 
/**
 * From the session's start to its close, on average.
 */
resolution_ms: number | null, 
/**
 * The middle first response and the one 90 % of sessions got within (nearest rank).
 */
first_response_median_ms: number | null, first_response_p90_ms: number | null, resolution_median_ms: number | null, resolution_p90_ms: number | null, messages_per_session: number | null, csat_average: number | null, csat_answers: number, 
/**
 * Share of closed sessions resolved at first contact, 0 to 1.
 */
first_contact_resolution: number | null, };

export type OperatorFigures = { operator: string, name: string | null, sessions: number, closed: number, 
/**
 * From the session's start to the team's first answer, on average.
 */
first_response_ms: number | null, 
/**
 * From the session's start to its close, on average.
 */
resolution_ms: number | null, 
/**
 * The middle first response and the one 90 % of sessions got within (nearest rank).
 */
first_response_median_ms: number | null, first_response_p90_ms: number | null, resolution_median_ms: number | null, resolution_p90_ms: number | null, messages_per_session: number | null, csat_average: number | null, csat_answers: number, 
/**
 * Share of closed sessions resolved at first contact, 0 to 1.
 */
first_contact_resolution: number | null, };

export type DayCount = { 
/**
 * `YYYY-MM-DD`.
 */
day: string, sessions: number, closed: number, };

export type Report = { from: number, to: number, overall: Figures, 
/**
 * By the operator who had each session last, busiest first.
 */
operators: Array<OperatorFigures>, 
/**
 * Every day of the range on the clinic's calendar, with the sessions begun that day.
 */
days: Array<DayCount>, 
/**
 * Sessions begun in each hour of the day (0 to 23) on the clinic's clock.
 */
hours: Array<number>, 
/**
 * How many sessions were rated 1, 2, 3, 4 and 5.
 */
ratings: Array<number>, 
/**
 * Chats the AI responder answered in the range.
 */
ai_answered: number, 
/**
 * Of those, the chats no person had to take up afterwards (no handoff within the
 * first-contact window of the AI's last answer).
 */
ai_resolved: number, };

export type ReportRequest = { from_day: string, to_day: string, };

export type ExportFormat = "csv" | "xlsx";

export type ReportExportRequest = { range: ReportRequest, format: ExportFormat, 
/**
 * The save dialog's title.
 */
title: string, };

export type AuditRecord = { seq: number, op_id: string, device: string, operator_name: string | null, type: string, conversation: string | null, 
/**
 * The patient's name, for a 1:1 chat the desk knows.
 */
conversation_name: string | null, at: number, outcome: "applied" | "rejected" | "unsupported", reason: string | null, };

export type AuditFilter = { 
/**
 * One device's (operator's) actions.
 */
device: string | null, 
/**
 * One kind of action (`claim`, `send`, `settings` …).
 */
type: string | null, 
/**
 * Only those the log refused.
 */
rejected_only: boolean, 
/**
 * From and until (exclusive), in ms.
 */
from: number | null, to: number | null, };

export type AuditRequest = { filter: AuditFilter, 
/**
 * Older than this seq; null for the newest.
 */
before: number | null, limit: number, };

export type AuditExportRequest = { filter: AuditFilter, title: string, };

export type DeskChanged = { conversations: Array<string>, contacts: Array<string>, settings: boolean, 
/**
 * A follower sync began, moved on or ended.
 */
followers: boolean, 
/**
 * A reminder was scheduled, cancelled or (partly) delivered.
 */
reminders: boolean, 
/**
 * Happened now, not caught up on.
 */
live: boolean, };

export type AlertKind = "red_flag" | "handoff" | "escalation" | "my_chat" | "transferred" | "waiting" | "send_failed" | "reminder_failed";

export type Privacy = "full" | "name_only" | "nothing";

export type KindSetting = { on: boolean, 
/**
 * The bundled sound's name; `None` is silent.
 */
sound: string | null, };

export type Day = "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday";

export type QuietHours = { days: Array<Day>, from: string, until: string, };

export type Preferences = { kinds: { [key in AlertKind]?: KindSetting }, 
/**
 * 0 to 100.
 */
volume: number, quiet: QuietHours | null, 
/**
 * Alert only while the window is not the one in front.
 */
only_unfocused: boolean, privacy: Privacy, 
/**
 * A handoff nobody took is alerted again after this many seconds.
 */
repeat_seconds: number, };

export type Notice = { kind: AlertKind, conversation: string | null, 
/**
 * The patient's name, when the privacy setting shows names.
 */
name: string | null, 
/**
 * What they wrote, when the privacy setting shows messages.
 */
text: string | null, count: number, sound: string | null, volume: number, };

export type AlertShowRequest = { title: string, body: string, 
/**
 * The chat a click on the notification opens.
 */
conversation: string | null, };

export type AlertOpened = { conversation: string, 
/**
 * A link asked for it: anyone can make one, so the window only shows the chat
 * (`conversation_show`), and nothing is marked read until the operator opens it.
 */
linked: boolean, };

export type DeskRemoved = { 
/**
 * When (ms since the epoch).
 */
at: number, };

export type AlertsPaused = { until: number | null, };

export type TrayWords = { open: string, pause_30: string, pause_60: string, resume: string, quit: string, waiting: string, };

export type PresenceRequest = { waiting: number, words: TrayWords, };

export type LockPinRequest = { pin: string, };

export type LockState = { 
/**
 * This desk has a PIN (else the window asks for one before it can lock).
 */
pin_set: boolean, 
/**
 * Wrong PINs may still be tried this many times before a try must wait.
 */
tries_left: number, 
/**
 * The next try waits until then (ms).
 */
wait_until: number | null, };

export type Opened = { "result": "opened" } | { "result": "wrong" } & LockState | { "result": "waiting" } & LockState;

export type PatientData = { 
/**
 * A window nobody used for this long hides patients' data behind its lock (1 to 240
 * minutes).
 */
lock_after_minutes: number, 
/**
 * A patient who writes one of these (alone) is sent no more reminders.
 */
stop_words: Array<string>, 
/**
 * No reminder goes to a patient who has not agreed to reminders.
 */
reminders_need_consent: boolean, 
/**
 * How long each kind of patient data is kept: every night the relay purges what is
 * older, on every desk too, but for contacts on hold.
 */
retention: Retention, };

export type Commands = {
  app_info: { request: null; response: AppInfo }
  relay_url_check: { request: RelayUrlCheckRequest; response: RelayUrlChecked }
  desk_join: { request: DeskJoinRequest; response: ProfileView }
  desk_leave: { request: null; response: null }
  channel_connect: { request: ChannelConnectRequest; response: ChannelConnected }
  team_list: { request: null; response: Array<TeamDevice> }
  team_invite: { request: TeamInviteRequest; response: TeamInvite }
  team_revoke: { request: TeamRevokeRequest; response: null }
  team_codes: { request: null; response: Array<TeamCode> }
  team_withdraw: { request: TeamWithdrawRequest; response: null }
  desk_status: { request: null; response: SyncStatus }
  inbox_list: { request: InboxListRequest; response: Array<InboxItem> }
  inbox_counts: { request: null; response: InboxCounts }
  conversation_open: { request: ConversationRequest; response: ConversationView }
  conversation_show: { request: ConversationRequest; response: ConversationView }
  conversation_messages: { request: MessagesRequest; response: Array<MessageView> }
  conversation_act: { request: ActRequest; response: Submitted }
  conversation_typing: { request: ConversationRequest; response: null }
  message_send: { request: SendRequest; response: Submitted }
  image_upload: { request: ImageBytes; response: UploadedImage }
  stickers_list: { request: null; response: Array<StickerPackage> }
  op_retry: { request: OpRequest; response: null }
  op_discard: { request: OpRequest; response: null }
  operators_list: { request: null; response: Array<Operator> }
  search_run: { request: SearchRequest; response: Array<Hit> }
  contact_tag: { request: TagRequest; response: Submitted }
  contact_note: { request: NoteRequest; response: Submitted }
  contact_fields_set: { request: ContactFieldsRequest; response: Submitted }
  contact_get: { request: ContactRequest; response: ContactDetail }
  contact_export: { request: ContactExportRequest; response: ContactExported | null }
  contact_erase: { request: ContactEraseRequest; response: null }
  contact_hold: { request: ContactHoldRequest; response: null }
  retention_preview: { request: Retention; response: RetentionPreview }
  contact_consent: { request: ConsentRequest; response: Submitted }
  clinic_settings: { request: null; response: ClinicSettings }
  settings_get: { request: null; response: TeamSettingsView }
  settings_check: { request: SettingEdit; response: Array<SettingProblem> }
  settings_save: { request: SettingEdit; response: null }
  credential_set: { request: CredentialRequest; response: null }
  link_at_start: { request: null; response: string | null }
  lock_state: { request: null; response: LockState }
  lock_set_pin: { request: LockPinRequest; response: LockState }
  lock_open: { request: LockPinRequest; response: Opened }
  telegram_test: { request: TelegramTestRequest; response: Array<TelegramChatView> }
  keyword_try: { request: KeywordTryRequest; response: number | null }
  contacts_list: { request: ContactsRequest; response: Array<ContactView> }
  contact_counts: { request: null; response: ContactCounts }
  contacts_export: { request: ExportRequest; response: boolean }
  tags_list: { request: null; response: Array<string> }
  followers_sync: { request: null; response: null }
  follower_sync_status: { request: null; response: FollowerSyncView | null }
  reminders_list: { request: null; response: Array<ReminderView> }
  reminder_recipients: { request: ReminderRequest; response: Array<RecipientView> }
  reminder_preview: { request: ReminderDraft; response: ReminderPreview }
  quota_get: { request: null; response: QuotaView | null }
  photo_delivery_get: { request: null; response: PhotoDeliveryView }
  photo_delivery_check: { request: null; response: PhotoDeliveryView }
  reminder_schedule: { request: ReminderDraft; response: null }
  reminder_cancel: { request: ReminderRequest; response: null }
  analytics_report: { request: ReportRequest; response: Report }
  analytics_export: { request: ReportExportRequest; response: boolean }
  audit_list: { request: AuditRequest; response: Array<AuditRecord> }
  audit_export: { request: AuditExportRequest; response: boolean }
  link_open: { request: LinkRequest; response: null }
  media_save: { request: MediaSaveRequest; response: boolean }
  alert_preferences: { request: null; response: Preferences }
  alert_preferences_set: { request: Preferences; response: null }
  alert_show: { request: AlertShowRequest; response: null }
  alert_test: { request: null; response: null }
  alert_paused: { request: null; response: AlertsPaused }
  alert_pause: { request: number | null; response: AlertsPaused }
  presence_update: { request: PresenceRequest; response: null }
  autostart_get: { request: null; response: boolean }
  autostart_set: { request: boolean; response: null }
  update_settings: { request: null; response: UpdateSettings }
  update_settings_set: { request: UpdateSettingsRequest; response: UpdateSettings }
  update_check: { request: null; response: UpdateOffer | null }
  update_download: { request: null; response: UpdateOffer }
  update_install: { request: null; response: null }
  update_postpone: { request: null; response: null }
}

export type Events = {
  'desk-changed': DeskChanged
  'desk-status': SyncStatus
  'desk-alert': Notice
  'alert-open': AlertOpened
  'alerts-paused': AlertsPaused
  'update-available': UpdateOffer
  'update-progress': UpdateProgress
  'desk-removed': DeskRemoved
}
