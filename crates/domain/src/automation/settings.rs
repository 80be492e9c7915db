//! The team's settings as the bot uses them: compiled for matching, kept as logged.

use std::collections::BTreeMap;

use tsunagi_proto::{
    AiSettings, Greetings, HandoffSettings, KeywordRule, PatientData, RedFlagSettings, Setting,
    TelegramSettings, UnixMillis,
};

use crate::handoff::{HandoffKeywords, KeywordRules};
use crate::hours::Hours;
use crate::red_flag::{self, RedFlags};

use super::Bot;

/// The settings in force, compiled for matching. Kept in a snapshot as the settings
/// themselves, and compiled again when it is read.
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    /// Each setting as logged, by name: what the rest is compiled from.
    pub(super) logged: BTreeMap<&'static str, Setting>,
    /// The keyword rules as logged, and compiled for matching.
    pub(super) rules: Vec<KeywordRule>,
    pub(super) keywords: KeywordRules,
    pub(super) greetings: Greetings,
    pub(super) handoff: HandoffSettings,
    pub(super) handoff_words: HandoffKeywords,
    pub(super) hours: Option<Hours>,
    pub(super) away: Option<String>,
    pub(super) ai: Option<AiSettings>,
    pub(super) telegram: Option<TelegramSettings>,
    pub(super) red_flags: RedFlagsInForce,
    /// Stop words, and whether reminders need consent.
    pub(super) patient_data: PatientData,
}

/// The red flags in force: as an owner set them, else as seeded for the clinic's time
/// zone; and compiled for matching.
#[derive(Debug, Clone)]
pub(super) struct RedFlagsInForce {
    pub(super) settings: RedFlagSettings,
    pub(super) words: RedFlags,
}

impl RedFlagsInForce {
    fn new(settings: RedFlagSettings) -> Self {
        let words = RedFlags::new(&settings);
        Self { settings, words }
    }
}

impl Default for RedFlagsInForce {
    fn default() -> Self {
        Self::new(red_flag::seeded(None))
    }
}

impl serde::Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.logged.values())
    }
}

impl<'de> serde::Deserialize<'de> for Settings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let logged: Vec<Setting> = serde::Deserialize::deserialize(deserializer)?;
        let mut settings = Settings::default();
        for setting in &logged {
            settings.set(setting);
        }
        Ok(settings)
    }
}

impl Settings {
    pub(super) fn set(&mut self, setting: &Setting) {
        self.logged.insert(setting.name(), setting.clone());
        match setting {
            Setting::KeywordRules { rules } => {
                self.keywords = KeywordRules::new(rules);
                self.rules = rules.clone();
            }
            Setting::Greetings(greetings) => self.greetings = greetings.clone(),
            Setting::Handoff(handoff) => {
                let words: Vec<&String> = handoff.all_keywords().collect();
                self.handoff_words = if words.is_empty() {
                    HandoffKeywords::default()
                } else {
                    HandoffKeywords::new(words)
                };
                self.handoff = handoff.clone();
            }
            Setting::BusinessHours(hours) => {
                self.hours = Hours::new(hours).ok();
                self.away = hours.away_message.clone();
                // Until an owner sets red flags, the emergency number is the zone's.
                if !self.logged.contains_key("red_flags") {
                    let seeded = red_flag::seeded(Some(hours.time_zone.as_str()));
                    self.red_flags = RedFlagsInForce::new(seeded);
                }
            }
            Setting::Ai(ai) => self.ai = Some(ai.clone()),
            Setting::Telegram(telegram) => self.telegram = Some(telegram.clone()),
            Setting::RedFlags(flags) => self.red_flags = RedFlagsInForce::new(flags.clone()),
            // What desks do, not the bot.
            Setting::CannedResponses { .. }
            | Setting::Templates { .. }
            | Setting::ReadReceipts(_)
            | Setting::ContactFields { .. } => {}
            Setting::PatientData(data) => self.patient_data = data.clone(),
        }
    }
}

impl Bot {
    pub(super) fn is_open(&self, at: UnixMillis) -> bool {
        self.settings.hours.as_ref().is_none_or(|h| h.is_open(at))
    }
}
