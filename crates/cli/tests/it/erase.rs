//! `tsunagi-cli erase`: a typed confirmation, owners only, and the patient gone from the
//! log but for the erase itself.

use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_proto::{EntryBody, Operation, Seq};
use tsunagi_relay::http::Options;
use tsunagi_relay::store::LogStore as _;
use tsunagi_relay::testing::{CHANNEL, TestRelay};

use crate::{PATIENT, cli, enroll, enroll_as, ok};

/// The log as JSON, and the erases in it.
async fn logged(relay: &TestRelay) -> (String, usize) {
    let log = (relay.relay.store)
        .read(&ChannelId::from(CHANNEL), Seq(0), 1_000)
        .await
        .unwrap();
    let erases = log
        .iter()
        .filter(|e| {
            matches!(&e.body, EntryBody::Op { op, .. }
                if matches!(op.known(), Some(Operation::Erase { .. })))
        })
        .count();
    (serde_json::to_string(&log).unwrap(), erases)
}

#[tokio::test]
async fn an_owner_erases_a_patient_once_the_user_id_is_typed_again() {
    let relay = TestRelay::start(Options::default()).await;
    relay
        .patient_says(PATIENT, "7001", "my blood test results")
        .await;
    let staff = tempfile::tempdir().unwrap();
    let owner = tempfile::tempdir().unwrap();
    assert!(
        enroll(&relay, staff.path(), "Somchai")
            .await
            .status
            .success()
    );
    assert!(
        enroll_as(&relay, owner.path(), "Yuki", Role::Owner)
            .await
            .status
            .success()
    );

    // A confirmation that is not the user id erases nothing.
    let mistyped = cli(owner.path(), &["erase", PATIENT, "--confirm", "U4af498"]).await;
    assert!(!mistyped.status.success());
    let stderr = String::from_utf8_lossy(&mistyped.stderr);
    assert!(stderr.contains("not erased"), "{stderr}");
    // Staff are refused by the log.
    let refused = cli(staff.path(), &["erase", PATIENT, "--confirm", PATIENT]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("owner"), "{stderr}");
    let (log, erases) = logged(&relay).await;
    assert!(log.contains("my blood test results") && erases == 0);

    let said = ok(owner.path(), &["erase", PATIENT, "--confirm", PATIENT]).await;
    assert!(said.starts_with(&format!("erased {PATIENT}")), "{said}");
    let (log, erases) = logged(&relay).await;
    assert!(!log.contains("my blood test results"), "{log}");
    assert_eq!(erases, 1);
    // The owner's desk holds nothing of them: search finds none of their words, and their
    // chat is not there to show.
    let found = ok(owner.path(), &["search", "blood"]).await;
    assert!(!found.contains("blood"), "{found}");
    assert!(!cli(owner.path(), &["show", PATIENT]).await.status.success());
}
