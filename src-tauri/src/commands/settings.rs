//! The team's settings: what the window needs of them, the owner's editors, the credentials
//! the relay keeps sealed, Telegram's test and the keyword rules' try.

use tauri::State;
use tsunagi_desk::settings;
use tsunagi_desk::settings::{KeywordRules, SettingProblem};
use tsunagi_proto::api::TelegramTest;
use tsunagi_proto::{HandoffSettings, PatientData, Setting};

use crate::desk::Shell;
use crate::ipc::{
    Canned, ClinicSettings, CredentialRequest, ErrorCode, IpcError, KeywordRuleView,
    KeywordTryRequest, SettingEdit, TeamSettingsView, TelegramChatView, TelegramTestRequest,
    keyword_rules,
};

use super::Answer;

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
    let lock_after_minutes = match store.setting("patient_data").await? {
        Some(Setting::PatientData(data)) => data.lock_after_minutes,
        _ => PatientData::default().lock_after_minutes,
    };
    Ok(ClinicSettings {
        time_zone,
        canned,
        escalate_seconds,
        contact_fields,
        lock_after_minutes,
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
        patient_data: settings.patient_data,
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

/// What a retention would purge tonight, counted on this desk's copy.
#[tauri::command]
pub(crate) async fn retention_preview(
    shell: State<'_, Shell>,
    request: tsunagi_proto::Retention,
) -> Answer<tsunagi_desk::retention::RetentionPreview> {
    let joined = shell.joined().await?;
    let now = tsunagi_proto::UnixMillis::now();
    Ok(joined.sync.store().retention_preview(&request, now).await?)
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
