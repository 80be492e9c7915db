//! The real `tsunagi-cli` binary against a relay in process.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod erase;
mod export;

use std::path::Path;
use std::process::Output;

use pretty_assertions::assert_eq;
use serde_json::Value;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_proto::{EntryBody, OpId, Operation, ReadMode, ReadReceipts, Seq, Setting};
use tsunagi_relay::http::Options;
use tsunagi_relay::testing::{CHANNEL, TestRelay};

const PATIENT: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

/// Runs the CLI on `data`, off the runtime's threads; its output.
async fn cli(data: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagi-cli"));
    command
        .arg("--data")
        .arg(data)
        .arg("--no-keyring")
        .args(args)
        .env_remove("TSUNAGI_CLI_DATA");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs the CLI and expects success; its stdout.
async fn ok(data: &Path, args: &[&str]) -> String {
    let output = cli(data, args).await;
    assert!(
        output.status.success(),
        "{args:?}: {}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

async fn json(data: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(data, args).await).unwrap()
}

async fn enroll(relay: &TestRelay, data: &Path, operator: &str) -> Output {
    enroll_as(relay, data, operator, Role::Staff).await
}

async fn enroll_as(relay: &TestRelay, data: &Path, operator: &str, role: Role) -> Output {
    let code = relay.invite(role).await;
    cli(
        data,
        &[
            "enroll",
            "--relay",
            &relay.url,
            "--code",
            &code,
            "--operator",
            operator,
        ],
    )
    .await
}

#[tokio::test]
async fn the_cli_enrolls_syncs_and_works_a_conversation_from_queue_to_close() {
    let relay = TestRelay::start(Options::default()).await;
    relay
        .patient_says(PATIENT, "M1", "予約をお願いします")
        .await;
    let yuki = tempfile::tempdir().unwrap();
    let somchai = tempfile::tempdir().unwrap();

    let enrolled = enroll(&relay, yuki.path(), "Yuki").await;
    assert!(enrolled.status.success(), "{enrolled:?}");
    assert!(stdout(&enrolled).contains("enrolled as Yuki"));
    // No keyring here: the token is in a file only its owner reads, and the CLI says so.
    assert!(String::from_utf8_lossy(&enrolled.stderr).contains("readable by you alone"));
    let config = std::fs::read_to_string(yuki.path().join("profile.json")).unwrap();
    assert!(!config.contains("tsd_"), "the token is not in the config");
    assert!(
        enroll(&relay, somchai.path(), "Somchai")
            .await
            .status
            .success()
    );

    assert!(ok(yuki.path(), &["sync"]).await.contains("at entry 1"));
    let bot = json(yuki.path(), &["inbox", "--list", "bot", "--json"]).await;
    assert_eq!(bot[0]["conversation"], PATIENT);
    assert_eq!(bot[0]["preview"], "予約をお願いします");

    assert!(
        ok(yuki.path(), &["mode", PATIENT, "human"])
            .await
            .starts_with("done")
    );
    let waiting = json(yuki.path(), &["inbox", "--list", "waiting", "--json"]).await;
    assert_eq!(waiting[0]["queue_position"], 1);

    assert!(
        ok(yuki.path(), &["claim", PATIENT])
            .await
            .starts_with("done")
    );
    let lost = cli(somchai.path(), &["claim", PATIENT]).await;
    assert_eq!(lost.status.code(), Some(2));
    assert!(
        stdout(&lost).contains("already has this conversation"),
        "{}",
        stdout(&lost)
    );

    assert!(
        ok(yuki.path(), &["send", PATIENT, "10時はいかがですか"])
            .await
            .starts_with("done")
    );
    let shown = json(yuki.path(), &["show", PATIENT, "--json"]).await;
    let messages = shown["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(
        (
            last["direction"].as_str(),
            last["text"].as_str(),
            last["send_status"].as_str()
        ),
        (Some("out"), Some("10時はいかがですか"), Some("pending"))
    );
    assert_eq!(shown["conversation"]["session"]["operator_name"], "Yuki");

    let hits = json(yuki.path(), &["search", "予約", "--json"]).await;
    assert_eq!(hits[0]["conversation"], PATIENT);
    assert!(
        ok(yuki.path(), &["close", PATIENT])
            .await
            .starts_with("done")
    );
    let closed = json(somchai.path(), &["inbox", "--list", "closed", "--json"]).await;
    assert_eq!(
        closed.as_array().map(Vec::len),
        Some(0),
        "somchai has not synced yet"
    );
    ok(somchai.path(), &["sync"]).await;
    let closed = json(somchai.path(), &["inbox", "--list", "closed", "--json"]).await;
    assert_eq!(closed[0]["conversation"], PATIENT);

    let report = ok(somchai.path(), &["report", "--csv"]).await;
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 3, "{report}");
    assert!(lines[1].contains(",Yuki,1,1,"), "{report}");
    assert!(lines[2].starts_with(",everyone,1,1,"), "{report}");
}

#[tokio::test]
async fn a_change_made_while_the_relay_is_out_of_reach_waits_and_goes_out_on_the_next_sync() {
    let relay = TestRelay::start(Options::default()).await;
    relay.patient_says(PATIENT, "M1", "ขอนัดค่ะ").await;
    let data = tempfile::tempdir().unwrap();
    assert!(enroll(&relay, data.path(), "Mali").await.status.success());
    ok(data.path(), &["sync"]).await;
    ok(data.path(), &["mode", PATIENT, "human"]).await;
    ok(data.path(), &["claim", PATIENT]).await;
    let before = relay.head().await.0;

    // The relay moves out of reach.
    let config_path = data.path().join("profile.json");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &config_path,
        config.replace(&relay.url, &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let offline = cli(data.path(), &["send", PATIENT, "ได้ค่ะ"]).await;
    assert_eq!(offline.status.code(), Some(3), "{offline:?}");
    assert!(stdout(&offline).contains("waits here"));
    let pending = json(data.path(), &["pending", "--json"]).await;
    assert_eq!(pending.as_array().map(Vec::len), Some(1));

    std::fs::write(&config_path, config).unwrap();
    assert!(ok(data.path(), &["sync"]).await.contains("1 op(s) sent"));
    assert_eq!(relay.head().await.0, before + 1);
    let pending = json(data.path(), &["pending", "--json"]).await;
    assert_eq!(pending.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn commands_before_enrolling_say_how_to_enroll() {
    let data = tempfile::tempdir().unwrap();
    let output = cli(data.path(), &["inbox"]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not enrolled yet"), "{stderr}");
    assert!(
        stderr.contains("enroll --relay URL --code CODE"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_answer_from_the_cli_is_the_holders_alone_and_marks_the_chat_read_as_the_clinic_set() {
    let relay = TestRelay::start(Options::default()).await;
    // The clinic shows the patient "Read" once staff answer.
    let owner = relay.enroll("Owner", Role::Owner).await;
    let client =
        RelayClient::new(relay.url.parse().unwrap(), DeviceToken::new(owner.token)).unwrap();
    let receipts = Operation::Settings(Setting::ReadReceipts(ReadReceipts {
        mode: ReadMode::Answered,
    }));
    client
        .append(&ChannelId::from(CHANNEL), OpId::new(), &receipts)
        .await
        .unwrap();
    relay.patient_says(PATIENT, "M1", "ขอนัดค่ะ").await;
    let data = tempfile::tempdir().unwrap();
    assert!(enroll(&relay, data.path(), "Mali").await.status.success());
    ok(data.path(), &["sync"]).await;

    let unheld = cli(data.path(), &["send", PATIENT, "ได้ค่ะ"]).await;
    assert!(!unheld.status.success());
    let stderr = String::from_utf8_lossy(&unheld.stderr);
    assert!(
        stderr.contains("not yours to answer: claim it first"),
        "{stderr}"
    );
    let pending = json(data.path(), &["pending", "--json"]).await;
    assert_eq!(
        pending.as_array().map(Vec::len),
        Some(0),
        "nothing was queued"
    );

    ok(data.path(), &["mode", PATIENT, "human"]).await;
    ok(data.path(), &["claim", PATIENT]).await;
    assert!(
        ok(data.path(), &["send", PATIENT, "ได้ค่ะ"])
            .await
            .starts_with("done")
    );
    let read: Vec<String> = relay
        .read(Seq(0), 100)
        .await
        .into_iter()
        .filter_map(|entry| match entry.body {
            EntryBody::Op { op, .. } => match op.known() {
                Some(Operation::MarkRead { token, .. }) => Some(token.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        read,
        ["mM1"],
        "the answer marked the patient's message read"
    );
}
