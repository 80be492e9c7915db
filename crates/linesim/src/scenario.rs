//! Scenarios: timed user actions, written by hand (JSON) or generated as a "clinic day",
//! run against a simulator over its `/_sim/` API.
//!
//! ```json
//! {
//!   "name": "a question, then a handoff",
//!   "steps": [
//!     { "at_ms": 0,    "user": 0, "action": { "type": "text", "text": "明日の予約を取りたいです" } },
//!     { "at_ms": 1500, "user": 0, "action": { "type": "text", "text": "スタッフと話したい" } },
//!     { "at_ms": 3000, "user": "U000000000000000000000000007a5e02", "action": { "type": "follow" } }
//!   ]
//! }
//! ```
//!
//! `user` is a simulated user's id, or their index in the simulator's user list.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use tsunagi_line::{GroupId, UserId};

use crate::population::User;
use crate::webhook::UserAction;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    pub steps: Vec<Step>,
}

/// One user action at a time after the scenario starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub at_ms: u64,
    pub user: UserRef,
    /// Act in this group instead of the 1:1 chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    pub action: UserAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    Index(usize),
    Id(UserId),
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("step {step}: there is no simulated user {user:?}")]
    UnknownUser { step: usize, user: UserRef },
    #[error("reaching the simulator at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

/// How a run went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub steps: usize,
    /// Steps whose webhook POST was answered with 2xx.
    pub delivered: usize,
    /// Steps the simulator refused or whose webhook failed, with why.
    pub failures: Vec<String>,
}

impl Scenario {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// How long the scenario takes at normal speed.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.steps.iter().map(|s| s.at_ms).max().unwrap_or(0))
    }

    /// Runs every step against the simulator at `base_url`, `speed` times faster than
    /// written (2.0 takes half the time).
    pub async fn run(&self, base_url: &str, speed: f64) -> Result<RunReport, ScenarioError> {
        let http = reqwest::Client::new();
        let base = base_url.trim_end_matches('/');
        let unreachable = |source| ScenarioError::Unreachable {
            url: base.to_owned(),
            source,
        };
        #[derive(Deserialize)]
        struct Users {
            users: Vec<User>,
        }
        let users: Users = http
            .get(format!("{base}/_sim/users"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json()
            .await
            .map_err(unreachable)?;
        let mut steps: Vec<(usize, &Step, UserId)> = Vec::with_capacity(self.steps.len());
        for (index, step) in self.steps.iter().enumerate() {
            let id = match &step.user {
                UserRef::Index(i) => users.users.get(*i).map(|u| u.user_id.clone()),
                UserRef::Id(id) => users
                    .users
                    .iter()
                    .any(|u| &u.user_id == id)
                    .then(|| id.clone()),
            };
            let id = id.ok_or_else(|| ScenarioError::UnknownUser {
                step: index,
                user: step.user.clone(),
            })?;
            steps.push((index, step, id));
        }
        steps.sort_by_key(|(_, step, _)| step.at_ms);

        let started = Instant::now();
        let mut report = RunReport {
            steps: steps.len(),
            ..RunReport::default()
        };
        for (index, step, user) in steps {
            let due = Duration::from_secs_f64(step.at_ms as f64 / 1_000.0 / speed.max(1e-9));
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let mut body = serde_json::to_value(&step.action).unwrap_or_default();
            if let Some(group) = &step.group {
                body["group"] = group.as_str().into();
            }
            let answer = http
                .post(format!("{base}/_sim/users/{user}/say"))
                .json(&body)
                .send()
                .await
                .map_err(unreachable)?;
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let failure = if !status.is_success() {
                Some(json["message"].as_str().unwrap_or(&text).to_owned())
            } else {
                match (
                    json["attempt"]["status"].as_u64(),
                    json["attempt"]["error"].as_str(),
                ) {
                    (Some(200..=299), _) => None,
                    (Some(code), _) => Some(format!("the webhook answered {code}")),
                    (None, error) => {
                        Some(format!("no webhook answer: {}", error.unwrap_or("unknown")))
                    }
                }
            };
            match failure {
                None => report.delivered += 1,
                Some(why) => report
                    .failures
                    .push(format!("step {index} ({user}): {why}")),
            }
        }
        Ok(report)
    }
}

/// A day at a clinic's front desk: who writes, when, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicDay {
    pub patients: usize,
    pub span: Duration,
    pub seed: u64,
}

struct Phrases {
    language: &'static str,
    questions: &'static [&'static str],
    handoff: &'static str,
    thanks: &'static str,
}

const PHRASES: &[Phrases] = &[
    Phrases {
        language: "th",
        questions: &[
            "สวัสดีค่ะ อยากนัดหมอพรุ่งนี้ได้ไหมคะ",
            "คลินิกเปิดกี่โมงคะ",
            "ขอเลื่อนนัดเป็นวันศุกร์ได้ไหมครับ",
        ],
        handoff: "ติดต่อเจ้าหน้าที่",
        thanks: "ขอบคุณค่ะ",
    },
    Phrases {
        language: "ja",
        questions: &[
            "明日の予約を取りたいです",
            "駐車場はありますか？",
            "予約を金曜日に変更できますか",
        ],
        handoff: "スタッフと話したい",
        thanks: "ありがとうございます",
    },
    Phrases {
        language: "zh-TW",
        questions: &["請問明天可以預約嗎？", "週六有門診嗎？", "我想改約到星期五"],
        handoff: "人工客服",
        thanks: "謝謝",
    },
    Phrases {
        language: "en",
        questions: &[
            "Can I book an appointment for tomorrow?",
            "What time do you open on Saturday?",
            "Could I move my appointment to Friday?",
        ],
        handoff: "talk to a human",
        thanks: "Thank you!",
    },
];

impl ClinicDay {
    /// The day as a scenario over `users` (the simulator's population): each patient
    /// arrives at a random time, asks about appointments in their language, and some send
    /// stickers, photos or their location, ask for a person, follow, or block.
    pub fn scenario(&self, users: &[User]) -> Scenario {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let span_ms = u64::try_from(self.span.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let candidates: Vec<&User> = users.iter().filter(|u| !u.blocked).collect();
        // With more patients than users, users come back later in the day: then nobody may
        // block the account, or their return visit would be refused.
        let can_leave = self.patients <= candidates.len();
        let mut steps = Vec::new();
        for patient in candidates.iter().cycle().take(self.patients) {
            let phrases = PHRASES
                .iter()
                .find(|p| p.language == patient.language)
                .unwrap_or(&PHRASES[3]);
            let mut at = rng.random_range(0..span_ms);
            let user = UserRef::Id(patient.user_id.clone());
            let mut step = |at: u64, action: UserAction| {
                steps.push(Step {
                    at_ms: at.min(span_ms),
                    user: user.clone(),
                    group: None,
                    action,
                });
            };
            if rng.random_ratio(1, 8) {
                step(at, UserAction::Follow);
                at += rng.random_range(5_000..30_000);
            }
            let question = phrases
                .questions
                .choose(&mut rng)
                .copied()
                .unwrap_or_default();
            step(
                at,
                UserAction::Text {
                    text: question.into(),
                },
            );
            at += rng.random_range(20_000..120_000);
            match rng.random_range(0..10) {
                0 => step(
                    at,
                    UserAction::Sticker {
                        package_id: "11537".into(),
                        sticker_id: "52002734".into(),
                    },
                ),
                1 => step(at, UserAction::Image),
                2 => step(
                    at,
                    UserAction::Location {
                        title: None,
                        address: None,
                        latitude: 13.7563 + rng.random_range(-0.05..0.05),
                        longitude: 100.5018 + rng.random_range(-0.05..0.05),
                    },
                ),
                _ => {}
            }
            at += rng.random_range(10_000..60_000);
            if rng.random_ratio(1, 6) {
                step(
                    at,
                    UserAction::Text {
                        text: phrases.handoff.into(),
                    },
                );
                at += rng.random_range(60_000..300_000);
            }
            step(
                at,
                UserAction::Text {
                    text: phrases.thanks.into(),
                },
            );
            if can_leave && rng.random_ratio(1, 20) {
                step(at + 60_000, UserAction::Unfollow);
            }
        }
        steps.sort_by_key(|s| s.at_ms);
        Scenario {
            name: format!("clinic day: {} patients", self.patients),
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(patients: usize) -> Scenario {
        ClinicDay {
            patients,
            span: Duration::from_secs(8 * 3600),
            seed: 42,
        }
        .scenario(&crate::population::users(300, 1))
    }

    #[test]
    fn a_clinic_day_is_the_same_for_the_same_seed_and_stays_in_its_span() {
        let a = day(30);
        assert_eq!(a, day(30));
        assert!(a.duration() <= Duration::from_secs(8 * 3600));
        assert!(a.steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        let patients: std::collections::HashSet<_> =
            a.steps.iter().map(|s| format!("{:?}", s.user)).collect();
        assert_eq!(patients.len(), 30);
    }

    #[test]
    fn a_clinic_day_has_questions_in_four_languages_handoffs_media_and_follows() {
        let steps = day(200).steps;
        let texts: Vec<&str> = steps
            .iter()
            .filter_map(|s| match &s.action {
                UserAction::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        for handoff in [
            "ติดต่อเจ้าหน้าที่",
            "人工客服",
            "スタッフと話したい",
            "talk to a human",
        ] {
            assert!(texts.contains(&handoff), "no {handoff}");
        }
        let has = |f: fn(&UserAction) -> bool| steps.iter().any(|s| f(&s.action));
        assert!(has(|a| matches!(a, UserAction::Sticker { .. })));
        assert!(has(|a| matches!(a, UserAction::Image)));
        assert!(has(|a| matches!(a, UserAction::Location { .. })));
        assert!(has(|a| matches!(a, UserAction::Follow)));
        assert!(has(|a| matches!(a, UserAction::Unfollow)));
    }

    #[test]
    fn when_users_come_back_nobody_blocks_the_account() {
        let steps = ClinicDay {
            patients: 100,
            span: Duration::from_secs(3600),
            seed: 5,
        }
        .scenario(&crate::population::users(10, 1))
        .steps;
        assert!(steps.len() >= 100);
        assert!(
            !steps
                .iter()
                .any(|s| matches!(s.action, UserAction::Unfollow))
        );
    }

    #[test]
    fn a_scenario_reads_from_json_with_ids_or_indexes() {
        let scenario = Scenario::from_json(
            r#"{"steps": [
                {"at_ms": 0, "user": 0, "action": {"type": "text", "text": "hi"}},
                {"at_ms": 10, "user": "U1", "group": "C1", "action": {"type": "sticker", "packageId": "1", "stickerId": "2"}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(scenario.steps[0].user, UserRef::Index(0));
        assert_eq!(scenario.steps[1].user, UserRef::Id(UserId::from("U1")));
        assert_eq!(scenario.duration(), Duration::from_millis(10));
        assert!(
            Scenario::from_json(
                r#"{"steps": [{"at_ms": 0, "user": 0, "action": {"type": "dance"}}]}"#
            )
            .is_err()
        );
    }
}
