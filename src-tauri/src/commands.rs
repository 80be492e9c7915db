//! The window's commands: each takes one request, answers one response, and calls only
//! `tsunagi-desk`. Actions are queued in the desk's outbox and return at once; the log
//! settles them and the window hears of it through `desk-changed`.

use tauri::{AppHandle, Manager as _, State};
use tsunagi_desk::alerts::Preferences;
use tsunagi_desk::analytics::{self, Report};
use tsunagi_desk::detail::{ContactDetail, Operator};
use tsunagi_desk::media::{self, MediaCache};
use tsunagi_desk::outbox::PendingOp;
use tsunagi_desk::outreach::{self, AudienceKind, RecipientView, ReminderView};
use tsunagi_desk::profile::{self, JoinRequest, Profile};
use tsunagi_desk::query::{
    AuditRecord, ChatKind, ContactCounts, ContactView, InboxCounts, InboxItem, MessageView,
    MessagesPage, SessionStatus,
};
use tsunagi_desk::relay_url;
use tsunagi_desk::search::Hit;
use tsunagi_desk::settings::{self, KeywordRules, Seen, SettingProblem};
use tsunagi_desk::sync::SyncStatus;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_line::{MessageId, QuoteToken, UserId};
use tsunagi_proto::{
    Audience, ConversationId, ConversationMode, HandoffSettings, OpId, Operation, OperatorId,
    Reminder, SendOp, Setting, UnixMillis,
};

use crate::alerts;
use crate::desk::Shell;
use tsunagi_proto::api::TelegramTest;

use crate::ipc::PhotoDeliveryView;
use crate::ipc::{
    ActRequest, AlertShowRequest, AlertsPaused, AppInfo, AuditExportRequest, AuditRequest, Canned,
    ChannelConnectRequest, ChannelConnected, ClinicSettings, ContactFieldsRequest, ContactRequest,
    ContactsRequest, ConversationRequest, ConversationView, CredentialRequest, DeskJoinRequest,
    ErrorCode, ExportFormat, ExportRequest, FollowerSyncView, HandoffRequest, InboxListRequest,
    IpcError, KeyringStatus, KeywordRuleView, KeywordTryRequest, LinkRequest, MediaSaveRequest,
    MessagesRequest, NoteRequest, OpRequest, Outgoing, PendingAction, PendingKind, PresenceRequest,
    ProfileView, QuotaView, RelayUrlCheckRequest, RelayUrlChecked, ReminderDraft, ReminderPreview,
    ReminderRequest, ReportExportRequest, ReportRequest, SearchRequest, SendRequest, SetAsideView,
    SettingEdit, SetupStepView, StickerPackage, Submitted, TagRequest, TeamCode, TeamDevice,
    TeamInvite, TeamInviteRequest, TeamRevokeRequest, TeamSettingsView, TeamWithdrawRequest,
    TelegramChatView, TelegramTestRequest, UpdateOffer, UpdateSettings, UpdateSettingsRequest,
    UploadedImage, keyword_rules,
};
use crate::{presence, updates};

type Answer<T> = Result<T, IpcError>;

/// Messages in the first page of a conversation, and in each page scrolled up.
const FIRST_PAGE: u32 = 60;

fn op_id(text: &str) -> Answer<OpId> {
    text.parse()
        .map(OpId)
        .map_err(|_| IpcError::new(ErrorCode::InvalidInput, format!("{text:?} is not an op id")))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub(crate) async fn app_info(shell: State<'_, Shell>) -> Answer<AppInfo> {
    let joined = shell.joined().await;
    let set_aside = joined
        .as_ref()
        .ok()
        .and_then(|joined| joined.set_aside.as_ref())
        .map(SetAsideView::from);
    let profile = match joined {
        Ok(joined) => Some(ProfileView::from(&joined.profile)),
        // Joined, with no channel to follow yet: the owner's desk connects one.
        Err(_) => Profile::load(&shell.data)
            .ok()
            .flatten()
            .filter(|profile| profile.channel_id.is_none())
            .map(|profile| ProfileView::from(&profile)),
    };
    // A joined desk read its sign-in from the keyring just now; only a desk about to join
    // asks it whether it can keep one (off the async runtime: it may block on D-Bus).
    let keyring = match profile {
        Some(_) => Ok(()),
        None => {
            let vault = shell.vault.clone();
            tauri::async_runtime::spawn_blocking(move || vault.probe())
                .await
                .map_err(IpcError::internal)?
        }
    };
    let keyring = match keyring {
        Ok(()) => KeyringStatus::Available,
        Err(error) => KeyringStatus::Unavailable {
            reason: error.to_string(),
        },
    };
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
        keyring,
        profile,
        set_aside,
        removed_at: profile::removed(&shell.data).map(|removed| removed.at),
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn relay_url_check(request: RelayUrlCheckRequest) -> Answer<RelayUrlChecked> {
    let checked = relay_url::check(&request.url)?;
    Ok(RelayUrlChecked {
        relay_url: checked.as_str().to_owned(),
        webhook_url_template: checked.webhook_template(),
        encrypted: checked.encrypted,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn desk_join(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: DeskJoinRequest,
) -> Answer<ProfileView> {
    let device_name =
        computer_name().unwrap_or_else(|| format!("Tsunagi on {}", std::env::consts::OS));
    // A desk whose sign-in was lost (its profile is here, its token is not) joins afresh.
    if shell.joined().await.is_err() && Profile::load(&shell.data).ok().flatten().is_some() {
        profile::leave(&shell.data, &shell.vault)?;
    }
    let join = JoinRequest {
        relay: request.relay,
        code: request.code,
        operator_name: request.name,
        device_name,
        channel: None,
    };
    let (profile, _) = profile::join(&shell.data, &shell.vault, &join).await?;
    // (A relay owner's desk on a relay with no channel yet opens once it connects one.)
    shell.open(&app).await?;
    Ok(ProfileView::from(&profile))
}

/// The relay owner's desk connects the relay's first LINE channel, then opens on it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn channel_connect(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: ChannelConnectRequest,
) -> Answer<ChannelConnected> {
    let (profile, steps) = profile::connect_channel(
        &shell.data,
        &shell.vault,
        &request.channel_id,
        &request.channel_secret,
    )
    .await?;
    shell.open(&app).await?;
    Ok(ChannelConnected {
        profile: ProfileView::from(&profile),
        steps: steps
            .into_iter()
            .map(|step| SetupStepView {
                name: step.name,
                ok: step.ok,
                detail: step.detail,
                problem: step.problem,
            })
            .collect(),
    })
}

/// The clinic's devices (owners): who joined from which computer, and who was shut out.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_list(shell: State<'_, Shell>) -> Answer<Vec<TeamDevice>> {
    let joined = shell.joined().await?;
    let devices = joined.sync.client().devices(joined.sync.channel()).await?;
    Ok(devices
        .into_iter()
        .map(|device| TeamDevice {
            me: device.device_id == joined.profile.device_id,
            device_id: device.device_id.to_string(),
            operator: device.operator_name,
            device_name: device.device_name,
            role: device.role,
            joined_at: device.created_at,
            revoked_at: device.revoked_at,
            last_seen_at: device.last_seen_at,
        })
        .collect())
}

/// A one-time code for one more desk (owners), valid for a day.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_invite(
    shell: State<'_, Shell>,
    request: TeamInviteRequest,
) -> Answer<TeamInvite> {
    let joined = shell.joined().await?;
    let invited = joined
        .sync
        .client()
        .invite(joined.sync.channel(), request.role)
        .await?;
    Ok(TeamInvite {
        id: invited.id,
        code: invited.code,
        role: request.role,
        expires_at: invited.expires_at,
    })
}

/// The codes handed out that still work (owners): what role each gives, who asked for
/// it, until when.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_codes(shell: State<'_, Shell>) -> Answer<Vec<TeamCode>> {
    let joined = shell.joined().await?;
    let codes = joined.sync.client().invites(joined.sync.channel()).await?;
    Ok(codes
        .into_iter()
        .map(|code| TeamCode {
            id: code.id,
            role: code.role,
            created_by: code.created_by.map(|d| d.to_string()),
            created_at: code.created_at,
            expires_at: code.expires_at,
        })
        .collect())
}

/// Withdraws a code handed out (owners): no desk can join with it any more.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_withdraw(
    shell: State<'_, Shell>,
    request: TeamWithdrawRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    joined
        .sync
        .client()
        .withdraw_invite(joined.sync.channel(), &request.id)
        .await?;
    Ok(())
}

/// Shuts a device out (owners): its token stops working at once, and it leaves the
/// operators one can transfer a chat to.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_revoke(shell: State<'_, Shell>, request: TeamRevokeRequest) -> Answer<()> {
    let joined = shell.joined().await?;
    let device = tsunagi_proto::DeviceId::new(request.device_id);
    if device == joined.profile.device_id {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "this desk cannot revoke itself: leave the relay instead",
        ));
    }
    joined.sync.client().revoke(&device).await?;
    joined.sync.refresh_operators().await?;
    Ok(())
}

/// This computer's name, for the owner's list of devices.
fn computer_name() -> Option<String> {
    let from_env = ["COMPUTERNAME", "HOSTNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok());
    let name = from_env.or_else(|| std::fs::read_to_string("/etc/hostname").ok())?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn desk_leave(shell: State<'_, Shell>) -> Answer<()> {
    shell.leave().await
}

#[tauri::command]
pub(crate) async fn desk_status(shell: State<'_, Shell>) -> Answer<SyncStatus> {
    let joined = shell.joined().await?;
    let status = joined.sync.status().borrow().clone();
    Ok(status)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn inbox_list(
    shell: State<'_, Shell>,
    request: InboxListRequest,
) -> Answer<Vec<InboxItem>> {
    let joined = shell.joined().await?;
    let me = joined.profile.me();
    Ok(joined
        .sync
        .store()
        .inbox_tagged(
            request.list,
            request.tag.as_deref(),
            Some(&me),
            UnixMillis::now(),
            request.before,
            request.limit,
        )
        .await?)
}

#[tauri::command]
pub(crate) async fn inbox_counts(shell: State<'_, Shell>) -> Answer<InboxCounts> {
    let joined = shell.joined().await?;
    Ok(joined
        .sync
        .store()
        .inbox_counts(Some(&joined.profile.me()))
        .await?)
}

/// Opens a chat the operator chose: it is read, on this desk and (as the clinic set) for
/// the patient on LINE.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn conversation_open(
    shell: State<'_, Shell>,
    request: ConversationRequest,
) -> Answer<ConversationView> {
    let joined = shell.joined().await?;
    conversation_view(&joined, ConversationId::new(request.conversation), true).await
}

/// Shows a chat and changes nothing: no read mark here or on LINE. What a `tsunagi://`
/// link opens, since anyone can make one (a page, a message) and the chat must not look
/// read to the team, nor to the patient, because of it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn conversation_show(
    shell: State<'_, Shell>,
    request: ConversationRequest,
) -> Answer<ConversationView> {
    let joined = shell.joined().await?;
    conversation_view(&joined, ConversationId::new(request.conversation), false).await
}

/// What the conversation pane shows at first, marking the chat read if `read`.
async fn conversation_view(
    joined: &profile::Joined,
    id: ConversationId,
    read: bool,
) -> Answer<ConversationView> {
    let store = joined.sync.store();
    let Some(item) = store.conversation(&id).await? else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("this desk has no conversation {id}"),
        ));
    };
    // Read now: LINE shows the patient "Read" for what came in since this desk last looked.
    if read
        && let Some(token) = store.read_token(&id, Seen::Opened).await?
        && item.kind == ChatKind::User
    {
        joined
            .sync
            .submit(
                &Operation::MarkRead {
                    conversation: id.clone(),
                    token,
                },
                UnixMillis::now(),
            )
            .await?;
    }
    let (messages, handoffs, pending, contact, sessions, free_reply_until) = tokio::try_join!(
        store.messages(&id, MessagesPage::Newest, FIRST_PAGE),
        store.handoffs(&id),
        store.pending_in(&id),
        store.contact(id.as_str()),
        store.sessions(&id),
        store.free_reply_until(&id, UnixMillis::now()),
    )?;
    let unread = if read { 0 } else { item.unread };
    Ok(ConversationView {
        item: InboxItem { unread, ..item },
        has_older: messages.len() as u32 == FIRST_PAGE,
        messages,
        handoffs,
        // What only LINE's screens show (the patient's "Read", the typing dots) goes out
        // on its own: nothing for the operator to wait for or cancel.
        pending: pending
            .iter()
            .filter(|p| !matches!(p.op, Operation::MarkRead { .. } | Operation::Typing { .. }))
            .map(pending_action)
            .collect(),
        contact,
        sessions,
        free_reply_until,
    })
}

fn pending_action(pending: &PendingOp) -> PendingAction {
    let (kind, text) = match &pending.op {
        Operation::Claim { .. } => (PendingKind::Claim, None),
        Operation::Release { .. } => (PendingKind::Release, None),
        Operation::Transfer { .. } => (PendingKind::Transfer, None),
        Operation::Close { .. } => (PendingKind::Close, None),
        Operation::SetMode { .. } => (PendingKind::SetMode, None),
        Operation::Send(send) => {
            let text = send.messages.iter().find_map(|m| match &m.body {
                MessageBody::Text { text, .. } => Some(text.clone()),
                _ => None,
            });
            (PendingKind::Send, text)
        }
        _ => (PendingKind::Other, None),
    };
    PendingAction {
        op_id: pending.op_id.to_string(),
        kind,
        text,
        created_at: pending.created_at,
        last_error: pending.last_error.clone(),
        refused: pending.refused,
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn conversation_messages(
    shell: State<'_, Shell>,
    request: MessagesRequest,
) -> Answer<Vec<MessageView>> {
    let joined = shell.joined().await?;
    let (seq, part) = (u64::from(request.seq), request.part);
    let page = if request.newer {
        MessagesPage::After { seq, part }
    } else {
        MessagesPage::Before { seq, part }
    };
    Ok(joined
        .sync
        .store()
        .messages(
            &ConversationId::new(request.conversation),
            page,
            request.limit,
        )
        .await?)
}

/// Queues `op`; the log decides what it becomes.
async fn submit(shell: &Shell, op: Operation) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let op_id = joined.sync.submit(&op, UnixMillis::now()).await?;
    Ok(Submitted {
        op_id: op_id.to_string(),
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn conversation_act(
    shell: State<'_, Shell>,
    request: ActRequest,
) -> Answer<Submitted> {
    let conversation = ConversationId::new(request.conversation);
    let op = match request.action {
        HandoffRequest::Claim => Operation::Claim { conversation },
        HandoffRequest::Release => Operation::Release { conversation },
        HandoffRequest::Close => Operation::Close { conversation },
        HandoffRequest::ToBot => Operation::SetMode {
            conversation,
            mode: ConversationMode::Bot,
        },
        HandoffRequest::ToPeople => Operation::SetMode {
            conversation,
            mode: ConversationMode::Human,
        },
        HandoffRequest::Transfer { to } => Operation::Transfer {
            conversation,
            to: OperatorId::new(to),
        },
    };
    submit(&shell, op).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn message_send(
    shell: State<'_, Shell>,
    request: SendRequest,
) -> Answer<Submitted> {
    let body = match request.message {
        Outgoing::Text { text, quote_token } => MessageBody::Text {
            text,
            emojis: Vec::new(),
            quote_token: quote_token.map(QuoteToken::new),
        },
        Outgoing::Sticker {
            package_id,
            sticker_id,
        } => MessageBody::Sticker {
            package_id,
            sticker_id,
            quote_token: None,
        },
        Outgoing::Image {
            original_content_url,
            preview_image_url,
        } => MessageBody::Image {
            original_content_url,
            preview_image_url,
        },
    };
    let conversation = ConversationId::new(request.conversation);
    // Only the chat's holder answers it, as this desk's store knows (a claim made by the
    // first answer is settled before the answer is sent).
    let joined = shell.joined().await?;
    let me = joined.profile.me();
    let held = (joined.sync.store().conversation(&conversation).await?)
        .and_then(|item| item.session)
        .is_some_and(|s| s.status == SessionStatus::Active && s.operator.as_ref() == Some(&me));
    if !held {
        return Err(IpcError::new(
            ErrorCode::NotYours,
            "this chat is not yours to answer: claim it first",
        ));
    }
    let submitted = submit(
        &shell,
        Operation::Send(SendOp {
            conversation: conversation.clone(),
            messages: vec![Message::from(body)],
            retry_key: RetryKey::new(),
            prefer_reply_token: true,
        }),
    )
    .await?;
    // A clinic that shows "Read" once staff answer: now.
    if conversation.is_one_to_one()
        && let Some(token) = (joined.sync.store())
            .read_token(&conversation, Seen::Answered)
            .await?
    {
        (joined.sync)
            .submit(
                &Operation::MarkRead {
                    conversation,
                    token,
                },
                UnixMillis::now(),
            )
            .await?;
    }
    Ok(submitted)
}

/// Hands an image (the command's raw body) to the relay, which keeps it for LINE.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn image_upload(
    shell: State<'_, Shell>,
    request: tauri::ipc::Request<'_>,
) -> Answer<UploadedImage> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "send the image's bytes as the command's body",
        ));
    };
    let joined = shell.joined().await?;
    let uploaded = joined
        .sync
        .client()
        .upload(joined.sync.channel(), bytes.clone())
        .await?;
    Ok(UploadedImage {
        original_content_url: uploaded.original_content_url,
        preview_image_url: uploaded.preview_image_url,
    })
}

#[tauri::command]
pub(crate) fn stickers_list() -> Vec<StickerPackage> {
    tsunagi_line::sticker::SENDABLE
        .iter()
        .map(|package| StickerPackage {
            package_id: package.package_id.to_string(),
            sticker_ids: package.sticker_ids().map(|id| id.to_string()).collect(),
        })
        .collect()
}

#[tauri::command]
pub(crate) async fn op_retry(shell: State<'_, Shell>, request: OpRequest) -> Answer<()> {
    let joined = shell.joined().await?;
    Ok(joined.sync.retry(op_id(&request.op_id)?).await?)
}

#[tauri::command]
pub(crate) async fn op_discard(shell: State<'_, Shell>, request: OpRequest) -> Answer<()> {
    let joined = shell.joined().await?;
    Ok(joined.sync.discard(op_id(&request.op_id)?).await?)
}

#[tauri::command]
pub(crate) async fn operators_list(shell: State<'_, Shell>) -> Answer<Vec<Operator>> {
    let joined = shell.joined().await?;
    Ok(joined.sync.store().operators().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn search_run(
    shell: State<'_, Shell>,
    request: SearchRequest,
) -> Answer<Vec<Hit>> {
    let joined = shell.joined().await?;
    Ok(joined
        .sync
        .store()
        .search(&request.query, request.limit)
        .await?)
}

#[tauri::command]
pub(crate) async fn contact_tag(shell: State<'_, Shell>, request: TagRequest) -> Answer<Submitted> {
    submit(
        &shell,
        Operation::Tag {
            contact: UserId::new(request.contact),
            tag: request.tag,
            added: request.added,
        },
    )
    .await
}

#[tauri::command]
pub(crate) async fn contact_note(
    shell: State<'_, Shell>,
    request: NoteRequest,
) -> Answer<Submitted> {
    submit(
        &shell,
        Operation::Note {
            contact: UserId::new(request.contact),
            text: request.text,
        },
    )
    .await
}

/// A contact and what the desk knows of them (one who never wrote has no chat to open).
#[tauri::command]
pub(crate) async fn contact_get(
    shell: State<'_, Shell>,
    request: ContactRequest,
) -> Answer<ContactDetail> {
    let joined = shell.joined().await?;
    joined
        .sync
        .store()
        .contact(&request.contact)
        .await?
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::NotFound,
                format!("this desk has no contact {}", request.contact),
            )
        })
}

/// Sets the clinic's own facts about a contact (an empty value clears one).
#[tauri::command]
pub(crate) async fn contact_fields_set(
    shell: State<'_, Shell>,
    request: ContactFieldsRequest,
) -> Answer<Submitted> {
    submit(
        &shell,
        Operation::ContactFields {
            contact: UserId::new(request.contact),
            fields: request.fields,
        },
    )
    .await
}

#[tauri::command]
pub(crate) async fn clinic_settings(shell: State<'_, Shell>) -> Answer<ClinicSettings> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    let time_zone = match store.setting("business_hours").await? {
        Some(Setting::BusinessHours(hours)) => Some(hours.time_zone),
        _ => None,
    };
    let canned = match store.setting("canned_responses").await? {
        Some(Setting::CannedResponses { responses }) => responses
            .into_iter()
            .map(|r| Canned {
                title: r.title,
                text: r.text,
                language: r.language,
            })
            .collect(),
        _ => Vec::new(),
    };
    let contact_fields = match store.setting("contact_fields").await? {
        Some(Setting::ContactFields { fields }) => fields,
        _ => Vec::new(),
    };
    let escalate_seconds = match store.setting("handoff").await? {
        Some(Setting::Handoff(handoff)) => handoff.escalate_seconds,
        _ => HandoffSettings::default().escalate_seconds,
    };
    Ok(ClinicSettings {
        time_zone,
        canned,
        escalate_seconds,
        contact_fields,
    })
}

/// Every setting the owner's editors change, as in force now.
#[tauri::command]
pub(crate) async fn settings_get(shell: State<'_, Shell>) -> Answer<TeamSettingsView> {
    let joined = shell.joined().await?;
    let settings = joined.sync.store().team_settings().await?;
    Ok(TeamSettingsView {
        business_hours: settings.business_hours,
        greetings: settings.greetings,
        handoff: settings.handoff,
        keyword_rules: settings
            .keyword_rules
            .iter()
            .map(KeywordRuleView::from)
            .collect(),
        canned_responses: settings.canned_responses,
        read_receipts: settings.read_receipts,
        line_account: settings.line_account,
        ai: settings.ai,
        telegram: settings.telegram,
        red_flags: settings.red_flags,
        red_flags_set: settings.red_flags_set,
        contact_fields: settings.contact_fields,
        credentials: joined.sync.store().credentials().await?,
        max_items: settings::MAX_SETTING_ITEMS as u32,
        max_pattern_chars: settings::MAX_PATTERN_CHARS as u32,
    })
}

/// What the relay would refuse an edit for, asked as the owner types: none to save it.
#[tauri::command]
pub(crate) async fn settings_check(request: SettingEdit) -> Answer<Vec<SettingProblem>> {
    Ok(settings::problems(&Setting::try_from(request)?))
}

/// Saves a setting now, on the relay (owners only: a staff desk hears `owner_only`).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn settings_save(shell: State<'_, Shell>, request: SettingEdit) -> Answer<()> {
    let joined = shell.joined().await?;
    joined
        .sync
        .save_setting(Setting::try_from(request)?)
        .await?;
    Ok(())
}

/// The chat a `tsunagi://` link asked for when the app started, once.
#[tauri::command]
pub(crate) fn link_at_start(at_start: State<'_, crate::links::AtStart>) -> Answer<Option<String>> {
    Ok(at_start.take())
}

/// Gives the relay the AI endpoint's key or the Telegram bot's token to keep sealed, or
/// has it forget one (owners). The value goes to the relay only: never kept here.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn credential_set(
    shell: State<'_, Shell>,
    request: CredentialRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    let value = request.value.as_deref().map(str::trim);
    if value == Some("") {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "paste the key or token",
        ));
    }
    joined
        .sync
        .client()
        .set_credential(joined.sync.channel(), request.credential, value)
        .await
        .map_err(telegram_error)?;
    // The relay logged it: read it back, so the editor shows it kept.
    joined.sync.pull().await?;
    Ok(())
}

/// Has the relay send a test message to each chat with the bot it keeps (owners).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn telegram_test(
    shell: State<'_, Shell>,
    request: TelegramTestRequest,
) -> Answer<Vec<TelegramChatView>> {
    let joined = shell.joined().await?;
    let tested = joined
        .sync
        .client()
        .test_telegram(
            joined.sync.channel(),
            &TelegramTest {
                chats: request.chats,
                language: Some(request.language),
            },
        )
        .await
        .map_err(telegram_error)?;
    Ok(tested
        .results
        .into_iter()
        .map(|r| TelegramChatView {
            chat: r.chat,
            ok: r.ok,
            error: r.error,
        })
        .collect())
}

/// The relay's refusals about Telegram, in the app's words; the rest as any call's.
fn telegram_error(error: tsunagi_desk::relay::Error) -> IpcError {
    use tsunagi_proto::api::ErrorCode as Relay;
    match &error {
        tsunagi_desk::relay::Error::Refused { code, message, .. } => match code {
            Relay::TelegramRefused => IpcError::new(ErrorCode::TelegramRefused, message.clone()),
            Relay::TelegramUnavailable => {
                IpcError::new(ErrorCode::TelegramUnavailable, message.clone())
            }
            Relay::NoCredential => IpcError::new(ErrorCode::NoCredential, message.clone()),
            Relay::BadRequest => IpcError::new(ErrorCode::InvalidInput, message.clone()),
            _ => error.into(),
        },
        _ => error.into(),
    }
}

/// Which rule (its place in the list) would answer `text`: the bot's own matching.
#[tauri::command]
pub(crate) async fn keyword_try(request: KeywordTryRequest) -> Answer<Option<u32>> {
    let rules = KeywordRules::new(&keyword_rules(request.rules)?);
    let language = request.language.filter(|l| !l.is_empty());
    Ok(rules
        .first_match(&request.text, language.as_deref())
        .map(|i| i as u32))
}

/// A page of the follower list, newest first.
#[tauri::command]
pub(crate) async fn contacts_list(
    shell: State<'_, Shell>,
    request: ContactsRequest,
) -> Answer<Vec<ContactView>> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    Ok(store
        .contacts(&request.filter, request.before, request.limit)
        .await?)
}

#[tauri::command]
pub(crate) async fn contact_counts(shell: State<'_, Shell>) -> Answer<ContactCounts> {
    Ok(shell.joined().await?.sync.store().contact_counts().await?)
}

#[tauri::command]
pub(crate) async fn tags_list(shell: State<'_, Shell>) -> Answer<Vec<String>> {
    Ok(shell.joined().await?.sync.store().tags().await?)
}

/// Saves the contacts the list shows as CSV where the operator chooses; false if they
/// chose nowhere.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn contacts_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: ExportRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let mut out = Vec::new();
    joined
        .sync
        .store()
        .contacts_csv(&request.filter, &mut out)
        .await?;
    save_file(&window, request.title, "contacts.csv".into(), out).await
}

/// Asks LINE for the account's followers and their profiles (owners); the relay does it,
/// and its progress reaches the window through `desk-changed`.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn followers_sync(shell: State<'_, Shell>) -> Answer<()> {
    let joined = shell.joined().await?;
    joined
        .sync
        .append_and_pull(&Operation::SyncFollowers)
        .await?;
    Ok(())
}

#[tauri::command]
pub(crate) async fn follower_sync_status(
    shell: State<'_, Shell>,
) -> Answer<Option<FollowerSyncView>> {
    let joined = shell.joined().await?;
    let sync = joined.sync.store().follower_sync().await?;
    Ok(sync.map(|sync| FollowerSyncView {
        eta: sync.eta().map(|at| at.0),
        sync,
    }))
}

#[tauri::command]
pub(crate) async fn reminders_list(shell: State<'_, Shell>) -> Answer<Vec<ReminderView>> {
    /// Enough for months of a clinic's reminders.
    const SHOWN: u32 = 500;
    Ok(shell.joined().await?.sync.store().reminders(SHOWN).await?)
}

#[tauri::command]
pub(crate) async fn reminder_recipients(
    shell: State<'_, Shell>,
    request: ReminderRequest,
) -> Answer<Vec<RecipientView>> {
    let joined = shell.joined().await?;
    Ok(joined.sync.store().reminder_recipients(&request.id).await?)
}

/// The reminder a draft makes, sent at its time on the clinic's clock.
async fn reminder(store: &tsunagi_desk::Store, draft: ReminderDraft) -> Answer<Reminder> {
    let zone = store.clinic_zone().await;
    let at = outreach::send_time(&zone, &draft.send_on, &draft.send_at, UnixMillis::now())?;
    let target = draft.target.filter(|t| !t.trim().is_empty());
    let to = match (draft.audience, target) {
        (AudienceKind::Following, _) => Audience::Following,
        (AudienceKind::Tag, Some(tag)) => Audience::Tag { tag },
        (AudienceKind::Contact, Some(user)) => Audience::Contact {
            user: UserId::new(user),
        },
        (_, None) => {
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                "choose the patient or the tag the reminder is for",
            ));
        }
    };
    let given = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    Ok(Reminder {
        text: draft.text,
        date: given(draft.date),
        time: given(draft.time),
        clinic: given(draft.clinic),
        at,
        to,
    })
}

/// Whom a draft reaches now, what one of them reads, and the month's quota.
#[tauri::command]
pub(crate) async fn reminder_preview(
    shell: State<'_, Shell>,
    request: ReminderDraft,
) -> Answer<ReminderPreview> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    let reminder = reminder(store, request).await?;
    let size = store.audience_size(&reminder.to).await?;
    let sample = store.audience_sample(&reminder.to).await?;
    let name = sample.as_ref().map_or("", |(_, name)| name.as_str());
    let quota = month_quota(&joined).await;
    Ok(ReminderPreview {
        recipients: size.reachable,
        blocked: size.blocked,
        text: outreach::preview(&reminder, name),
        sample: sample.map(|(_, name)| name),
        quota,
    })
}

/// The month's messages LINE counts (pushes, reminders) and the plan's limit, as the relay
/// asks LINE; `None` when it cannot be known now.
async fn month_quota(joined: &tsunagi_desk::profile::Joined) -> Option<QuotaView> {
    match joined.sync.client().quota(joined.sync.channel()).await {
        Ok(quota) => Some(QuotaView {
            limit: quota.limit,
            used: quota.used,
        }),
        Err(error) => {
            tracing::info!(%error, "the month's quota is not known");
            None
        }
    }
}

/// The month's messages used of the plan, for the owner's view of what answers cost.
#[tauri::command]
pub(crate) async fn quota_get(shell: State<'_, Shell>) -> Answer<Option<QuotaView>> {
    let joined = shell.joined().await?;
    Ok(month_quota(&joined).await)
}

/// Whether LINE can fetch the photos operators send from the relay, as the relay last
/// found: the composer warns before a photo goes where it cannot.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn photo_delivery_get(shell: State<'_, Shell>) -> Answer<PhotoDeliveryView> {
    let joined = shell.joined().await?;
    let client = joined.sync.client();
    Ok(client.photo_delivery(joined.sync.channel()).await?.into())
}

/// Has the relay check again now whether LINE can fetch photos from it (owners).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn photo_delivery_check(shell: State<'_, Shell>) -> Answer<PhotoDeliveryView> {
    let joined = shell.joined().await?;
    let client = joined.sync.client();
    Ok(client
        .check_photo_delivery(joined.sync.channel())
        .await?
        .into())
}

/// Schedules a reminder now, on the relay (a tag or every follower: owners only).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn reminder_schedule(
    shell: State<'_, Shell>,
    request: ReminderDraft,
) -> Answer<()> {
    let joined = shell.joined().await?;
    let reminder = reminder(joined.sync.store(), request).await?;
    (joined.sync)
        .append_and_pull(&Operation::ScheduleReminder(reminder))
        .await?;
    Ok(())
}

/// Calls off a reminder not yet sent.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn reminder_cancel(
    shell: State<'_, Shell>,
    request: ReminderRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    let reminder = op_id(&request.id)?;
    let (cancel, _) = (joined.sync)
        .append_and_pull(&Operation::CancelReminder { reminder })
        .await?;
    match joined.sync.store().op_outcome(cancel).await? {
        Some(record) if record.outcome == "rejected" => Err(IpcError::new(
            ErrorCode::InvalidInput,
            record.reason.unwrap_or_default(),
        )),
        _ => Ok(()),
    }
}

/// How the team did on the days asked for, on the clinic's calendar.
#[tauri::command]
pub(crate) async fn analytics_report(
    shell: State<'_, Shell>,
    request: ReportRequest,
) -> Answer<Report> {
    let joined = shell.joined().await?;
    report(joined.sync.store(), &request).await
}

async fn report(store: &tsunagi_desk::Store, range: &ReportRequest) -> Answer<Report> {
    let zone = store.clinic_zone().await;
    let (from, to) = analytics::days(&zone, &range.from_day, &range.to_day)?;
    Ok(store.analytics(from, to).await?)
}

/// Saves the report as CSV or an XLSX workbook where the operator chooses; false if they
/// chose nowhere.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn analytics_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: ReportExportRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let report = report(joined.sync.store(), &request.range).await?;
    let range = &request.range;
    let (bytes, extension) = match request.format {
        ExportFormat::Csv => (report.to_csv().into_bytes(), "csv"),
        ExportFormat::Xlsx => (report.to_xlsx()?, "xlsx"),
    };
    let name = format!("tsunagi-{}-{}.{extension}", range.from_day, range.to_day);
    save_file(&window, request.title, name, bytes).await
}

/// A page of operators' actions, newest first.
#[tauri::command]
pub(crate) async fn audit_list(
    shell: State<'_, Shell>,
    request: AuditRequest,
) -> Answer<Vec<AuditRecord>> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    Ok(store
        .audit_page(&request.filter, request.before, request.limit)
        .await?)
}

/// Saves the actions a filter lets through as CSV where the operator chooses.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn audit_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: AuditExportRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let mut out = Vec::new();
    joined
        .sync
        .store()
        .audit_csv(&request.filter, &mut out)
        .await?;
    save_file(&window, request.title, "audit.csv".into(), out).await
}

/// How long LINE shows the loading animation for one `conversation_typing`; the window
/// asks again while the operator keeps writing.
const TYPING_SECONDS: u32 = 20;

/// The operator is writing in a 1:1 chat: LINE shows the patient the loading animation.
#[tauri::command]
pub(crate) async fn conversation_typing(
    shell: State<'_, Shell>,
    request: ConversationRequest,
) -> Answer<()> {
    let conversation = ConversationId::new(request.conversation);
    if !conversation.is_one_to_one() {
        return Ok(());
    }
    let joined = shell.joined().await?;
    // Worth something only now: one that cannot reach the relay at once is dropped.
    let op = Operation::Typing {
        conversation,
        seconds: TYPING_SECONDS,
    };
    joined.sync.append_now(&op).await?;
    Ok(())
}

/// Opens a web address in the system's browser. Only https: the window links nowhere else.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) fn link_open(app: AppHandle, request: LinkRequest) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt as _;
    let url = url::Url::parse(&request.url)
        .ok()
        .filter(|url| url.scheme() == "https")
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::InvalidInput,
                format!("{:?} is not an https address", request.url),
            )
        })?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(IpcError::internal)
}

/// Asks where to save a file named `name` with the system's dialog, titled `title`; None
/// if the operator chose nowhere. The name offered is a safe one, whoever made it
/// ([`media::safe_name`]: no path, nothing that hides or reorders its letters).
async fn save_as(
    window: &tauri::Window,
    title: String,
    name: String,
) -> Answer<Option<std::path::PathBuf>> {
    use tauri_plugin_dialog::DialogExt as _;
    let (chosen, choice) = tokio::sync::oneshot::channel();
    let dialog = window.dialog().file().set_parent(window).set_title(title);
    let dialog = match media::safe_name(&name) {
        Some(name) => dialog.set_file_name(name),
        None => dialog,
    };
    dialog.save_file(move |path| {
        let _ = chosen.send(path);
    });
    let Some(path) = choice.await.ok().flatten() else {
        return Ok(None);
    };
    path.into_path()
        .map(Some)
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))
}

/// Writes `bytes` where the operator chooses in the save dialog; false if they chose
/// nowhere.
async fn save_file(
    window: &tauri::Window,
    title: String,
    name: String,
    bytes: Vec<u8>,
) -> Answer<bool> {
    let Some(path) = save_as(window, title, name).await? else {
        return Ok(false);
    };
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))?;
    Ok(true)
}

/// Saves a message's file where the user chooses, in the system's save dialog; `false` when
/// they cancelled it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn media_save(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: MediaSaveRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let message = MessageId::new(request.message);
    let sync = &joined.sync;
    let cached = MediaCache::new(&joined.media)
        .get(
            (sync.client(), sync.store()),
            sync.channel(),
            &message,
            false,
        )
        .await?;
    let name = media::file_name(&message, request.file_name.as_deref(), &cached.content_type);
    let Some(path) = save_as(&window, request.title, name).await? else {
        return Ok(false);
    };
    cached
        .copy_to(&path)
        .await
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))?;
    Ok(true)
}

#[tauri::command]
pub(crate) fn alert_preferences(app: AppHandle) -> Answer<Preferences> {
    Ok(alerts::preferences(&app))
}

#[tauri::command]
pub(crate) fn alert_preferences_set(app: AppHandle, request: Preferences) -> Answer<()> {
    let problems = request.problems();
    if !problems.is_empty() {
        return Err(IpcError::new(
            ErrorCode::SettingsInvalid,
            problems.join("; "),
        ));
    }
    alerts::save_preferences(&app, &request)
}

#[tauri::command]
pub(crate) fn alert_show(app: AppHandle, request: AlertShowRequest) -> Answer<()> {
    alerts::notify(&app, request)
}

#[tauri::command]
pub(crate) fn alert_test(app: AppHandle) -> Answer<()> {
    alerts::emit(&app, &alerts::test_notice(&app));
    Ok(())
}

#[tauri::command]
pub(crate) fn alert_paused(app: AppHandle) -> Answer<AlertsPaused> {
    Ok(app.state::<alerts::Alerts>().pause_state())
}

/// Pauses alerts for `request` minutes, or resumes them (`null`).
#[tauri::command]
pub(crate) fn alert_pause(app: AppHandle, request: Option<u32>) -> Answer<AlertsPaused> {
    Ok(alerts::pause(&app, request))
}

#[tauri::command]
pub(crate) fn presence_update(app: AppHandle, request: PresenceRequest) -> Answer<()> {
    presence::update(&app, &request)
}

#[tauri::command]
pub(crate) fn autostart_get(app: AppHandle) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt as _;
    app.autolaunch().is_enabled().map_err(IpcError::internal)
}

#[tauri::command]
pub(crate) fn autostart_set(app: AppHandle, request: bool) -> Answer<()> {
    use tauri_plugin_autostart::ManagerExt as _;
    let autolaunch = app.autolaunch();
    if request {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    }
    .map_err(IpcError::internal)
}

#[tauri::command]
pub(crate) fn update_settings(app: AppHandle) -> Answer<UpdateSettings> {
    Ok(updates::settings(&app))
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn update_settings_set(
    app: AppHandle,
    request: UpdateSettingsRequest,
) -> Answer<UpdateSettings> {
    updates::set_address(&app, &request)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn update_check(app: AppHandle) -> Answer<Option<UpdateOffer>> {
    updates::check(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn update_download(app: AppHandle) -> Answer<UpdateOffer> {
    updates::download(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn update_install(app: AppHandle) -> Answer<()> {
    updates::install(&app)
}

#[tauri::command]
pub(crate) fn update_postpone(app: AppHandle) -> Answer<()> {
    updates::postpone(&app)
}
