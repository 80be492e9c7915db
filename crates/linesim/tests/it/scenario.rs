use std::time::Duration;

use tsunagi_linesim::scenario::{ClinicDay, Scenario};

use crate::Harness;

#[tokio::test]
async fn a_scenario_file_runs_its_steps_in_time_order_as_webhooks() {
    let h = Harness::start().await;
    let scenario = Scenario::from_json(
        r#"{"name": "handoff", "steps": [
            {"at_ms": 200, "user": 0, "action": {"type": "text", "text": "スタッフと話したい"}},
            {"at_ms": 0,   "user": 0, "action": {"type": "text", "text": "明日の予約を取りたいです"}},
            {"at_ms": 100, "user": 1, "action": {"type": "image"}}
        ]}"#,
    )
    .unwrap();
    let report = scenario.run(&h.base, 10.0).await.unwrap();
    assert_eq!(
        (report.steps, report.delivered),
        (3, 3),
        "{:?}",
        report.failures
    );
    let received = h.receiver.wait_for(3).await;
    let kinds: Vec<String> = received
        .iter()
        .flat_map(|r| r.callback().events)
        .map(|e| match e.kind {
            tsunagi_line::webhook::EventKind::Message(m) => match m.content {
                tsunagi_line::webhook::MessageContent::Text { text, .. } => text,
                other => format!("{other:?}")
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned(),
            },
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["明日の予約を取りたいです", "Image", "スタッフと話したい"]
    );
}

#[tokio::test]
async fn a_scenario_naming_an_unknown_user_is_refused_before_anything_runs() {
    let h = Harness::start().await;
    let scenario = Scenario::from_json(
        r#"{"steps": [
            {"at_ms": 0, "user": 0, "action": {"type": "text", "text": "hi"}},
            {"at_ms": 0, "user": 999, "action": {"type": "text", "text": "hi"}}
        ]}"#,
    )
    .unwrap();
    let error = scenario.run(&h.base, 1.0).await.unwrap_err();
    assert!(error.to_string().contains("step 1"), "{error}");
    // A step that ran would have been a call to linesim, ended once its webhook was.
    h.calls_ended().await;
    assert!(h.receiver.received().is_empty());
}

#[tokio::test]
async fn a_clinic_day_runs_against_the_simulator_with_every_step_delivered() {
    let h = Harness::start_with(|c| c.rate_scale = None).await;
    let scenario = ClinicDay {
        patients: 12,
        span: Duration::from_secs(60),
        seed: 3,
    }
    .scenario(&h.sim.users());
    let report = scenario.run(&h.base, 600.0).await.unwrap();
    assert_eq!(report.delivered, report.steps, "{:?}", report.failures);
    assert!(report.steps >= 24);
}
