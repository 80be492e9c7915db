//! The inbox and a conversation: lists, the pane, pages of messages, handoff controls,
//! sending, the outbox's retries, operators, search and typing.

use tauri::State;
use tsunagi_desk::actions::Look;
use tsunagi_desk::detail::Operator;
use tsunagi_desk::query::{InboxCounts, InboxItem, MessageView, MessagesPage};
use tsunagi_desk::search::Hit;
use tsunagi_proto::{ConversationId, UnixMillis};

use crate::desk::Shell;
use crate::ipc::{
    ActRequest, ConversationRequest, ConversationView, InboxListRequest, MessagesRequest,
    OpRequest, SearchRequest, SendRequest, Submitted,
};

use super::{Answer, op_id};

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
    let id = ConversationId::new(request.conversation);
    Ok(joined.open(&id, Look::Read).await?)
}

/// Shows a chat and changes nothing: what a `tsunagi://` link opens, since anyone can make
/// one (a page, a message) and the chat must not look read to the team, nor to the
/// patient, because of it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn conversation_show(
    shell: State<'_, Shell>,
    request: ConversationRequest,
) -> Answer<ConversationView> {
    let joined = shell.joined().await?;
    let id = ConversationId::new(request.conversation);
    Ok(joined.open(&id, Look::Glance).await?)
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
    let joined = shell.joined().await?;
    let conversation = ConversationId::new(request.conversation);
    Ok(joined.handoff(conversation, request.action).await?.into())
}

/// Answers a chat this operator holds.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn message_send(
    shell: State<'_, Shell>,
    request: SendRequest,
) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let conversation = ConversationId::new(request.conversation);
    Ok(joined.send(conversation, request.message).await?.into())
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

/// The operator is writing in a 1:1 chat: LINE shows the patient the loading animation.
#[tauri::command]
pub(crate) async fn conversation_typing(
    shell: State<'_, Shell>,
    request: ConversationRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    Ok(joined
        .typing(ConversationId::new(request.conversation))
        .await?)
}
