//! The clinic's retention, on the relay's clock: every night after 3:00 the executor logs
//! the purge, and the log keeps nothing older than the retention allows but a held
//! patient's.

use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering::SeqCst;

use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_proto::{EntryBody, Operation, PatientData, Retention, Seq, Setting, UnixMillis};
use tsunagi_relay::clock::Clock as RelayClock;
use tsunagi_relay::store::LogStore as _;

use crate::CHANNEL;
use crate::executor::{Clinic, options};

/// The executor's clock, as the test sets it.
static NOW: AtomicI64 = AtomicI64::new(0);
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The texts of the patients' messages still in the log.
async fn texts(clinic: &Clinic) -> Vec<String> {
    let log = (clinic.relay.store)
        .read(&ChannelId::from(CHANNEL), Seq(0), 10_000)
        .await
        .unwrap();
    log.iter()
        .filter_map(|entry| match &entry.body {
            EntryBody::Line { event, .. } => {
                let event: serde_json::Value = serde_json::from_str(event.get()).unwrap();
                event["message"]["text"].as_str().map(str::to_owned)
            }
            EntryBody::Op { .. } => None,
        })
        .collect()
}

fn expiries(ops: &[Operation]) -> usize {
    ops.iter()
        .filter(|op| matches!(op, Operation::Expire { .. }))
        .count()
}

#[tokio::test]
async fn every_night_the_log_keeps_nothing_past_the_retention_but_a_held_patients() {
    let mut clinic = Clinic::start(|_| {}).await;
    let (ana, ben) = (clinic.patient(0), clinic.patient(1));
    clinic.says(&ana, "ana's old words").await;
    clinic.says(&ben, "ben's old words").await;
    clinic.settled().await;
    clinic.kill();
    let keep = PatientData {
        retention: Retention {
            messages_days: Some(30),
            ..Retention::default()
        },
        ..PatientData::default()
    };
    clinic
        .desk(Operation::Settings(Setting::PatientData(keep)))
        .await;
    clinic
        .desk(Operation::Hold {
            contact: ben.clone(),
            held: true,
            reason: "a complaint in progress".into(),
        })
        .await;

    // Forty days on, at 2:00 (UTC: the clinic set no hours): not yet.
    let day = (UnixMillis::now().0 / DAY + 40) * DAY;
    NOW.store(day + 2 * HOUR, SeqCst);
    let clock = RelayClock::new(|| UnixMillis(NOW.load(SeqCst)));
    clinic.run_executor_by(clock, options("night")).await;
    clinic.settled().await;
    assert_eq!(expiries(&clinic.executor_ops().await), 0);
    assert_eq!(texts(&clinic).await, ["ana's old words", "ben's old words"]);

    // At 3:00, the purge: Ana's words go, Ben's stay.
    NOW.store(day + 3 * HOUR, SeqCst);
    let ops = clinic
        .wait_for("the night's purge", |ops| expiries(ops) == 1)
        .await;
    let purge = ops.iter().find(|op| matches!(op, Operation::Expire { .. }));
    assert_eq!(
        purge,
        Some(&Operation::Expire {
            before: Retention {
                messages_days: Some(30),
                ..Retention::default()
            }
            .cutoffs(UnixMillis(day + 3 * HOUR)),
            held: vec![ben.clone()],
        })
    );
    clinic.settled().await;
    assert_eq!(texts(&clinic).await, ["ben's old words"]);

    // Once a night: later that night nothing more, the next night again.
    NOW.store(day + 20 * HOUR, SeqCst);
    clinic.settled().await;
    assert_eq!(expiries(&clinic.executor_ops().await), 1);
    NOW.store(day + DAY + 3 * HOUR, SeqCst);
    clinic
        .wait_for("the next night's purge", |ops| expiries(ops) == 2)
        .await;
    clinic.kill();
}
