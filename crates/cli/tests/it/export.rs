//! A patient's data, whole, in one archive: `tsunagi-cli export`.

use std::collections::BTreeMap;
use std::io::Read as _;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_line::{ChannelId, MessageId, UserId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{EntryBody, OpId, Operation, Seq};
use tsunagi_relay::http::Options;
use tsunagi_relay::media::Part;
use tsunagi_relay::testing::{CHANNEL, TestRelay};

use crate::{PATIENT, cli, enroll, enroll_as, ok};

/// What the patient sent with a file: its id, its message object, its bytes.
fn with_files() -> Vec<(&'static str, Value, &'static [u8])> {
    vec![
        (
            "5002",
            json!({"type": "image", "id": "5002", "quoteToken": "q2",
                   "contentProvider": {"type": "line"}}),
            b"\xff\xd8\xff\xe0 a rash on the arm",
        ),
        (
            "5003",
            json!({"type": "video", "id": "5003", "quoteToken": "q3", "duration": 4000,
                   "contentProvider": {"type": "line"}}),
            b"\x00\x00\x00\x18ftypmp42 a cough",
        ),
        (
            "5004",
            json!({"type": "audio", "id": "5004", "duration": 2000,
                   "contentProvider": {"type": "line"}}),
            b"#!AMR a voice note",
        ),
        (
            "5005",
            json!({"type": "file", "id": "5005", "fileName": "検査結果.pdf", "fileSize": 18}),
            b"%PDF-1.7 blood test",
        ),
    ]
}

#[tokio::test]
async fn an_owner_exports_a_patients_every_message_and_file_as_one_archive_the_schema_reads() {
    let relay = TestRelay::start(Options::default()).await;
    let channel = ChannelId::from(CHANNEL);
    let kept = relay.relay.media().expect("the test relay keeps media");
    relay
        .patient_says(PATIENT, "5001", "腕に発疹があります")
        .await;
    for (id, message, bytes) in with_files() {
        kept.save(
            &channel,
            &MessageId::from(id),
            Part::Content,
            "application/octet-stream",
            bytes,
        )
        .await
        .unwrap();
        relay.patient_sends(PATIENT, message).await;
    }
    for message in [
        json!({"type": "sticker", "id": "5006", "quoteToken": "q6", "packageId": "446",
               "stickerId": "1988", "stickerResourceType": "STATIC"}),
        json!({"type": "location", "id": "5007", "title": "自宅", "address": "東京都",
               "latitude": 35.68, "longitude": 139.76}),
    ] {
        relay.patient_sends(PATIENT, message).await;
    }
    // The team's note and tag, as another desk made them.
    let owner = relay.enroll("Owner", Role::Owner).await;
    let desk = RelayClient::new(relay.url.parse().unwrap(), DeviceToken::new(owner.token)).unwrap();
    let contact = UserId::from(PATIENT);
    for op in [
        Operation::Note {
            contact: contact.clone(),
            text: "アレルギー：ペニシリン".into(),
        },
        Operation::Tag {
            contact: contact.clone(),
            tag: "皮膚科".into(),
            added: true,
        },
    ] {
        desk.append(&channel, OpId::new(), &op).await.unwrap();
    }

    let staff = tempfile::tempdir().unwrap();
    let yuki = tempfile::tempdir().unwrap();
    assert!(
        enroll(&relay, staff.path(), "Somchai")
            .await
            .status
            .success()
    );
    assert!(
        enroll_as(&relay, yuki.path(), "Yuki", Role::Owner)
            .await
            .status
            .success()
    );
    ok(yuki.path(), &["mode", PATIENT, "human"]).await;
    ok(yuki.path(), &["claim", PATIENT]).await;
    ok(
        yuki.path(),
        &["send", PATIENT, "写真をありがとうございます"],
    )
    .await;

    // Staff may not take a copy: refused by the log, and no file is left behind.
    let out = tempfile::tempdir().unwrap();
    let refused_at = out.path().join("refused.zip");
    let refused = cli(
        staff.path(),
        &["export", PATIENT, "--out", refused_at.to_str().unwrap()],
    )
    .await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("owner"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing was written"
    );

    let archive_at = out.path().join("patient.zip");
    let said = ok(
        yuki.path(),
        &["export", PATIENT, "--out", archive_at.to_str().unwrap()],
    )
    .await;
    assert!(
        said.starts_with("exported 8 message(s) and 4 file(s)"),
        "{said}"
    );

    let mut archive = zip::ZipArchive::new(std::fs::File::open(&archive_at).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    let patient: Value = serde_json::from_slice(&read("patient.json")).unwrap();
    let carried: Value = serde_json::from_slice(&read("schema.json")).unwrap();
    let documented: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/patient-archive.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        carried, documented,
        "the archive carries the documented schema"
    );
    let validator = jsonschema::validator_for(&documented).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&patient)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect();
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "patient.json is as documented"
    );

    assert_eq!(patient["version"], 1);
    assert_eq!(patient["channel"], CHANNEL);
    assert_eq!(patient["contact"]["user_id"], PATIENT);
    assert_eq!(patient["contact"]["tags"], json!(["皮膚科"]));
    assert_eq!(
        patient["contact"]["notes"][0]["text"],
        "アレルギー：ペニシリン"
    );
    let messages = patient["messages"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("in", "text"),
            ("in", "image"),
            ("in", "video"),
            ("in", "audio"),
            ("in", "file"),
            ("in", "sticker"),
            ("in", "location"),
            ("out", "text"),
        ]
    );
    assert_eq!(messages[0]["text"], "腕に発疹があります");
    assert_eq!(messages[6]["content"]["address"], "東京都");
    assert_eq!(messages[7]["text"], "写真をありがとうございます");
    assert_eq!(messages[7]["author_name"], "Yuki");
    assert!(
        messages[7]["delivery"]["status"].is_string(),
        "{}",
        messages[7]
    );
    // Each file is in the archive, byte for byte, where its message says.
    let files: BTreeMap<&str, &str> = messages
        .iter()
        .filter_map(|m| Some((m["line_message_id"].as_str()?, m["file"].as_str()?)))
        .collect();
    for (id, _, bytes) in with_files() {
        let name = files
            .get(id)
            .unwrap_or_else(|| panic!("no file for {id}: {files:?}"));
        assert!(name.starts_with("media/"), "{name}");
        assert_eq!(read(name), bytes, "{name}");
    }
    assert!(files["5005"].ends_with("検査結果.pdf"), "{}", files["5005"]);
    assert_eq!(patient["sessions"].as_array().map(Vec::len), Some(1));
    assert!(
        patient["handoffs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "claimed" && h["by"] == "Yuki"),
        "{}",
        patient["handoffs"]
    );

    // The log keeps that Yuki took a copy, and nobody else did.
    let exports: Vec<_> = relay
        .read(Seq(0), 100)
        .await
        .into_iter()
        .filter_map(|entry| match entry.body {
            EntryBody::Op { op, .. } => match op.known() {
                Some(Operation::Export { contact }) => Some(contact.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(exports, [PATIENT]);
}
