//! The team's settings, for the owner's editors: what is in force, what is wrong with an
//! edit (the very checks the relay refuses an op for), which keyword rule answers a
//! sentence (the bot's own matching), and saving an edit straight to the relay.

use tsunagi_proto::{
    AiSettings, BusinessHours, CannedResponse, ContactField, ConversationId, Credential, Greetings,
    HandoffSettings, KeywordRule, LineAccount, Operation, PatientData, ReadMode, ReadReceipts,
    RedFlagSettings, Seq, Setting, TelegramSettings, TelegramTrouble,
};

pub use tsunagi_domain::handoff::KeywordRules;
pub use tsunagi_domain::validate::{
    MAX_PATTERN_CHARS, MAX_SETTING_ITEMS, SettingList, SettingProblem, SettingText,
};

use crate::sync::Sync;
use crate::{Error, Result, Store};

/// Every setting the editors change, as the log holds it now (defaults where none was
/// ever logged).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamSettings {
    /// None until an owner sets opening hours: the bot treats the clinic as always open.
    pub business_hours: Option<BusinessHours>,
    pub greetings: Greetings,
    pub handoff: HandoffSettings,
    pub keyword_rules: Vec<KeywordRule>,
    pub canned_responses: Vec<CannedResponse>,
    pub read_receipts: ReadReceipts,
    pub ai: Option<AiSettings>,
    pub telegram: Option<TelegramSettings>,
    /// As seeded for the clinic's time zone until an owner sets them.
    pub red_flags: RedFlagSettings,
    /// An owner has set the red flags (else `red_flags` is the seed).
    pub red_flags_set: bool,
    /// The fields owners added to every contact, besides the built-in ones.
    pub contact_fields: Vec<ContactField>,
    /// How the clinic keeps patients' data on its desks (the window's lock).
    pub patient_data: PatientData,
    /// How the account is set up in LINE's console, once the relay has read it.
    pub line_account: Option<LineAccount>,
}

/// What the relay keeps for the AI responder and Telegram alerts, as the log tells it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CredentialsView {
    pub ai_key: Option<CredentialState>,
    pub telegram_token: Option<CredentialState>,
}

/// One credential: kept or not, since when and from whom; the newest trouble using it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CredentialState {
    pub kept: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub set_at: i64,
    /// The operator who gave (or removed) it.
    pub set_by: Option<String>,
    /// The newest trouble, in the relay's words.
    pub problem: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub problem_at: Option<i64>,
    /// What it was, for the owner to mend: the window says it in their language.
    pub trouble: Option<TelegramTrouble>,
}

impl Store {
    pub async fn team_settings(&self) -> Result<TeamSettings> {
        let mut settings = TeamSettings {
            business_hours: None,
            greetings: Greetings::default(),
            handoff: HandoffSettings::default(),
            keyword_rules: Vec::new(),
            canned_responses: Vec::new(),
            read_receipts: ReadReceipts::default(),
            ai: None,
            telegram: None,
            red_flags: tsunagi_domain::red_flag::seeded(None),
            red_flags_set: false,
            contact_fields: Vec::new(),
            patient_data: PatientData::default(),
            line_account: self.line_account().await?,
        };
        for name in [
            "business_hours",
            "greetings",
            "handoff",
            "keyword_rules",
            "canned_responses",
            "read_receipts",
            "ai",
            "telegram",
            "red_flags",
            "contact_fields",
            "patient_data",
        ] {
            match self.setting(name).await? {
                Some(Setting::BusinessHours(hours)) => settings.business_hours = Some(hours),
                Some(Setting::Greetings(greetings)) => settings.greetings = greetings,
                Some(Setting::Handoff(handoff)) => settings.handoff = handoff,
                Some(Setting::KeywordRules { rules }) => settings.keyword_rules = rules,
                Some(Setting::CannedResponses { responses }) => {
                    settings.canned_responses = responses;
                }
                Some(Setting::ReadReceipts(receipts)) => settings.read_receipts = receipts,
                Some(Setting::Ai(ai)) => settings.ai = Some(ai),
                Some(Setting::Telegram(telegram)) => settings.telegram = Some(telegram),
                Some(Setting::RedFlags(flags)) => {
                    settings.red_flags = flags;
                    settings.red_flags_set = true;
                }
                Some(Setting::ContactFields { fields }) => settings.contact_fields = fields,
                Some(Setting::PatientData(data)) => settings.patient_data = data,
                Some(Setting::Templates { .. }) | None => {}
            }
        }
        if !settings.red_flags_set {
            let zone = settings
                .business_hours
                .as_ref()
                .map(|h| h.time_zone.as_str());
            settings.red_flags = tsunagi_domain::red_flag::seeded(zone);
        }
        Ok(settings)
    }

    /// How the account is set up in LINE's console, as the relay last read it.
    pub async fn line_account(&self) -> Result<Option<LineAccount>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
            .bind(crate::projection::LINE_ACCOUNT)
            .fetch_optional(&self.readers)
            .await?;
        value
            .map(|v| {
                serde_json::from_str(&v)
                    .map_err(|e| Error::unreadable(format!("line account: {e}")))
            })
            .transpose()
    }
}

impl Store {
    /// The credentials the relay keeps, as the log says (never their values).
    pub async fn credentials(&self) -> Result<CredentialsView> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT c.name, c.kept, c.set_at, COALESCE(o.name, c.set_by), c.problem,
                 c.problem_at, c.trouble
             FROM credentials c LEFT JOIN operators o ON o.id = c.set_by",
        )
        .fetch_all(&self.readers)
        .await?;
        let mut view = CredentialsView::default();
        for row in rows {
            let state = Some(CredentialState {
                kept: row.get(1),
                set_at: row.get(2),
                set_by: row.get(3),
                problem: row.get(4),
                problem_at: row.get(5),
                trouble: row.get::<Option<&str>, _>(6).map(TelegramTrouble::named),
            });
            match Credential::named(row.get(0)) {
                Some(Credential::AiKey) => view.ai_key = state,
                Some(Credential::TelegramToken) => view.telegram_token = state,
                None => {}
            }
        }
        Ok(view)
    }

    /// The clinic's time zone: its opening hours', else this computer's.
    pub async fn clinic_zone(&self) -> jiff::tz::TimeZone {
        match self.setting("business_hours").await {
            Ok(Some(Setting::BusinessHours(hours))) => {
                jiff::tz::TimeZone::get(&hours.time_zone).ok()
            }
            _ => None,
        }
        .unwrap_or_else(jiff::tz::TimeZone::system)
    }
}

/// What an operator just did in a chat, for telling LINE the patient's messages were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Opened,
    Answered,
}

impl Store {
    /// The read token to tell LINE after `seen` in `conversation`, as the clinic's
    /// [`ReadReceipts`] say: on opening (what came in since this desk last looked), on
    /// answering (the newest message from the patient), or never. Opening always marks the
    /// chat read on this desk.
    pub async fn read_token(
        &self,
        conversation: &ConversationId,
        seen: Seen,
    ) -> Result<Option<tsunagi_line::MarkAsReadToken>> {
        let mode = match self.setting("read_receipts").await? {
            Some(Setting::ReadReceipts(receipts)) => receipts.mode,
            _ => ReadMode::default(),
        };
        let token = match seen {
            Seen::Opened => self.mark_read(conversation).await?,
            Seen::Answered => self.newest_read_token(conversation).await?,
        };
        let wanted = matches!(
            (mode, seen),
            (ReadMode::Opened, Seen::Opened) | (ReadMode::Answered, Seen::Answered)
        );
        Ok(token.filter(|_| wanted))
    }
}

/// What the relay would refuse `setting` for; empty when it may be saved.
pub fn problems(setting: &Setting) -> Vec<SettingProblem> {
    tsunagi_domain::validate::setting(setting)
}

impl Sync {
    /// Saves a setting now, straight to the relay ([`Sync::append_and_pull`]), so the
    /// editors read it back at once. Its place in the log.
    pub async fn save_setting(&self, setting: Setting) -> Result<Seq> {
        let found = problems(&setting);
        if !found.is_empty() {
            let words: Vec<String> = found.iter().map(ToString::to_string).collect();
            return Err(Error::Invalid(words.join("; ")));
        }
        let (_, seq) = self.append_and_pull(&Operation::Settings(setting)).await?;
        Ok(seq)
    }
}
