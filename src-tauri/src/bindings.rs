//! The table of commands and the TypeScript the window is built against: every command's
//! name, request and answer (`Commands`), every IPC type's declaration, and the events
//! (`Events`), generated into `ui/src/lib/bindings.ts` (see the tests: the file is fresh,
//! and every command is granted to the window). The types live in `ipc`, the commands in
//! `commands`; this table names both, and neither names it.

use ts_rs::TS;
use tsunagi_desk::alerts::{AlertKind, Day, KindSetting, Notice, Preferences, Privacy, QuietHours};
use tsunagi_desk::analytics::{DayCount, Figures, OperatorFigures, Report};
use tsunagi_desk::detail::{
    ConsentRecord, ContactDetail, FriendChange, FriendEvent, HandoffAction, HandoffEvent, Held,
    Note, Operator, Stopped,
};
use tsunagi_desk::lock::{LockState, Opened};
use tsunagi_desk::outreach::{
    AudienceKind, FollowerSync, OptedOutBy, RecipientState, RecipientView, ReminderView, SyncEnd,
};
use tsunagi_desk::query::{
    AuditFilter, AuditRecord, ChatKind, ContactCounts, ContactFilter, ContactView, Direction,
    FriendStatus, InboxCounts, InboxItem, InboxList, MediaState, MediaView, MessageView,
    PageCursor, QuotedView, SendStatus, SentVia, SessionStatus, SessionSummary, Speaker,
};
use tsunagi_desk::retention::RetentionPreview;
use tsunagi_desk::search::{Hit, HitKind, Piece};
use tsunagi_desk::settings::{
    CredentialState, CredentialsView, SettingList, SettingProblem, SettingText,
};
use tsunagi_desk::sync::{Connection, SyncStatus};
use tsunagi_proto::api::SetupProblem;
use tsunagi_proto::{
    AiSettings, BusinessHours, CannedResponse, ConsentKind, ContactField, Credential, Greetings,
    HandoffSettings, KeywordMatch, LineAccount, OpeningHours, PatientData, ReadMode, ReadReceipts,
    RedFlagSettings, Retention, TelegramSettings, TelegramTrouble,
};

use crate::ipc::{
    ActRequest, AlertOpened, AlertShowRequest, AlertsPaused, AppInfo, AuditExportRequest,
    AuditRequest, Canned, ChannelConnectRequest, ChannelConnected, ClinicSettings, ConsentRequest,
    ContactEraseRequest, ContactExportRequest, ContactExported, ContactFieldsRequest,
    ContactHoldRequest, ContactRequest, ContactsRequest, ConversationRequest, ConversationView,
    CredentialRequest, DeskChanged, DeskJoinRequest, DeskRemoved, EVENT_ALERT, EVENT_ALERT_OPEN,
    EVENT_ALERTS_PAUSED, EVENT_CHANGED, EVENT_REMOVED, EVENT_STATUS, EVENT_UPDATE_AVAILABLE,
    EVENT_UPDATE_PROGRESS, ErrorCode, ExportFormat, ExportRequest, FollowerSyncView,
    HandoffRequest, ImageBytes, InboxListRequest, IpcError, KeyringStatus, KeywordRuleView,
    KeywordTryRequest, LinkRequest, LockPinRequest, MediaSaveRequest, MessagesRequest, NoteRequest,
    OpRequest, Outgoing, PendingAction, PendingKind, PhotoDeliveryView, PhotoProblem,
    PresenceRequest, ProfileView, QuotaView, RelayUrlCheckRequest, RelayUrlChecked, ReminderDraft,
    ReminderPreview, ReminderRequest, ReplyPart, ReportExportRequest, ReportRequest, SearchRequest,
    SendRequest, SetAsideView, SettingEdit, SetupStepView, StickerPackage, Submitted, TagRequest,
    TeamCode, TeamDevice, TeamInvite, TeamInviteRequest, TeamRevokeRequest, TeamSettingsView,
    TeamWithdrawRequest, TelegramChatView, TelegramTestRequest, TrayWords, UpdateOffer,
    UpdateProgress, UpdateSettings, UpdateSettingsRequest, UploadedImage,
};

/// Declares the command table once, each command with its module under `commands/`: the
/// handler, the names build.rs and the capability must list, and its TypeScript
/// (`Commands`: request and response per command).
macro_rules! commands {
    ($($module:ident::$name:ident: $request:ty => $response:ty),* $(,)?) => {
        /// Every command's name, as the UI invokes it.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(crate::commands::$module::$name),*]
        }

        fn command_table() -> String {
            let mut out = String::from("export type Commands = {\n");
            $(
                out.push_str(&format!(
                    "  {}: {{ request: {}; response: {} }}\n",
                    stringify!($name),
                    <$request as TS>::name(),
                    <$response as TS>::name(),
                ));
            )*
            out.push_str("}\n");
            out
        }
    };
}

commands! {
    setup::app_info: () => AppInfo,
    setup::relay_url_check: RelayUrlCheckRequest => RelayUrlChecked,
    setup::desk_join: DeskJoinRequest => ProfileView,
    setup::desk_leave: () => (),
    setup::channel_connect: ChannelConnectRequest => ChannelConnected,
    team::team_list: () => Vec<TeamDevice>,
    team::team_invite: TeamInviteRequest => TeamInvite,
    team::team_revoke: TeamRevokeRequest => (),
    team::team_codes: () => Vec<TeamCode>,
    team::team_withdraw: TeamWithdrawRequest => (),
    setup::desk_status: () => SyncStatus,
    conversations::inbox_list: InboxListRequest => Vec<InboxItem>,
    conversations::inbox_counts: () => InboxCounts,
    conversations::conversation_open: ConversationRequest => ConversationView,
    conversations::conversation_show: ConversationRequest => ConversationView,
    conversations::conversation_messages: MessagesRequest => Vec<MessageView>,
    conversations::conversation_act: ActRequest => Submitted,
    conversations::conversation_typing: ConversationRequest => (),
    conversations::message_send: SendRequest => Submitted,
    media::image_upload: ImageBytes => UploadedImage,
    media::stickers_list: () => Vec<StickerPackage>,
    conversations::op_retry: OpRequest => (),
    conversations::op_discard: OpRequest => (),
    conversations::operators_list: () => Vec<Operator>,
    conversations::search_run: SearchRequest => Vec<Hit>,
    contacts::contact_tag: TagRequest => Submitted,
    contacts::contact_note: NoteRequest => Submitted,
    contacts::contact_fields_set: ContactFieldsRequest => Submitted,
    contacts::contact_get: ContactRequest => ContactDetail,
    contacts::contact_export: ContactExportRequest => Option<ContactExported>,
    contacts::contact_erase: ContactEraseRequest => (),
    contacts::contact_hold: ContactHoldRequest => (),
    settings::retention_preview: Retention => RetentionPreview,
    contacts::contact_consent: ConsentRequest => Submitted,
    settings::clinic_settings: () => ClinicSettings,
    settings::settings_get: () => TeamSettingsView,
    settings::settings_check: SettingEdit => Vec<SettingProblem>,
    settings::settings_save: SettingEdit => (),
    settings::credential_set: CredentialRequest => (),
    desktop::link_at_start: () => Option<String>,
    desktop::lock_state: () => LockState,
    desktop::lock_set_pin: LockPinRequest => LockState,
    desktop::lock_open: LockPinRequest => Opened,
    settings::telegram_test: TelegramTestRequest => Vec<TelegramChatView>,
    settings::keyword_try: KeywordTryRequest => Option<u32>,
    contacts::contacts_list: ContactsRequest => Vec<ContactView>,
    contacts::contact_counts: () => ContactCounts,
    contacts::contacts_export: ExportRequest => bool,
    contacts::tags_list: () => Vec<String>,
    contacts::followers_sync: () => (),
    contacts::follower_sync_status: () => Option<FollowerSyncView>,
    outreach::reminders_list: () => Vec<ReminderView>,
    outreach::reminder_recipients: ReminderRequest => Vec<RecipientView>,
    outreach::reminder_preview: ReminderDraft => ReminderPreview,
    outreach::quota_get: () => Option<QuotaView>,
    media::photo_delivery_get: () => PhotoDeliveryView,
    media::photo_delivery_check: () => PhotoDeliveryView,
    outreach::reminder_schedule: ReminderDraft => (),
    outreach::reminder_cancel: ReminderRequest => (),
    reports::analytics_report: ReportRequest => Report,
    reports::analytics_export: ReportExportRequest => bool,
    reports::audit_list: AuditRequest => Vec<AuditRecord>,
    reports::audit_export: AuditExportRequest => bool,
    media::link_open: LinkRequest => (),
    media::media_save: MediaSaveRequest => bool,
    desktop::alert_preferences: () => Preferences,
    desktop::alert_preferences_set: Preferences => (),
    desktop::alert_show: AlertShowRequest => (),
    desktop::alert_test: () => (),
    desktop::alert_paused: () => AlertsPaused,
    desktop::alert_pause: Option<u32> => AlertsPaused,
    desktop::presence_update: PresenceRequest => (),
    desktop::autostart_get: () => bool,
    desktop::autostart_set: bool => (),
    desktop::update_settings: () => UpdateSettings,
    desktop::update_settings_set: UpdateSettingsRequest => UpdateSettings,
    desktop::update_check: () => Option<UpdateOffer>,
    desktop::update_download: () => UpdateOffer,
    desktop::update_install: () => (),
    desktop::update_postpone: () => (),
}

fn event_table() -> String {
    format!(
        "export type Events = {{\n  '{EVENT_CHANGED}': {}\n  '{EVENT_STATUS}': {}\n  '{EVENT_ALERT}': {}\n  '{EVENT_ALERT_OPEN}': {}\n  '{EVENT_ALERTS_PAUSED}': {}\n  '{EVENT_UPDATE_AVAILABLE}': {}\n  '{EVENT_UPDATE_PROGRESS}': {}\n  '{EVENT_REMOVED}': {}\n}}\n",
        DeskChanged::name(),
        SyncStatus::name(),
        Notice::name(),
        AlertOpened::name(),
        AlertsPaused::name(),
        UpdateOffer::name(),
        UpdateProgress::name(),
        DeskRemoved::name()
    )
}

/// The TypeScript for every IPC type, as committed in `ui/src/lib/bindings.ts`.
pub fn typescript() -> String {
    let declarations = [
        ErrorCode::decl(),
        IpcError::decl(),
        KeyringStatus::decl(),
        ProfileView::decl(),
        AppInfo::decl(),
        SetAsideView::decl(),
        UpdateSettings::decl(),
        UpdateSettingsRequest::decl(),
        UpdateOffer::decl(),
        UpdateProgress::decl(),
        RelayUrlCheckRequest::decl(),
        RelayUrlChecked::decl(),
        DeskJoinRequest::decl(),
        ChannelConnectRequest::decl(),
        SetupStepView::decl(),
        SetupProblem::decl(),
        ChannelConnected::decl(),
        TeamDevice::decl(),
        TeamInviteRequest::decl(),
        TeamInvite::decl(),
        TeamRevokeRequest::decl(),
        TeamCode::decl(),
        TeamWithdrawRequest::decl(),
        Connection::decl(),
        SyncStatus::decl(),
        InboxList::decl(),
        ChatKind::decl(),
        SessionStatus::decl(),
        Speaker::decl(),
        Direction::decl(),
        SendStatus::decl(),
        SentVia::decl(),
        MediaState::decl(),
        MediaView::decl(),
        QuotedView::decl(),
        FriendStatus::decl(),
        PageCursor::decl(),
        SessionSummary::decl(),
        InboxItem::decl(),
        InboxCounts::decl(),
        InboxListRequest::decl(),
        MessageView::decl(),
        ConversationRequest::decl(),
        HandoffAction::decl(),
        HandoffEvent::decl(),
        FriendEvent::decl(),
        FriendChange::decl(),
        Note::decl(),
        ContactDetail::decl(),
        PendingKind::decl(),
        PendingAction::decl(),
        ConversationView::decl(),
        MessagesRequest::decl(),
        HandoffRequest::decl(),
        ActRequest::decl(),
        Outgoing::decl(),
        SendRequest::decl(),
        ImageBytes::decl(),
        UploadedImage::decl(),
        StickerPackage::decl(),
        OpRequest::decl(),
        Submitted::decl(),
        Operator::decl(),
        LinkRequest::decl(),
        MediaSaveRequest::decl(),
        SearchRequest::decl(),
        HitKind::decl(),
        Piece::decl(),
        Hit::decl(),
        TagRequest::decl(),
        NoteRequest::decl(),
        ConsentRequest::decl(),
        ConsentKind::decl(),
        ConsentRecord::decl(),
        Stopped::decl(),
        Held::decl(),
        Retention::decl(),
        RetentionPreview::decl(),
        ContactHoldRequest::decl(),
        OptedOutBy::decl(),
        ContactExportRequest::decl(),
        ContactEraseRequest::decl(),
        ContactExported::decl(),
        ContactFieldsRequest::decl(),
        ContactRequest::decl(),
        ContactField::decl(),
        Canned::decl(),
        ClinicSettings::decl(),
        KeywordMatch::decl(),
        OpeningHours::decl(),
        BusinessHours::decl(),
        Greetings::decl(),
        HandoffSettings::decl(),
        CannedResponse::decl(),
        ReadMode::decl(),
        ReadReceipts::decl(),
        LineAccount::decl(),
        AiSettings::decl(),
        TelegramSettings::decl(),
        RedFlagSettings::decl(),
        TelegramTrouble::decl(),
        Credential::decl(),
        CredentialState::decl(),
        CredentialsView::decl(),
        CredentialRequest::decl(),
        TelegramTestRequest::decl(),
        TelegramChatView::decl(),
        ReplyPart::decl(),
        KeywordRuleView::decl(),
        TeamSettingsView::decl(),
        SettingEdit::decl(),
        SettingList::decl(),
        SettingText::decl(),
        SettingProblem::decl(),
        KeywordTryRequest::decl(),
        ContactFilter::decl(),
        ContactView::decl(),
        ContactCounts::decl(),
        ContactsRequest::decl(),
        ExportRequest::decl(),
        SyncEnd::decl(),
        FollowerSync::decl(),
        FollowerSyncView::decl(),
        AudienceKind::decl(),
        ReminderView::decl(),
        RecipientState::decl(),
        RecipientView::decl(),
        ReminderDraft::decl(),
        QuotaView::decl(),
        PhotoProblem::decl(),
        PhotoDeliveryView::decl(),
        ReminderPreview::decl(),
        ReminderRequest::decl(),
        Figures::decl(),
        OperatorFigures::decl(),
        DayCount::decl(),
        Report::decl(),
        ReportRequest::decl(),
        ExportFormat::decl(),
        ReportExportRequest::decl(),
        AuditRecord::decl(),
        AuditFilter::decl(),
        AuditRequest::decl(),
        AuditExportRequest::decl(),
        DeskChanged::decl(),
        AlertKind::decl(),
        Privacy::decl(),
        KindSetting::decl(),
        Day::decl(),
        QuietHours::decl(),
        Preferences::decl(),
        Notice::decl(),
        AlertShowRequest::decl(),
        AlertOpened::decl(),
        DeskRemoved::decl(),
        AlertsPaused::decl(),
        TrayWords::decl(),
        PresenceRequest::decl(),
        LockPinRequest::decl(),
        LockState::decl(),
        Opened::decl(),
        PatientData::decl(),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/ipc.rs by `cargo xtask bindings`. Do not edit.\n",
    );
    for declaration in declarations {
        out.push_str("\nexport ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&command_table());
    out.push('\n');
    out.push_str(&event_table());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");
        let generated = typescript();
        if std::env::var_os("TSUNAGI_WRITE_BINDINGS").is_some() {
            std::fs::write(path, &generated).expect("writing bindings");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
        );
    }

    #[test]
    fn every_command_is_granted_to_the_window_and_listed_for_the_build() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json"))
                .expect("the capability is JSON");
        let granted: Vec<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| {
                p.as_str()?
                    .strip_prefix("allow-")
                    .map(|c| c.replace('-', "_"))
            })
            .collect();
        let build = include_str!("../build.rs");
        for command in COMMANDS {
            assert!(
                granted.iter().any(|g| g == command),
                "{command} is not granted in src-tauri/capabilities/main.json"
            );
            assert!(
                build.contains(&format!("\"{command}\"")),
                "{command} is not listed in src-tauri/build.rs"
            );
        }
        assert_eq!(
            granted.len(),
            COMMANDS.len(),
            "grants without commands: {granted:?}"
        );
    }
}
