//! Contacts: tags, notes and fields, the follower list and its export, and follower syncs.

use tauri::State;
use tsunagi_desk::detail::ContactDetail;
use tsunagi_desk::query::{ContactCounts, ContactView};
use tsunagi_line::UserId;

use crate::desk::Shell;
use crate::ipc::{
    ConsentRequest, ContactEraseRequest, ContactExportRequest, ContactExported,
    ContactFieldsRequest, ContactHoldRequest, ContactRequest, ContactsRequest, ErrorCode,
    ExportRequest, FollowerSyncView, IpcError, NoteRequest, Submitted, TagRequest,
};

use super::{Answer, save_as, save_file};

#[tauri::command]
pub(crate) async fn contact_tag(shell: State<'_, Shell>, request: TagRequest) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    Ok(joined
        .tag(contact, request.tag, request.added)
        .await?
        .into())
}

/// Records a consent a patient gave or withdrew, as the operator heard it.
#[tauri::command]
pub(crate) async fn contact_consent(
    shell: State<'_, Shell>,
    request: ConsentRequest,
) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    Ok(joined
        .record_consent(contact, request.consent, request.given, request.wording)
        .await?
        .into())
}

#[tauri::command]
pub(crate) async fn contact_note(
    shell: State<'_, Shell>,
    request: NoteRequest,
) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    Ok(joined.note(contact, request.text).await?.into())
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

/// Saves everything kept about a patient as one archive where the owner chooses (their
/// request for their data); `None` if they chose nowhere. The audit keeps that it was taken.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn contact_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: ContactExportRequest,
) -> Answer<Option<ContactExported>> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    let known = joined.sync.store().contact(contact.as_str()).await?;
    let name = known
        .and_then(|detail| {
            detail
                .fields
                .get("team_name")
                .cloned()
                .or(detail.display_name)
        })
        .unwrap_or_else(|| contact.to_string());
    let Some(path) = save_as(&window, request.title, format!("{name}.zip")).await? else {
        return Ok(None);
    };
    let exported = joined.export_contact(&contact, &path).await?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(Some(ContactExported {
        messages: count(exported.messages),
        files: count(exported.files),
        files_missing: count(exported.files_missing),
    }))
}

/// Erases everything kept about a patient, on the relay and every desk (owners), once the
/// owner typed the confirmation the window asked for. The audit keeps who erased which
/// LINE user id.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn contact_erase(
    shell: State<'_, Shell>,
    request: ContactEraseRequest,
) -> Answer<()> {
    let confirmed = !request.expected.trim().is_empty()
        && request.typed.trim().to_lowercase() == request.expected.trim().to_lowercase();
    if !confirmed {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "not erased: the word typed to confirm is not the one asked for",
        ));
    }
    let joined = shell.joined().await?;
    joined.erase_contact(&UserId::new(request.contact)).await?;
    Ok(())
}

/// Keeps a contact's data whatever the retention, for a reason (owners), or lets the
/// retention apply to them again.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn contact_hold(
    shell: State<'_, Shell>,
    request: ContactHoldRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    joined
        .hold_contact(&contact, request.held, request.reason)
        .await?;
    Ok(())
}

/// Sets the clinic's own facts about a contact (an empty value clears one).
#[tauri::command]
pub(crate) async fn contact_fields_set(
    shell: State<'_, Shell>,
    request: ContactFieldsRequest,
) -> Answer<Submitted> {
    let joined = shell.joined().await?;
    let contact = UserId::new(request.contact);
    Ok(joined
        .set_contact_fields(contact, request.fields)
        .await?
        .into())
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
    Ok(shell.joined().await?.sync_followers().await?)
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
