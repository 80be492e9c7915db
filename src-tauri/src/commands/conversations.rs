//! The inbox and a conversation: lists, the pane, pages of messages, handoff controls,
//! sending, the outbox's retries, operators, search and typing.

use tauri::State;
use tsunagi_desk::detail::Operator;
use tsunagi_desk::outbox::PendingOp;
use tsunagi_desk::profile;
use tsunagi_desk::query::{
    ChatKind, InboxCounts, InboxItem, MessageView, MessagesPage, SessionStatus,
};
use tsunagi_desk::search::Hit;
use tsunagi_desk::settings::Seen;
use tsunagi_line::QuoteToken;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::{ConversationId, ConversationMode, Operation, OperatorId, SendOp, UnixMillis};

use crate::desk::Shell;
use crate::ipc::{
    ActRequest, ConversationRequest, ConversationView, ErrorCode, HandoffRequest, InboxListRequest,
    IpcError, MessagesRequest, OpRequest, Outgoing, PendingAction, PendingKind, SearchRequest,
    SendRequest, Submitted,
};

use super::{Answer, op_id, submit};

/// Messages in the first page of a conversation, and in each page scrolled up.
const FIRST_PAGE: u32 = 60;

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
