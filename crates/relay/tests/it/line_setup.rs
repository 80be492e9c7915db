use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_linesim::{Config, Simulator, TokenKind, Unanswered, UserAction};
use tsunagi_proto::api::{LogPage, Role, SetupProblem};
use tsunagi_proto::{EXECUTOR_DEVICE, EntryBody, LineAccount, LoggedOp, Operation, Seq};
use tsunagi_relay::line_setup::{LineSetup, SetupError, connect};
use tsunagi_relay::secret::ChannelSecret;
use tsunagi_relay::store::{LogStore as _, StoreError};

use crate::{Harness, enroll};

const NEW_CHANNEL: &str = "3000000003";
const NEW_SECRET: &str = "b7d2f0c4a1e94f3d8c6b5a4e3d2c1b0a";

async fn line(h: &Harness) -> (Simulator, LineSetup) {
    line_with(h, |_| {}).await
}

async fn line_with(h: &Harness, configure: impl FnOnce(&mut Config)) -> (Simulator, LineSetup) {
    let mut config = Config::new(NEW_CHANNEL, NEW_SECRET, "long-lived");
    configure(&mut config);
    let sim = Simulator::new(config);
    let address = sim
        .clone()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let setup = LineSetup {
        api_base: format!("http://{address}"),
        data_base: format!("http://{address}"),
        public_url: h.base.clone(),
    };
    (sim, setup)
}

#[tokio::test]
async fn connecting_a_channel_checks_it_with_line_points_the_webhook_here_and_tests_it() {
    let h = Harness::start().await;
    let (sim, setup) = line(&h).await;
    let channel = ChannelId::from(NEW_CHANNEL);
    let steps = connect(&h.relay, &channel, ChannelSecret::new(NEW_SECRET), &setup)
        .await
        .unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "credentials",
            "bot info",
            "stored",
            "webhook URL",
            "webhook test"
        ]
    );
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");
    assert!(steps[4].detail.contains("200"), "{}", steps[4].detail);
    // Setup takes no place among LINE's thirty short-lived tokens of the channel.
    let issued = sim.issued_tokens();
    assert!(!issued.is_empty());
    assert!(
        issued.iter().all(|t| t.kind == TokenKind::Stateless),
        "{issued:#?}"
    );

    // LINE now delivers this channel's events to the relay, which logs them.
    let patient = sim.users()[0].user_id.clone();
    let report = sim
        .say(
            &patient,
            UserAction::Text {
                text: "予約したいです".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.attempt.status, Some(200));
    let token = enroll(&h.http, &h.base, &h.relay, NEW_CHANNEL, Role::Owner).await;
    let page: LogPage = h
        .get_json(&format!("/v1/channels/{NEW_CHANNEL}/log"), &token)
        .await;
    // The account's modes, logged at setup, then the patient's message.
    assert_eq!(page.entries.len(), 2);
    assert!(
        matches!(&page.entries[1].body, EntryBody::Line { .. }),
        "{page:#?}"
    );
}

#[tokio::test]
async fn wrong_credentials_store_nothing() {
    let h = Harness::start().await;
    let (_sim, setup) = line(&h).await;
    let channel = ChannelId::from(NEW_CHANNEL);
    let result = connect(&h.relay, &channel, ChannelSecret::new("wrong"), &setup).await;
    match result {
        Err(SetupError::Credentials(error)) => {
            assert!(error.to_string().contains("client_secret"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.relay.store.head(&channel).await,
        Err(StoreError::UnknownChannel(channel))
    );
}

#[tokio::test]
async fn an_unreachable_public_url_is_reported_but_the_good_credentials_are_kept() {
    let h = Harness::start().await;
    let (_sim, mut setup) = line(&h).await;
    let port = tsunagi_relay::testing::free_port();
    setup.public_url = format!("http://127.0.0.1:{port}");
    let channel = ChannelId::from(NEW_CHANNEL);
    let steps = connect(&h.relay, &channel, ChannelSecret::new(NEW_SECRET), &setup)
        .await
        .unwrap();
    let test = steps.last().unwrap();
    assert_eq!((test.name.as_str(), test.ok), ("webhook test", false));
    assert!(test.detail.contains("COULD_NOT_CONNECT"), "{}", test.detail);
    assert!(
        h.relay.store.head(&channel).await.is_ok(),
        "the channel is kept"
    );
}

/// LINE keeps the URL while the channel's "Use webhook" is off, and then sends nothing:
/// the step fails and tells the owner where to turn it on. The credentials are kept, and
/// LINE's test still shows that the relay can be reached.
#[tokio::test]
async fn with_use_webhook_off_the_webhook_url_step_fails_and_says_where_to_turn_it_on() {
    let h = Harness::start().await;
    let (sim, setup) = line(&h).await;
    sim.set_use_webhook(false);
    let channel = ChannelId::from(NEW_CHANNEL);
    let steps = connect(&h.relay, &channel, ChannelSecret::new(NEW_SECRET), &setup)
        .await
        .unwrap();
    let url = &steps[3];
    assert_eq!(
        (url.name.as_str(), url.ok),
        ("webhook URL", false),
        "{steps:#?}"
    );
    for words in [
        &setup.webhook_url(&channel),
        "\"Use webhook\" is off",
        "LINE Developers console",
        "Messaging API tab → Webhook settings → \"Use webhook\"",
        "LINE Official Account Manager",
        "Settings → Response settings → Webhooks on",
    ] {
        assert!(url.detail.contains(words), "{words:?} in {}", url.detail);
    }
    assert_eq!(
        url.problem,
        Some(SetupProblem::WebhookOff {
            endpoint: setup.webhook_url(&channel)
        })
    );
    assert_eq!(
        (steps[4].name.as_str(), steps[4].ok),
        ("webhook test", true)
    );
    assert!(
        h.relay.store.head(&channel).await.is_ok(),
        "the channel is kept"
    );

    // Turned on, connecting again passes.
    sim.set_use_webhook(true);
    let steps = tsunagi_relay::line_setup::reconnect(
        &h.relay,
        &channel,
        ChannelSecret::new(NEW_SECRET),
        &setup,
    )
    .await
    .unwrap();
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");
}

/// LINE got no answer from the relay (a status of zero or less, no `success`): the test
/// step fails with LINE's reason and detail.
#[tokio::test]
async fn a_webhook_test_line_got_no_answer_to_fails_with_lines_reason_and_detail() {
    let h = Harness::start().await;
    let (sim, setup) = line(&h).await;
    sim.set_webhook_test_unanswered(Some(Unanswered::connection_refused(0)));
    let channel = ChannelId::from(NEW_CHANNEL);
    let steps = connect(&h.relay, &channel, ChannelSecret::new(NEW_SECRET), &setup)
        .await
        .unwrap();
    let test = steps.last().unwrap();
    assert_eq!((test.name.as_str(), test.ok), ("webhook test", false));
    assert_eq!(
        test.detail,
        format!(
            "LINE could not reach {}: COULD_NOT_CONNECT — Connection refused",
            setup.webhook_url(&channel)
        )
    );
    assert!(
        matches!(&test.problem, Some(SetupProblem::WebhookUnreached { reason, .. }) if reason == "COULD_NOT_CONNECT"),
        "{:?}",
        test.problem
    );
    assert!(steps[3].ok, "the URL is set and used: {steps:#?}");

    sim.set_webhook_test_unanswered(Some(Unanswered::connection_refused(-1)));
    let steps = tsunagi_relay::line_setup::reconnect(
        &h.relay,
        &channel,
        ChannelSecret::new(NEW_SECRET),
        &setup,
    )
    .await
    .unwrap();
    assert!(!steps.last().unwrap().ok, "{steps:#?}");
}

/// Setup logs the account's Chat and mark-as-read modes as LINE reports them, under the
/// executor's name, for the desks to offer what they allow.
#[tokio::test]
async fn setup_logs_the_accounts_chat_and_mark_as_read_modes_as_line_reports_them() {
    let h = Harness::start().await;
    let (_sim, setup) = line_with(&h, |config| {
        config.chat_mode = false;
        config.mark_as_read_auto = true;
    })
    .await;
    let channel = ChannelId::from(NEW_CHANNEL);
    connect(&h.relay, &channel, ChannelSecret::new(NEW_SECRET), &setup)
        .await
        .unwrap();
    let logged: Vec<(String, Operation)> = h
        .relay
        .store
        .read(&channel, Seq::ZERO, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|entry| match entry.body {
            EntryBody::Op {
                device,
                op: LoggedOp::Known(op),
                ..
            } => Some((device.as_str().to_owned(), op)),
            _ => None,
        })
        .collect();
    assert_eq!(
        logged,
        [(
            EXECUTOR_DEVICE.to_owned(),
            Operation::LineAccount(LineAccount {
                chat: false,
                marks_read_itself: true,
            })
        )]
    );
}
