//! The executor against linesim: automations, sends, and what survives a kill.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::value::RawValue;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_linesim::{
    ApiFaults, Clock, Config, Delivered, ManualClock, Simulator, SystemClock, TokenKind,
    UserAction, Via,
};
use tsunagi_proto::{
    ConversationId, ConversationMode, DeviceId, EXECUTOR_DEVICE, EntryBody, Greetings, LineAccount,
    LoggedOp, OpId, Operation, SendOp, Seq, Setting, UnixMillis,
};
use tsunagi_relay::Relay;
use tsunagi_relay::clock::Clock as RelayClock;
use tsunagi_relay::executor::{self, Options};
use tsunagi_relay::line_setup::LineSetup;
use tsunagi_relay::store::{AnyStore, Fence, LogStore as _, NewBody, NewEntry, StoreError};
use tsunagi_relay::testing::TestRelay;

use crate::{CHANNEL, SECRET};

const DESK: &str = "d-yuki";

/// linesim, and a relay whose webhooks it delivers, with the relay's executor running.
pub(crate) struct Clinic {
    pub(crate) sim: Simulator,
    pub(crate) relay: Arc<Relay<AnyStore>>,
    /// The relay's address.
    pub(crate) base: String,
    line: LineSetup,
    pub(crate) test: TestRelay,
    executor: Option<tokio::task::JoinHandle<()>>,
    /// How far the executor had folded the log when it last had nothing to do.
    idle: Arc<tokio::sync::watch::Sender<Seq>>,
    /// The calls that reached linesim, and those of them that ended.
    calls: LineCalls,
}

/// Counts the calls that reach linesim (every route: LINE, the model, Telegram) and those
/// that ended, each carried to its end even when its caller hung up: a call LINE takes
/// late or answers slowly has done all it will do once it ended.
#[derive(Clone)]
struct LineCalls(Arc<tokio::sync::watch::Sender<(u64, u64)>>);

impl LineCalls {
    fn new() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new((0, 0))))
    }

    /// Serves `sim` on a port of its own, counting its calls; its address.
    async fn serve(&self, sim: &Simulator) -> std::net::SocketAddr {
        let router = sim.router().layer(axum::middleware::from_fn_with_state(
            self.clone(),
            Self::count,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    async fn count(
        axum::extract::State(calls): axum::extract::State<LineCalls>,
        request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        calls.0.send_modify(|(arrived, _)| *arrived += 1);
        // In a task of its own, so that hanging up does not cut the call short.
        let call = tokio::spawn(async move {
            let answer = next.run(request).await;
            calls.0.send_modify(|(_, ended)| *ended += 1);
            answer
        });
        call.await.unwrap()
    }

    /// Waits until every call that reached linesim so far has ended.
    async fn all_ended(&self) {
        let mut calls = self.0.subscribe();
        tokio::time::timeout(
            Duration::from_secs(20),
            calls.wait_for(|(arrived, ended)| arrived == ended),
        )
        .await
        .expect("a call to linesim never ended")
        .unwrap();
    }
}

pub(crate) fn options(holder: &str) -> Options {
    Options {
        holder: holder.into(),
        lease: Duration::from_millis(900),
        scan: Duration::from_millis(50),
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        retry: tsunagi_line::retry::RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        // Often, so that every restart here starts from a snapshot.
        snapshot_every: 3,
        ..Options::default()
    }
}

impl Clinic {
    pub(crate) async fn start(configure: impl FnOnce(&mut Config)) -> Clinic {
        Self::start_on(configure, Arc::new(SystemClock)).await
    }

    /// linesim on `clock`, which judges reply tokens.
    async fn start_on(configure: impl FnOnce(&mut Config), clock: Arc<dyn Clock>) -> Clinic {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config::new(CHANNEL, SECRET, "long-lived");
        config.webhook_url = Some(format!("{base}/webhook/line/{CHANNEL}"));
        configure(&mut config);
        let sim = Simulator::with_clock(config, clock);
        let calls = LineCalls::new();
        let address = calls.serve(&sim).await;
        let test = TestRelay::builder()
            .listener(listener)
            .line(format!("http://{address}"))
            .start()
            .await;
        let line = test.relay.line().unwrap().clone();
        let mut clinic = Clinic {
            sim,
            relay: test.relay.clone(),
            base,
            line,
            test,
            executor: None,
            idle: Arc::new(tokio::sync::watch::Sender::new(Seq::ZERO)),
            calls,
        };
        clinic.run_executor(options("first"));
        clinic
    }

    pub(crate) fn run_executor(&mut self, options: Options) {
        let options = self.told_when_idle(options);
        self.executor = Some(tokio::spawn(executor::run(
            self.relay.clone(),
            self.line.clone(),
            options,
        )));
    }

    /// Runs the executor in another relay process whose clock reads `clock`.
    pub(crate) async fn run_executor_by(&mut self, clock: RelayClock, options: Options) {
        let relay = Arc::new(self.test.another_process().await.with_clock(clock));
        let options = self.told_when_idle(options);
        self.executor = Some(tokio::spawn(executor::run(
            relay,
            self.line.clone(),
            options,
        )));
    }

    /// The executor about to start tells this clinic when it is idle (not yet, so far).
    fn told_when_idle(&self, options: Options) -> Options {
        self.idle.send_replace(Seq::ZERO);
        Options {
            idle: Some(self.idle.clone()),
            ..options
        }
    }

    /// Waits until the executor has folded the whole log and has nothing left to do now:
    /// from then on, nothing more happens until something new is logged or comes due.
    pub(crate) async fn settled(&self) {
        let channel = ChannelId::from(CHANNEL);
        let within = Duration::from_secs(10);
        assert!(
            tsunagi_relay::testing::settled(&self.relay.store, &self.idle, &channel, within).await,
            "the executor never settled"
        );
    }

    /// Waits until every call that reached linesim so far has ended: what LINE takes late
    /// or answers slowly is done with.
    async fn line_is_done(&self) {
        self.calls.all_ended().await;
    }

    /// Closes the relay process the executor runs in, and waits for the executor to stop:
    /// it finishes what it is doing first (a call to LINE, and what it makes of the answer).
    async fn close(&mut self) {
        self.relay.close();
        if let Some(executor) = self.executor.take() {
            tokio::time::timeout(Duration::from_secs(10), executor)
                .await
                .expect("the executor never stopped")
                .unwrap();
        }
    }

    /// Who holds the channel's executor lease, read from the database itself.
    async fn lease_holder(&self) -> String {
        self.test.storage.lease_holder(CHANNEL).await
    }

    /// Stops the executor at once, wherever it is, as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(executor) = self.executor.take() {
            executor.abort();
        }
    }

    pub(crate) fn patient(&self, n: usize) -> UserId {
        let mut users = self.sim.users();
        users.sort_by(|a, b| a.user_id.as_str().cmp(b.user_id.as_str()));
        users[n].user_id.clone()
    }

    pub(crate) async fn says(&self, user: &UserId, text: &str) {
        let report = self
            .sim
            .say(user, UserAction::Text { text: text.into() })
            .await
            .unwrap();
        assert_eq!(report.attempt.status, Some(200));
    }

    /// Appends an op as a desk would.
    pub(crate) async fn desk(&self, op: Operation) -> OpId {
        self.desk_at(op, UnixMillis::now()).await
    }

    /// Appends an op as a desk would have, at `at`.
    async fn desk_at(&self, op: Operation, at: UnixMillis) -> OpId {
        self.desk_as(OpId::new(), op, at).await
    }

    /// Appends an op under `op_id`, straight into the store.
    async fn desk_as(&self, op_id: OpId, op: Operation, at: UnixMillis) -> OpId {
        let json = RawValue::from_string(serde_json::to_string(&op).unwrap()).unwrap();
        self.relay
            .store
            .append(
                &ChannelId::from(CHANNEL),
                vec![NewEntry {
                    at,
                    body: NewBody::Op {
                        op_id,
                        device: DeviceId::from(DESK),
                        role: None,
                        op: json,
                    },
                }],
            )
            .await
            .unwrap();
        op_id
    }

    pub(crate) async fn ops(&self) -> Vec<(DeviceId, Operation)> {
        self.relay
            .store
            .read(&ChannelId::from(CHANNEL), tsunagi_proto::Seq(0), 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.body {
                EntryBody::Op {
                    device,
                    op: LoggedOp::Known(op),
                    ..
                } => Some((device, op)),
                _ => None,
            })
            .collect()
    }

    /// The executor's ops, as logged so far.
    pub(crate) async fn executor_ops(&self) -> Vec<Operation> {
        self.ops()
            .await
            .into_iter()
            .filter(|(device, _)| device.as_str() == EXECUTOR_DEVICE)
            .map(|(_, op)| op)
            .collect()
    }

    /// The executor's ops, once `done` holds of them (within ten seconds).
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&[Operation]) -> bool,
    ) -> Vec<Operation> {
        for _ in 0..500 {
            let ops = self.executor_ops().await;
            if done(&ops) {
                return ops;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never: {what}\n{:#?}", self.ops().await);
    }

    pub(crate) fn texts(&self, user: &UserId) -> Vec<(Via, String)> {
        self.sim
            .inbox(user.as_str())
            .into_iter()
            .map(|Delivered { via, message, .. }| {
                (via, message["text"].as_str().unwrap_or("").to_owned())
            })
            .collect()
    }
}

pub(crate) fn count<F: Fn(&Operation) -> bool>(ops: &[Operation], f: F) -> usize {
    ops.iter().filter(|op| f(op)).count()
}

pub(crate) fn is_sent(op: &Operation) -> bool {
    matches!(op, Operation::Sent { .. })
}

pub(crate) fn send(to: &UserId, texts: &[&str]) -> Operation {
    Operation::Send(SendOp {
        conversation: ConversationId::from(to.as_str()),
        messages: texts.iter().map(|t| Message::text(*t)).collect(),
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    })
}

#[tokio::test]
async fn a_follow_gets_the_greeting_once_by_reply_and_the_profile_is_logged() {
    let clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::Greetings(Greetings {
            follow: Some("ยินดีต้อนรับสู่คลินิกค่ะ".into()),
            refollow: None,
            handoff: None,
            clinic: None,
        })))
        .await;
    let patient = clinic.patient(0);
    clinic.sim.say(&patient, UserAction::Follow).await.unwrap();
    clinic
        .wait_for("the greeting is sent and the profile logged", |ops| {
            count(ops, is_sent) == 1
                && count(ops, |op| matches!(op, Operation::Profiles { .. })) == 1
        })
        .await;
    clinic.settled().await;
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Reply, "ยินดีต้อนรับสู่คลินิกค่ะ".to_owned())]
    );
}

#[tokio::test]
async fn a_greeting_that_says_the_name_reaches_the_follower_with_their_name_by_reply() {
    let clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::Greetings(Greetings {
            follow: Some("Welcome, {{name}}! {{clinic}} is glad to have you.".into()),
            refollow: None,
            handoff: None,
            clinic: Some("Sakura Clinic".into()),
        })))
        .await;
    let patient = clinic.patient(0);
    let name = clinic
        .sim
        .users()
        .into_iter()
        .find(|u| u.user_id == patient)
        .unwrap()
        .display_name;
    clinic.sim.say(&patient, UserAction::Follow).await.unwrap();
    clinic
        .wait_for("the greeting", |ops| count(ops, is_sent) == 1)
        .await;
    assert_eq!(
        clinic.texts(&patient),
        [(
            Via::Reply,
            format!("Welcome, {name}! Sakura Clinic is glad to have you.")
        )]
    );
}

/// What the bot knows survives a restart through its snapshot (or, when the snapshot cannot
/// be read, through the whole log): a chat with people stays with them, and the next send
/// goes once.
#[tokio::test]
async fn a_restart_resumes_from_the_executors_snapshot_or_from_the_log_when_it_is_unreadable() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::KeywordRules {
            rules: vec![tsunagi_proto::KeywordRule {
                pattern: "hours".into(),
                matching: tsunagi_proto::KeywordMatch::Contains,
                language: None,
                reply: vec![Message::text("We open 9–18.")],
            }],
        }))
        .await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "スタッフと話したいです").await;
    clinic
        .wait_for("the queue message", |ops| count(ops, is_sent) == 1)
        .await;
    clinic.kill();
    let channel = ChannelId::from(CHANNEL);
    let (seq, _) = clinic
        .relay
        .store
        .executor_snapshot(&channel)
        .await
        .unwrap()
        .expect("a snapshot was kept");
    assert!(seq.0 >= 3, "{seq}");

    for (round, holder) in ["from-snapshot", "from-log"].into_iter().enumerate() {
        if holder == "from-log" {
            clinic.kill();
            clinic
                .test
                .storage
                .execute("UPDATE executor_snapshots SET state = $1", vec![0x00, 0xff])
                .await;
        }
        clinic.run_executor(options(holder));
        // With people: a keyword gets no bot answer.
        clinic.says(&patient, "what are your hours?").await;
        clinic
            .desk(send(&patient, &[&format!("answer {round}")]))
            .await;
        clinic
            .wait_for("the answer", |ops| count(ops, is_sent) == 2 + round)
            .await;
        clinic.settled().await;
        let texts: Vec<String> = clinic.texts(&patient).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts.len(), 2 + round, "{texts:?}");
        assert_eq!(texts.last().unwrap(), &format!("answer {round}"));
        assert!(!texts.iter().any(|t| t.contains("9–18")), "{texts:?}");
    }
}

#[tokio::test]
async fn a_handoff_phrase_in_thai_japanese_and_chinese_queues_the_chat_and_then_the_bot_is_silent()
{
    let clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::KeywordRules {
            rules: vec![tsunagi_proto::KeywordRule {
                pattern: "hours".into(),
                matching: tsunagi_proto::KeywordMatch::Contains,
                language: None,
                reply: vec![Message::text("We open 9–18.")],
            }],
        }))
        .await;
    for (n, phrase) in ["ขอคุยกับเจ้าหน้าที่ค่ะ", "スタッフと話したいです", "我要真人客服"]
        .into_iter()
        .enumerate()
    {
        let patient = clinic.patient(n);
        clinic.says(&patient, phrase).await;
        let chat = ConversationId::from(patient.as_str());
        clinic
            .wait_for("the chat goes to people with an alert", |ops| {
                ops.iter().any(|op| {
                    matches!(op, Operation::SetMode { conversation, mode: ConversationMode::Human } if *conversation == chat)
                }) && ops
                    .iter()
                    .any(|op| matches!(op, Operation::Alert { conversation, .. } if *conversation == chat))
            })
            .await;
        clinic
            .wait_for("the queue message is sent", |ops| {
                count(ops, is_sent) == n + 1
            })
            .await;
        let texts = clinic.texts(&patient);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert_eq!(texts[0].0, Via::Reply);
        assert!(
            texts[0].1.contains(&format!("{}", n + 1)),
            "the queue position is in {:?}",
            texts[0].1
        );
    }
    // A keyword while people hold the chat: the bot stays quiet.
    let patient = clinic.patient(0);
    clinic.says(&patient, "what are your hours?").await;
    let other = clinic.patient(5);
    clinic.says(&other, "what are your hours?").await;
    clinic
        .wait_for("the bot answers the chat it still has", |ops| {
            count(ops, is_sent) == 4
        })
        .await;
    clinic.settled().await;
    assert_eq!(clinic.texts(&patient).len(), 1);
    assert_eq!(
        clinic.texts(&other),
        [(Via::Reply, "We open 9–18.".to_owned())]
    );
}

#[tokio::test]
async fn an_operators_send_replies_while_the_token_is_fresh_and_pushes_once_it_is_stale() {
    let mut clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "hello").await;
    clinic.desk(send(&patient, &["fresh"])).await;
    clinic
        .wait_for("the first send", |ops| count(ops, is_sent) == 1)
        .await;

    // An executor that sees the token a minute old pushes.
    clinic.kill();
    clinic.says(&patient, "hello again").await;
    clinic
        .run_executor_by(
            RelayClock::new(|| UnixMillis(UnixMillis::now().0 + 60_000)),
            options("late"),
        )
        .await;
    clinic.desk(send(&patient, &["stale"])).await;
    clinic
        .wait_for("the second send", |ops| count(ops, is_sent) == 2)
        .await;
    assert_eq!(
        clinic.texts(&patient),
        [
            (Via::Reply, "fresh".to_owned()),
            (Via::Push, "stale".to_owned())
        ]
    );
}

#[tokio::test]
async fn more_than_five_messages_go_out_five_at_a_time() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "please send the forms").await;
    let texts: Vec<String> = (1..=12).map(|n| format!("form {n}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    clinic.desk(send(&patient, &refs)).await;
    let ops = clinic
        .wait_for("the send", |ops| count(ops, is_sent) == 1)
        .await;
    let delivered = clinic.texts(&patient);
    assert_eq!(
        delivered
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>(),
        refs
    );
    let vias: Vec<Via> = delivered.iter().map(|(via, _)| *via).collect();
    assert_eq!(vias[..5], [Via::Reply; 5]);
    assert_eq!(vias[5..], [Via::Push; 7]);
    let ids = ops.iter().find_map(|op| match op {
        Operation::Sent { message_ids, .. } => Some(message_ids.len()),
        _ => None,
    });
    assert_eq!(ids, Some(12));
}

#[tokio::test]
async fn line_failing_for_a_while_delays_a_send_but_never_repeats_it() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    clinic.sim.set_api_faults(ApiFaults {
        fail_next: 7,
        ..ApiFaults::default()
    });
    clinic.desk(send(&patient, &["after the outage"])).await;
    clinic
        .wait_for("the send after the outage", |ops| count(ops, is_sent) == 1)
        .await;
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Push, "after the outage".to_owned())]
    );
}

#[tokio::test]
async fn a_refusal_fails_the_send_at_once_with_lines_reason() {
    let clinic = Clinic::start(|config| config.monthly_quota = Some(0)).await;
    let patient = clinic.patient(0);
    let op = clinic.desk(send(&patient, &["over quota"])).await;
    let ops = clinic
        .wait_for("the failure", |ops| {
            count(ops, |op| matches!(op, Operation::SendFailed { .. })) == 1
        })
        .await;
    let (reason, request_id) = ops
        .iter()
        .find_map(|o| match o {
            Operation::SendFailed {
                send,
                reason,
                request_id,
                ..
            } if *send == op => Some((reason.clone(), request_id.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(reason, "You have reached your monthly limit.");
    // What LINE's support asks for, kept with the refusal.
    assert!(request_id.is_some_and(|id| !id.is_empty()));
    assert!(clinic.texts(&patient).is_empty());
}

/// Kills the executor while LINE is carrying out a send (LINE did it; its answer is still
/// on the way), starts another, and counts what the patient received.
async fn kill_while_line_answers(by_reply: bool) {
    let mut clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    // The executor's first calls (its token, the patient's profile) are behind it.
    clinic.says(&patient, "hello").await;
    clinic
        .wait_for("the profile", |ops| {
            count(ops, |op| matches!(op, Operation::Profiles { .. })) == 1
        })
        .await;
    clinic.sim.set_api_faults(ApiFaults {
        slow_next: 1,
        slow_ms: 3_000,
        ..ApiFaults::default()
    });
    let mut send = send(&patient, &["exactly once"]);
    if let Operation::Send(send) = &mut send {
        send.prefer_reply_token = by_reply;
    }
    let op = clinic.desk(send).await;
    // LINE has delivered; the executor still waits for its answer.
    for _ in 0..1000 {
        if !clinic.sim.inbox(patient.as_str()).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(clinic.sim.inbox(patient.as_str()).len(), 1);
    clinic.kill();
    assert_eq!(
        count(&clinic.wait_for("nothing", |_| true).await, is_sent),
        0
    );

    clinic.run_executor(options("restarted"));
    let ops = clinic
        .wait_for("the outcome, logged after the restart", |ops| {
            count(ops, is_sent) == 1
        })
        .await;
    clinic.settled().await;
    let via = if by_reply { Via::Reply } else { Via::Push };
    assert_eq!(clinic.texts(&patient), [(via, "exactly once".to_owned())]);
    assert!(
        ops.iter()
            .any(|o| matches!(o, Operation::Sent { send, .. } if *send == op))
    );
}

#[tokio::test]
async fn a_kill_between_lines_reply_and_its_outcome_still_delivers_exactly_once() {
    kill_while_line_answers(true).await;
}

#[tokio::test]
async fn a_kill_between_lines_push_and_its_outcome_still_delivers_exactly_once() {
    kill_while_line_answers(false).await;
}

#[tokio::test]
async fn two_executors_on_one_database_take_turns_and_each_send_goes_out_once() {
    let mut clinic = Clinic::start(|_| {}).await;
    // A second relay process on the same file, its own executor competing for the lease.
    let second = Arc::new(clinic.test.another_process().await);
    let second_executor = tokio::spawn(executor::run(
        second.clone(),
        clinic.line.clone(),
        clinic.told_when_idle(options("second")),
    ));
    let patient = clinic.patient(0);
    for n in 0..5 {
        clinic
            .desk(send(&patient, &[&format!("message {n}")]))
            .await;
    }
    clinic
        .wait_for("five sends", |ops| count(ops, is_sent) == 5)
        .await;
    // The first relay dies; the second takes over once the lease lapses.
    clinic.kill();
    for n in 5..10 {
        clinic
            .desk(send(&patient, &[&format!("message {n}")]))
            .await;
    }
    let ops = clinic
        .wait_for("ten sends", |ops| count(ops, is_sent) == 10)
        .await;
    clinic.settled().await;
    let texts: Vec<String> = clinic.texts(&patient).into_iter().map(|(_, t)| t).collect();
    let expected: Vec<String> = (0..10).map(|n| format!("message {n}")).collect();
    assert_eq!(texts, expected);
    assert_eq!(count(&ops, is_sent), 10);
    second_executor.abort();
}

/// The ops logged about `send`: its attempts, and how it ended.
fn attempts(ops: &[Operation], of: OpId) -> Vec<Operation> {
    ops.iter()
        .filter(|op| match op {
            Operation::Sending { send, .. }
            | Operation::NotSent { send, .. }
            | Operation::Sent { send, .. }
            | Operation::SendFailed { send, .. } => *send == of,
            _ => false,
        })
        .cloned()
        .collect()
}

fn pushed_after_reply(ops: &[Operation]) -> bool {
    ops.iter().any(|op| {
        matches!(
            op,
            Operation::Sending {
                via: tsunagi_proto::Delivery::Push,
                ..
            }
        )
    })
}

/// A patient who has written (so a reply token is fresh) and whose profile is fetched,
/// so that the executor's next LINE call is the send.
async fn patient_who_wrote(clinic: &Clinic) -> UserId {
    let patient = clinic.patient(0);
    clinic.says(&patient, "hello").await;
    clinic
        .wait_for("the profile", |ops| {
            count(ops, |op| matches!(op, Operation::Profiles { .. })) == 1
        })
        .await;
    patient
}

/// A reply LINE carried out without saying so ends "may not have arrived": never pushed
/// after, which would answer the patient twice and count a push.
async fn a_reply_line_may_have_carried_out(faults: ApiFaults) {
    let clinic = Clinic::start(|_| {}).await;
    let patient = patient_who_wrote(&clinic).await;
    clinic.sim.set_api_faults(faults);
    let op = clinic.desk(send(&patient, &["once"])).await;
    let ops = clinic
        .wait_for("the outcome", |ops| {
            count(ops, |o| matches!(o, Operation::SendFailed { .. })) == 1
        })
        .await;
    // A slow answer comes after the executor stopped waiting, to a call it hung up on:
    // nothing it does comes from it. Once the executor is idle, it has done all it will.
    clinic.settled().await;
    assert_eq!(clinic.texts(&patient), [(Via::Reply, "once".to_owned())]);
    let ops = [ops, clinic.executor_ops().await].concat();
    assert!(!pushed_after_reply(&ops), "{:#?}", attempts(&ops, op));
    assert_eq!(count(&ops, is_sent), 0);
    match attempts(&ops, op).last() {
        Some(Operation::SendFailed {
            unconfirmed,
            reason,
            ..
        }) => assert!(*unconfirmed, "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_reply_whose_answer_is_lost_is_not_pushed_and_may_not_have_arrived() {
    // LINE carries the reply out at once and answers long after the executor stops
    // waiting; asking again, it hears that the token is spent.
    a_reply_line_may_have_carried_out(ApiFaults {
        slow_next: 1,
        slow_ms: 2_000,
        ..ApiFaults::default()
    })
    .await;
}

#[tokio::test]
async fn a_reply_line_carried_out_and_answered_500_is_not_pushed_and_may_not_have_arrived() {
    a_reply_line_may_have_carried_out(ApiFaults {
        done_then_fail_next: 1,
        ..ApiFaults::default()
    })
    .await;
}

#[tokio::test]
async fn a_reply_line_answered_500_without_doing_it_goes_once_on_the_same_token() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = patient_who_wrote(&clinic).await;
    clinic.sim.set_api_faults(ApiFaults {
        fail_next: 1,
        ..ApiFaults::default()
    });
    let op = clinic.desk(send(&patient, &["once"])).await;
    let ops = clinic
        .wait_for("the outcome", |ops| count(ops, is_sent) == 1)
        .await;
    assert_eq!(clinic.texts(&patient), [(Via::Reply, "once".to_owned())]);
    assert!(!pushed_after_reply(&ops), "{:#?}", attempts(&ops, op));
}

/// LINE answering 500 for longer than a reply token lives: each 500 may have been carried
/// out, so the send ends "may not have arrived" rather than pushed after the outage.
#[tokio::test]
async fn a_reply_line_answered_500_until_its_token_lapsed_is_not_pushed_and_may_not_have_arrived() {
    let line_clock = ManualClock::starting_at(UnixMillis::now().0);
    let clinic = Clinic::start_on(|_| {}, Arc::new(line_clock.clone())).await;
    let patient = patient_who_wrote(&clinic).await;
    clinic.sim.set_api_faults(ApiFaults {
        fail_next: u32::MAX,
        ..ApiFaults::default()
    });
    let op = clinic.desk(send(&patient, &["after the outage"])).await;
    clinic
        .wait_for("an attempt LINE answered 500", |ops| {
            count(
                ops,
                |o| matches!(o, Operation::Unanswered { send, .. } if *send == op),
            ) > 0
        })
        .await;
    // LINE is back, and has let the token lapse meanwhile.
    line_clock.advance(Duration::from_secs(61));
    clinic.sim.set_api_faults(ApiFaults::default());
    let ops = clinic
        .wait_for("the outcome", |ops| {
            count(ops, |o| matches!(o, Operation::SendFailed { .. })) == 1
        })
        .await;
    assert!(clinic.texts(&patient).is_empty());
    assert!(!pushed_after_reply(&ops), "{:#?}", attempts(&ops, op));
    assert!(matches!(
        attempts(&ops, op).pop(),
        Some(Operation::SendFailed {
            unconfirmed: true,
            request_id: None,
            ..
        })
    ));
}

/// However it got there (a device before the relay checked op ids, a restored backup),
/// a log holding something else under a send's outcome id must not jam the channel: the
/// executor sets the send aside, longer each time, and delivers what is behind it.
#[tokio::test]
async fn a_send_whose_outcome_cannot_be_logged_is_set_aside_and_the_sends_behind_it_go() {
    let mut clinic = Clinic::start(|_| {}).await;
    let (first, second) = (clinic.patient(0), clinic.patient(1));
    clinic.kill();
    let push = |to: &UserId, text: &str| {
        let mut op = send(to, &[text]);
        if let Operation::Send(send) = &mut op {
            send.prefer_reply_token = false;
        }
        op
    };
    let jammed = clinic.desk(push(&first, "jammed")).await;
    let squatter = Operation::Note {
        contact: first.clone(),
        text: "logged first under the outcome's id".into(),
    };
    clinic
        .desk_as(
            OpId::derived(&format!("sent/{jammed}")),
            squatter,
            UnixMillis::now(),
        )
        .await;
    clinic.desk(push(&second, "behind it")).await;
    clinic.run_executor(options("restarted"));

    clinic
        .wait_for("the send behind it", |ops| count(ops, is_sent) == 1)
        .await;
    assert_eq!(clinic.texts(&second), [(Via::Push, "behind it".to_owned())]);
    // LINE took the first once; its retry key turned every repeat into a 409.
    assert_eq!(clinic.texts(&first), [(Via::Push, "jammed".to_owned())]);
    // Tried again and again, set aside after each try, twice as long each time: 20 ms,
    // then 40, 80, 160, and 200 from then on here.
    let set_aside = || {
        let metrics = clinic.relay.store.metrics().encode();
        metrics
            .lines()
            .find(|l| l.starts_with("tsunagi_relay_executor_set_aside_total"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let wait = |times: u32| Duration::from_millis((20 << (times - 1).min(4)).min(200));
    // Set aside `k` times, then (at least) `k + 4`: the waits after the set-asides `k + 1`
    // to `k + 3` all passed in between. A bound below, not a measure of speed: a slow
    // machine only adds to it, and it fails only if the executor waits less.
    let from = std::time::Instant::now();
    let k = set_aside();
    let deadline = from + Duration::from_secs(10);
    while set_aside() < k + 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "set aside {} times",
            set_aside()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let waits: Duration = (k + 1..k + 4).map(wait).sum();
    assert!(
        from.elapsed() > waits,
        "set aside {k} times, then {} within {:?}: less than the {waits:?} its waits take",
        set_aside(),
        from.elapsed()
    );
    // Not called in a loop: while it is set aside the executor rests, and a loop would
    // never leave it idle after the send behind it.
    clinic.settled().await;
    // One push each time (the send behind it aside), each one set aside: the counts read
    // at one moment, the set-aside count unchanged round the pushes'.
    let (times, pushes) = loop {
        let times = set_aside();
        let pushes = clinic
            .sim
            .api_calls()
            .iter()
            .filter(|path| path.as_str() == "/v2/bot/message/push")
            .count();
        let pushes = u32::try_from(pushes).unwrap() - 1;
        if set_aside() == times {
            break (times, pushes);
        }
    };
    assert!(
        (times..=times + 1).contains(&pushes),
        "{pushes} pushes of the jammed send, set aside {times} times"
    );
}

#[tokio::test]
async fn a_call_that_reaches_line_after_the_lease_would_lapse_is_cut_short_and_goes_once() {
    // A lease long enough that a database slowed by the other tests running beside this
    // one never makes its holder miss a renewal: the scenario is the late call, not a
    // slow renewal.
    let lease = Duration::from_millis(1_800);
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    clinic.run_executor(Options {
        lease,
        ..options("first")
    });
    let second = Arc::new(clinic.test.another_process().await);
    let second_executor = tokio::spawn(executor::run(
        second,
        clinic.line.clone(),
        Options {
            lease,
            ..options("second")
        },
    ));
    let patient = patient_who_wrote(&clinic).await;
    // The reply reaches LINE a lease and a half late; the other process must not be able
    // to think its holder gone meanwhile.
    let late = lease * 3 / 2;
    clinic.sim.set_api_faults(ApiFaults {
        late_next: 1,
        late_ms: u64::try_from(late.as_millis()).unwrap(),
        ..ApiFaults::default()
    });
    let op = clinic.desk(send(&patient, &["once"])).await;
    clinic
        .wait_for("the outcome", |ops| count(ops, is_sent) == 1)
        .await;
    // The late request has reached LINE and been answered, and the executor is idle.
    clinic.line_is_done().await;
    clinic.settled().await;
    let ops = clinic.executor_ops().await;
    assert_eq!(clinic.texts(&patient), [(Via::Reply, "once".to_owned())]);
    assert!(!pushed_after_reply(&ops), "{:#?}", attempts(&ops, op));
    assert_eq!(
        clinic.lease_holder().await,
        "first",
        "the holder kept its lease through the slow call"
    );
    second_executor.abort();
    clinic.kill();
}

/// A process whose lease passed to another while its call was on the way (as if it had
/// been paused past the lease): when LINE refuses it the spent token, it must neither
/// log nor push.
#[tokio::test]
async fn a_process_that_lost_its_lease_mid_call_makes_no_more_calls_and_logs_nothing() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    clinic.run_executor(Options {
        lease: Duration::from_secs(3),
        ..options("paused")
    });
    let patient = patient_who_wrote(&clinic).await;
    clinic.sim.set_api_faults(ApiFaults {
        late_next: 1,
        late_ms: 600,
        ..ApiFaults::default()
    });
    let op = clinic.desk(send(&patient, &["once"])).await;
    clinic
        .wait_for("the attempt", |ops| {
            count(
                ops,
                |o| matches!(o, Operation::Sending { send, .. } if *send == op),
            ) == 1
        })
        .await;
    // Another process, to which the first one's lease has long lapsed, takes over and
    // answers while the first one's reply is still on its way.
    let second = Arc::new(
        clinic
            .test
            .another_process()
            .await
            .with_clock(RelayClock::new(|| UnixMillis(UnixMillis::now().0 + 10_000))),
    );
    let second_executor = tokio::spawn(executor::run(
        second,
        clinic.line.clone(),
        options("second"),
    ));
    clinic
        .wait_for("the outcome", |ops| count(ops, is_sent) == 1)
        .await;
    // The paused process stops once it is done with its late reply's answer (a spent
    // token): whatever it would log or send on it, it has. And LINE is done with every
    // call it had.
    clinic.close().await;
    clinic.line_is_done().await;
    let ops = clinic.executor_ops().await;
    assert_eq!(clinic.texts(&patient), [(Via::Reply, "once".to_owned())]);
    assert!(!pushed_after_reply(&ops), "{:#?}", attempts(&ops, op));
    second_executor.abort();
}

#[tokio::test]
async fn an_append_under_a_lapsed_or_taken_lease_is_refused_and_writes_nothing() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    let store = &clinic.relay.store;
    let channel = ChannelId::from(CHANNEL);
    // Well after the test's own executor's lease.
    let t = UnixMillis(UnixMillis::now().0 + 60_000);
    let later = |ms: i64| UnixMillis(t.0 + ms);
    let entry = |n: u128| NewEntry {
        at: t,
        body: NewBody::Op {
            op_id: OpId(uuid::Uuid::from_u128(n)),
            device: DeviceId::from(EXECUTOR_DEVICE),
            role: None,
            op: RawValue::from_string(serde_json::to_string(&Operation::SyncFollowers).unwrap())
                .unwrap(),
        },
    };
    let fence = |holder: &str, now| Fence {
        holder: holder.into(),
        now,
    };
    assert!(
        store
            .lease_executor(&channel, "a", t, later(1_000))
            .await
            .unwrap()
    );
    store
        .append_fenced(&channel, fence("a", later(10)), vec![entry(1)])
        .await
        .expect("the holder appends");
    let head = store.head(&channel).await.unwrap();
    for (who, now) in [("b", later(20)), ("a", later(1_000))] {
        assert_eq!(
            store
                .append_fenced(&channel, fence(who, now), vec![entry(2)])
                .await,
            Err(StoreError::LeaseLost(channel.clone())),
            "{who} at +{}",
            now.0 - t.0
        );
    }
    assert!(
        store
            .lease_executor(&channel, "b", later(1_500), later(2_500))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .append_fenced(&channel, fence("a", later(1_600)), vec![entry(2)])
            .await,
        Err(StoreError::LeaseLost(channel.clone()))
    );
    assert_eq!(store.head(&channel).await.unwrap(), head);
}

#[tokio::test]
async fn while_closed_the_away_reply_goes_once_a_day_and_a_handoff_waits() {
    let clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::BusinessHours(
            tsunagi_proto::BusinessHours {
                time_zone: "Asia/Tokyo".into(),
                // Never open: every message arrives outside hours.
                open: vec![],
                holidays: vec![],
                away_message: Some("本日の診療は終了しました。".into()),
            },
        )))
        .await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "こんばんは").await;
    clinic.says(&patient, "スタッフと話したいです").await;
    clinic.says(&patient, "まだですか").await;
    let ops = clinic
        .wait_for("the away reply", |ops| count(ops, is_sent) == 1)
        .await;
    clinic.settled().await;
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Reply, "本日の診療は終了しました。".to_owned())]
    );
    assert!(
        !ops.iter().any(|op| matches!(op, Operation::SetMode { .. })),
        "the handoff waits for opening: {ops:#?}"
    );
}

#[tokio::test]
async fn an_idle_session_is_closed_and_the_patient_asked_for_a_rating() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic
        .desk(Operation::Settings(Setting::Handoff(
            tsunagi_proto::HandoffSettings {
                keywords: vec![],
                auto_close_minutes: Some(30),
                csat: true,
                ..Default::default()
            },
        )))
        .await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "hello").await;
    let chat = ConversationId::from(patient.as_str());
    clinic
        .desk(Operation::Claim {
            conversation: chat.clone(),
        })
        .await;
    clinic.desk(send(&patient, &["How can I help?"])).await;
    clinic
        .wait_for("the answer", |ops| count(ops, is_sent) == 1)
        .await;
    clinic.settled().await;
    assert!(
        !clinic
            .wait_for("nothing", |_| true)
            .await
            .iter()
            .any(|op| matches!(op, Operation::Close { .. })),
        "closed before it was idle"
    );

    // Half an hour later, by the executor's clock.
    clinic.kill();
    clinic
        .run_executor_by(
            RelayClock::new(|| UnixMillis(UnixMillis::now().0 + 31 * 60_000)),
            options("later"),
        )
        .await;
    let ops = clinic
        .wait_for("the close and the rating question", |ops| {
            ops.iter()
                .any(|op| matches!(op, Operation::Close { conversation } if *conversation == chat))
                && count(ops, is_sent) == 2
        })
        .await;
    assert_eq!(count(&ops, |op| matches!(op, Operation::Close { .. })), 1);
    let inbox = clinic.sim.inbox(patient.as_str());
    assert_eq!(inbox.len(), 2);
    let items = inbox[1].message["quickReply"]["items"].as_array().unwrap();
    let ratings: Vec<&str> = items
        .iter()
        .map(|i| i["action"]["data"].as_str().unwrap())
        .collect();
    assert_eq!(
        ratings,
        [
            "tsunagi:csat:1",
            "tsunagi:csat:2",
            "tsunagi:csat:3",
            "tsunagi:csat:4",
            "tsunagi:csat:5"
        ]
    );
}

/// A clinic whose 1,200 patients all follow the account, known to the log by a follower
/// sync's profiles.
async fn clinic_of_1200(quota: Option<u64>) -> Clinic {
    let clinic = Clinic::start(|config| {
        config.users = tsunagi_linesim::population::followers(1_200, 7);
        config.monthly_quota = quota;
    })
    .await;
    let profiles = clinic
        .sim
        .users()
        .into_iter()
        .map(|u| tsunagi_proto::ContactProfile {
            user_id: u.user_id,
            display_name: u.display_name,
            picture_url: None,
            status_message: None,
            language: Some(u.language),
            follower: true,
        })
        .collect();
    clinic
        .relay
        .store
        .append(
            &ChannelId::from(CHANNEL),
            vec![NewEntry {
                at: UnixMillis::now(),
                body: NewBody::Op {
                    op_id: OpId::new(),
                    device: DeviceId::from(EXECUTOR_DEVICE),
                    role: None,
                    op: RawValue::from_string(
                        serde_json::to_string(&Operation::Profiles { profiles }).unwrap(),
                    )
                    .unwrap(),
                },
            }],
        )
        .await
        .unwrap();
    clinic
}

fn reminder(text: &str, to: tsunagi_proto::Audience) -> Operation {
    Operation::ScheduleReminder(tsunagi_proto::Reminder {
        text: text.into(),
        date: Some("12月1日".into()),
        time: Some("10:30".into()),
        clinic: Some("さくらクリニック".into()),
        at: UnixMillis(UnixMillis::now().0 - 1_000),
        to,
    })
}

fn results(ops: &[Operation]) -> Vec<tsunagi_proto::RecipientResult> {
    ops.iter()
        .filter_map(|op| match op {
            Operation::ReminderDelivered { results, .. } => Some(results.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test]
async fn a_reminder_to_1200_followers_goes_in_three_multicasts_with_a_record_for_each() {
    let clinic = clinic_of_1200(None).await;
    clinic
        .desk(reminder(
            "{{clinic}}: {{date}} {{time}} のご予約をお忘れなく。",
            tsunagi_proto::Audience::Following,
        ))
        .await;
    let ops = clinic
        .wait_for("three parts delivered", |ops| {
            count(ops, |op| matches!(op, Operation::ReminderDelivered { .. })) == 3
        })
        .await;
    let results = results(&ops);
    assert_eq!(results.len(), 1_200);
    assert!(
        results
            .iter()
            .all(|r| r.outcome == tsunagi_proto::RecipientOutcome::Sent)
    );
    let mut requests = std::collections::BTreeSet::new();
    for user in clinic.sim.users() {
        let inbox = clinic.sim.inbox(user.user_id.as_str());
        assert_eq!(inbox.len(), 1, "{}", user.user_id);
        assert_eq!(inbox[0].via, Via::Multicast);
        assert_eq!(
            inbox[0].message["text"],
            "さくらクリニック: 12月1日 10:30 のご予約をお忘れなく。"
        );
        requests.insert(inbox[0].request_id.clone());
    }
    assert_eq!(requests.len(), 3, "one multicast per 500 recipients");
}

#[tokio::test]
async fn when_the_months_quota_runs_out_the_rest_of_a_reminder_fails_clearly() {
    let clinic = clinic_of_1200(Some(600)).await;
    clinic
        .desk(reminder(
            "Your check-up is on {{date}}.",
            tsunagi_proto::Audience::Following,
        ))
        .await;
    let ops = clinic
        .wait_for("every part recorded", |ops| {
            count(ops, |op| matches!(op, Operation::ReminderDelivered { .. })) == 3
        })
        .await;
    let results = results(&ops);
    let sent = results
        .iter()
        .filter(|r| r.outcome == tsunagi_proto::RecipientOutcome::Sent)
        .count();
    let over_quota = results
        .iter()
        .filter(|r| {
            matches!(&r.outcome, tsunagi_proto::RecipientOutcome::Failed { reason }
                if reason == "You have reached your monthly limit.")
        })
        .count();
    assert_eq!((sent, over_quota), (500, 700));
    assert_eq!(clinic.sim.consumption(), 500);
    // Nothing is retried afterwards.
    clinic.settled().await;
    assert_eq!(
        count(&clinic.wait_for("nothing", |_| true).await, |op| matches!(
            op,
            Operation::ReminderDelivered { .. }
        )),
        3
    );
}

#[tokio::test]
async fn a_named_reminder_is_pushed_to_each_and_a_reply_goes_to_whoever_scheduled_it() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let blocked = clinic
        .sim
        .users()
        .into_iter()
        .find(|u| u.follows && !u.blocked && u.user_id != patient)
        .expect("another following patient");
    clinic.says(&patient, "hello").await;
    clinic
        .wait_for("the profile", |ops| {
            count(ops, |op| matches!(op, Operation::Profiles { .. })) == 1
        })
        .await;
    let name = clinic
        .sim
        .users()
        .into_iter()
        .find(|u| u.user_id == patient)
        .unwrap()
        .display_name;
    clinic
        .desk(reminder(
            "{{name}}様、{{date}}のご予約です。",
            tsunagi_proto::Audience::Contact {
                user: patient.clone(),
            },
        ))
        .await;
    // The other patient blocks the account (LINE tells the relay with an unfollow).
    clinic
        .sim
        .say(&blocked.user_id, UserAction::Unfollow)
        .await
        .unwrap();
    clinic
        .desk(reminder(
            "{{name}}様、{{date}}のご予約です。",
            tsunagi_proto::Audience::Contact {
                user: blocked.user_id.clone(),
            },
        ))
        .await;
    let ops = clinic
        .wait_for("both reminders recorded", |ops| {
            count(ops, |op| matches!(op, Operation::ReminderDelivered { .. })) == 2
        })
        .await;
    let outcomes: Vec<_> = results(&ops).into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            tsunagi_proto::RecipientOutcome::Sent,
            tsunagi_proto::RecipientOutcome::Blocked
        ]
    );
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Push, format!("{name}様、12月1日のご予約です。"))]
    );

    // The patient answers: the chat is Yuki's, who scheduled the reminder.
    clinic.says(&patient, "変更したいです").await;
    let chat = ConversationId::from(patient.as_str());
    clinic
        .wait_for("the chat assigned to the scheduler", |ops| {
            ops.iter().any(|op| {
                matches!(op, Operation::Transfer { conversation, to }
                    if *conversation == chat && to.as_str() == DESK)
            })
        })
        .await;
}

impl Clinic {
    /// `GET path` on the relay as a device of the channel: status, content type, bytes.
    async fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        let response = self.request(path).await.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    /// A request for `path` as a newly enrolled device of the channel.
    async fn request(&self, path: &str) -> reqwest::RequestBuilder {
        let code = self
            .relay
            .invite(
                &ChannelId::from(CHANNEL),
                tsunagi_proto::api::Role::Staff,
                None,
            )
            .await
            .unwrap()
            .code;
        let enrolled = self
            .relay
            .enroll(&tsunagi_proto::api::Enroll {
                code,
                device_name: "front desk".into(),
                operator_name: "Yuki".into(),
            })
            .await
            .unwrap();
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&enrolled.token)
    }

    /// What linesim itself serves for a message's media.
    async fn line_has(&self, message: &str, preview: bool) -> Vec<u8> {
        let suffix = if preview { "/preview" } else { "" };
        reqwest::Client::new()
            .get(format!(
                "{}/v2/bot/message/{message}/content{suffix}",
                self.line.data_base
            ))
            .bearer_auth("long-lived")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }

    async fn media_outcome(&self, message: &str) -> tsunagi_proto::MediaOutcome {
        let ops = self
            .wait_for("the media's outcome", |ops| {
                ops.iter().any(
                    |op| matches!(op, Operation::Media { message: m, .. } if m.as_str() == message),
                )
            })
            .await;
        ops.into_iter()
            .find_map(|op| match op {
                Operation::Media {
                    message: m,
                    outcome,
                } if m.as_str() == message => Some(outcome),
                _ => None,
            })
            .unwrap()
    }
}

#[tokio::test]
async fn an_image_is_downloaded_and_served_to_the_channels_devices_with_its_thumbnail() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let report = clinic.sim.say(&patient, UserAction::Image).await.unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    let outcome = clinic.media_outcome(message.as_str()).await;
    let original = clinic.line_has(message.as_str(), false).await;
    assert!(
        matches!(
            &outcome,
            tsunagi_proto::MediaOutcome::Stored { size, preview: true, .. } if *size == original.len() as u64
        ),
        "{outcome:?}"
    );
    let (status, content_type, bytes) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}"))
        .await;
    assert_eq!((status, bytes == original), (200, true));
    assert!(content_type.starts_with("image/"), "{content_type}");
    let (status, _, preview) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}/preview"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(preview, clinic.line_has(message.as_str(), true).await);
    // Nothing for a message the relay does not have, nor for a path that is not an id.
    let (status, _, _) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/999999"))
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/..%2F..%2Frelay.db"))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn served_media_is_never_sniffed_and_seeks_by_range() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Audio {
                duration_ms: 4_000,
                preparing_ms: 0,
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    clinic.media_outcome(message.as_str()).await;
    let original = clinic.line_has(message.as_str(), false).await;
    let path = format!("/v1/channels/{CHANNEL}/media/{message}");

    let whole = clinic.request(&path).await.send().await.unwrap();
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "audio/x-m4a");

    let part = clinic
        .request(&path)
        .await
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", original.len()).as_str()
    );
    assert_eq!(part.headers()["x-content-type-options"], "nosniff");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &original[100..200]);

    let beyond = clinic
        .request(&path)
        .await
        .header("range", format!("bytes={}-", original.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status().as_u16(), 416);
}

#[tokio::test]
async fn a_download_larger_than_line_allows_for_it_is_refused_and_nothing_is_kept() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::File {
                file_name: "検査結果.pdf".into(),
                file_size: 1_000,
                served_size: Some(50_000),
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    let outcome = clinic.media_outcome(message.as_str()).await;
    assert!(
        matches!(&outcome, tsunagi_proto::MediaOutcome::Failed { reason } if reason.contains("larger than")),
        "{outcome:?}"
    );
    let (status, _, _) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}"))
        .await;
    assert_eq!(status, 404);
    let folder = clinic
        .test
        .storage
        .dir()
        .join("media")
        .join(CHANNEL)
        .join(message.as_str());
    let left: Vec<_> = std::fs::read_dir(&folder)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing kept: {left:?}");
}

#[tokio::test]
async fn a_video_line_is_still_preparing_is_asked_for_again_until_it_is_ready() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Video {
                duration_ms: 60_000,
                preparing_ms: 1_500,
                transcoding_fails: false,
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    let outcome = clinic.media_outcome(message.as_str()).await;
    assert!(
        matches!(outcome, tsunagi_proto::MediaOutcome::Stored { .. }),
        "{outcome:?}"
    );
    let (status, _, bytes) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, clinic.line_has(message.as_str(), false).await);
}

/// A photo its sender keeps outside LINE (`contentProvider: external`): LINE has no bytes
/// for it, so the relay fetches the original and its preview from the sender's addresses
/// and keeps them like LINE's own; an address the relay does not call is reported at once.
#[tokio::test]
async fn a_photo_kept_outside_line_is_fetched_from_its_senders_address_and_kept() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let outside = tsunagi_linesim::ExternalMedia::hosted_by(&clinic.line.api_base, "rash");
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Photo {
                image_set: None,
                external: Some(outside.clone()),
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    let outcome = clinic.media_outcome(message.as_str()).await;
    let fetch = |url: String| async move {
        reqwest::get(url)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    };
    let original = fetch(outside.original_content_url.clone()).await;
    assert!(
        matches!(
            &outcome,
            tsunagi_proto::MediaOutcome::Stored { size, preview: true, content_type }
                if *size == original.len() as u64 && content_type == "image/jpeg"
        ),
        "{outcome:?}"
    );
    let (status, _, bytes) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}"))
        .await;
    assert_eq!((status, bytes == original), (200, true));
    let (status, _, preview) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}/preview"))
        .await;
    assert_eq!(
        (status, preview),
        (200, fetch(outside.preview_image_url.clone()).await)
    );
    assert!(
        !clinic
            .sim
            .api_calls()
            .iter()
            .any(|path| path.contains(&format!("/{message}/content"))),
        "LINE's content API was asked for media it does not hold"
    );

    // A sender's address inside a network the relay's operator did not allow.
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Photo {
                image_set: None,
                external: Some(tsunagi_linesim::ExternalMedia {
                    original_content_url: "https://10.0.0.5/rash.jpg".into(),
                    preview_image_url: "https://10.0.0.5/rash-small.jpg".into(),
                }),
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    match clinic.media_outcome(message.as_str()).await {
        tsunagi_proto::MediaOutcome::Failed { reason } => {
            assert!(reason.starts_with("the sender's address"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// LINE could not transcode a patient's video: it says so when asked, and the desk hears
/// it at once instead of after an hour of asking for the file (wait_for's ten seconds).
#[tokio::test]
async fn a_video_line_failed_to_transcode_is_reported_at_once() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Video {
                duration_ms: 60_000,
                preparing_ms: 0,
                transcoding_fails: true,
            },
        )
        .await
        .unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    match clinic.media_outcome(message.as_str()).await {
        tsunagi_proto::MediaOutcome::Failed { reason } => {
            assert!(reason.contains("transcoding failed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let asked = clinic
        .sim
        .api_calls()
        .iter()
        .filter(|path| path.ends_with(&format!("/{message}/content")))
        .count();
    assert_eq!(asked, 1, "the file was asked for once");
}

#[tokio::test]
async fn media_line_no_longer_has_because_it_was_unsent_is_recorded_as_gone() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    let patient = clinic.patient(0);
    let report = clinic.sim.say(&patient, UserAction::Image).await.unwrap();
    let message = report.events[0].message_id.clone().unwrap();
    // The unsend never reaches the relay (its webhook goes nowhere), so only LINE knows.
    let status = reqwest::Client::new()
        .put(format!(
            "{}/v2/bot/channel/webhook/endpoint",
            clinic.line.api_base
        ))
        .bearer_auth("long-lived")
        .json(&serde_json::json!({"endpoint": "http://127.0.0.1:9/nowhere"}))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    let _ = clinic
        .sim
        .say(
            &patient,
            UserAction::Unsend {
                message_id: message.clone(),
            },
        )
        .await;
    clinic.run_executor(options("after the unsend"));
    assert_eq!(
        clinic.media_outcome(message.as_str()).await,
        tsunagi_proto::MediaOutcome::Gone
    );
    let (status, _, _) = clinic
        .get(&format!("/v1/channels/{CHANNEL}/media/{message}"))
        .await;
    assert_eq!(status, 410);
}

fn progress(ops: &[Operation]) -> Vec<(u64, u64)> {
    ops.iter()
        .filter_map(|op| match op {
            Operation::FollowerSyncProgress { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect()
}

fn sync_done(ops: &[Operation]) -> Option<tsunagi_proto::SyncOutcome> {
    ops.iter().find_map(|op| match op {
        Operation::FollowerSyncDone { outcome, .. } => Some(outcome.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn a_follower_sync_lists_every_follower_fetches_each_profile_and_resumes_after_a_kill() {
    let mut clinic = Clinic::start(|config| {
        config.users = tsunagi_linesim::population::users(3_000, 11);
    })
    .await;
    let followers: std::collections::BTreeSet<String> = clinic
        .sim
        .users()
        .into_iter()
        .filter(|u| u.follows && !u.blocked)
        .map(|u| u.user_id.as_str().to_owned())
        .collect();
    clinic.desk(Operation::SyncFollowers).await;
    let before = clinic
        .wait_for("the first batch of profiles", |ops| {
            !progress(ops).is_empty()
        })
        .await;
    clinic.kill();
    let first = progress(&before);
    clinic.run_executor(options("after the kill"));
    let ops = clinic
        .wait_for("the sync's end", |ops| sync_done(ops).is_some())
        .await;
    let total = followers.len() as u64;
    assert_eq!(
        sync_done(&ops),
        Some(tsunagi_proto::SyncOutcome::Done { total })
    );
    // Progress only grows, picking up where the killed executor left off.
    let all = progress(&ops);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{all:?}");
    assert_eq!(all[..first.len()], first[..]);
    assert!(
        all.len() > first.len(),
        "the kill came after the sync ended"
    );
    assert_eq!(all.last(), Some(&(total, total)));
    let profiled: std::collections::BTreeSet<String> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::Profiles { profiles } => Some(profiles),
            _ => None,
        })
        .flatten()
        .filter(|p| p.follower)
        .map(|p| p.user_id.as_str().to_owned())
        .collect();
    assert_eq!(profiled, followers);
}

#[tokio::test]
async fn a_batch_of_profiles_that_outlasts_the_lease_keeps_it_and_the_sync_ends() {
    let mut clinic = Clinic::start(|config| {
        config.users = tsunagi_linesim::population::users(120, 5);
    })
    .await;
    // Profiles at 40 a second (after a first burst of 40): the one batch of about 80 takes
    // over a second, longer than the 0.9 s lease it is fetched under.
    clinic.kill();
    let slow = Options {
        profile_rate: std::num::NonZeroU32::new(40).unwrap(),
        ..options("slow")
    };
    assert!(slow.lease < Duration::from_secs(1));
    clinic.run_executor(slow);
    clinic.desk(Operation::SyncFollowers).await;
    let ops = clinic
        .wait_for("the sync's end", |ops| sync_done(ops).is_some())
        .await;
    let followers = clinic
        .sim
        .users()
        .iter()
        .filter(|u| u.follows && !u.blocked)
        .count() as u64;
    assert_eq!(
        sync_done(&ops),
        Some(tsunagi_proto::SyncOutcome::Done { total: followers })
    );
    // One batch, fetched once: the lease never lapsed under it.
    assert_eq!(progress(&ops), vec![(followers, followers)]);
    assert_eq!(clinic.lease_holder().await, "slow");
}

#[tokio::test]
async fn a_follower_sync_on_an_account_line_does_not_list_says_so() {
    let clinic = Clinic::start(|config| config.verified = false).await;
    clinic.desk(Operation::SyncFollowers).await;
    let ops = clinic
        .wait_for("the sync's end", |ops| sync_done(ops).is_some())
        .await;
    match sync_done(&ops) {
        Some(tsunagi_proto::SyncOutcome::Unavailable { reason }) => {
            assert!(reason.contains("verified and premium"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn read_marks_and_the_typing_animation_reach_line_while_fresh_and_never_after() {
    let clinic = Clinic::start(|_| {}).await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "ขอนัดพรุ่งนี้ค่ะ").await;
    let (message, token) = clinic
        .relay
        .store
        .read(&ChannelId::from(CHANNEL), tsunagi_proto::Seq(0), 100)
        .await
        .unwrap()
        .into_iter()
        .find_map(|e| match e.body {
            EntryBody::Line { event, .. } => {
                let event: serde_json::Value = serde_json::from_str(event.get()).unwrap();
                let m = &event["message"];
                Some((
                    m["id"].as_str()?.to_owned(),
                    m["markAsReadToken"].as_str()?.to_owned(),
                ))
            }
            _ => None,
        })
        .expect("the patient's message with its token");
    let chat = ConversationId::from(patient.as_str());
    clinic
        .desk(Operation::MarkRead {
            conversation: chat.clone(),
            token: tsunagi_line::MarkAsReadToken::new(token),
        })
        .await;
    clinic
        .desk(Operation::Typing {
            conversation: chat.clone(),
            seconds: 20,
        })
        .await;
    // An operator who was typing half a minute ago is not shown as typing now.
    let stale = UnixMillis(UnixMillis::now().0 - 30_000);
    clinic
        .desk_at(
            Operation::Typing {
                conversation: chat.clone(),
                seconds: 10,
            },
            stale,
        )
        .await;
    clinic
        .desk(Operation::Typing {
            conversation: chat,
            seconds: 15,
        })
        .await;
    for _ in 0..500 {
        if clinic.sim.loading_shown(&patient).len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(clinic.sim.loading_shown(&patient), vec![20, 15]);
    assert_eq!(
        clinic.sim.read_up_to(&patient),
        Some(tsunagi_line::MessageId::new(message))
    );
}

/// A channel whose log takes longer to fold than the lease lasts: the executor keeps its
/// lease while it folds, and acts once it is through (it used to lose the lease at the end
/// of every fold, and fold again, for ever).
#[tokio::test]
async fn an_executor_folding_a_log_longer_than_its_lease_keeps_the_lease_and_acts() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    let channel = ChannelId::from(CHANNEL);
    let relay = clinic.relay.clone();
    let store = &relay.store;
    let mut log = tsunagi_proto::testing::ClinicLog::new(2_000);
    let mut n = 0;
    for batch in 0..12 {
        let entries: Vec<tsunagi_proto::Entry> = if batch < 2 {
            log.follows(batch * 1_000, (batch + 1) * 1_000)
        } else {
            (0..1_000)
                .map(|_| {
                    n += 1;
                    log.message(n)
                })
                .collect()
        };
        let entries = entries
            .iter()
            .map(|e| NewEntry::copy_of(e).unwrap())
            .collect();
        store.append(&channel, entries).await.unwrap();
    }
    // Acted on up to the head already, by a process that is gone.
    let head = store.head(&channel).await.unwrap();
    let t = UnixMillis(1);
    assert!(
        store
            .lease_executor(&channel, "gone", t, UnixMillis(2))
            .await
            .unwrap()
    );
    assert!(
        store
            .move_executor_cursor(&channel, "gone", head, t)
            .await
            .unwrap()
    );

    clinic.run_executor(Options {
        lease: Duration::from_millis(150),
        snapshot_every: 10_000,
        ..options("folding")
    });
    let patient = clinic.patient(0);
    let op = clinic.desk(send(&patient, &["after the long fold"])).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let after = store.read(&channel, head, 1_000).await.unwrap();
        let sent = after.iter().any(|e| {
            matches!(&e.body, EntryBody::Op { op: LoggedOp::Known(Operation::Sent { send, .. }), .. } if *send == op)
        });
        if sent {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the executor never acted after its fold"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Push, "after the long fold".to_owned())]
    );
}

// ─── Access tokens ──────────────────────────────────────────────────────────────────────

/// Each start of the executor issues it a token. Stateless ones (fifteen minutes, no cap):
/// thirty-five starts, more than LINE's thirty short-lived tokens per channel, revoke no
/// token, not even a short-lived one the clinic's own tools hold, and the send after them
/// all goes through with nothing refused.
#[tokio::test]
async fn restarting_the_executor_35_times_revokes_no_token_and_the_next_send_meets_no_401() {
    let mut clinic = Clinic::start(|_| {}).await;
    let line = tsunagi_line::client::Client::builder()
        .api_base(clinic.line.api_base.clone())
        .build()
        .unwrap();
    let theirs = line
        .issue_channel_token(&ChannelId::from(CHANNEL), SECRET)
        .await
        .unwrap();
    let theirs =
        line.with_access_token(tsunagi_line::client::AccessToken::new(theirs.access_token));
    let patient = clinic.patient(0);
    for start in 1..=35 {
        clinic.kill();
        clinic.run_executor(options("first"));
        clinic
            .desk(send(&patient, &[&format!("start {start}")]))
            .await;
        clinic
            .wait_for("the send of this start", |ops| count(ops, is_sent) == start)
            .await;
    }
    clinic.desk(send(&patient, &["after every start"])).await;
    clinic
        .wait_for("the last send", |ops| count(ops, is_sent) == 36)
        .await;
    assert_eq!(clinic.texts(&patient).len(), 36);
    assert_eq!(clinic.sim.token_refusals(), []);
    let issued = clinic.sim.issued_tokens();
    let stateless = issued
        .iter()
        .filter(|t| t.kind == TokenKind::Stateless)
        .count();
    assert!(stateless >= 35, "one token a start: {issued:#?}");
    assert_eq!(
        issued
            .iter()
            .filter(|t| t.kind == TokenKind::ShortLived)
            .count(),
        1,
        "only the clinic's own"
    );
    assert!(issued.iter().all(|t| t.revoked_at.is_none()), "{issued:#?}");
    theirs
        .bot_info()
        .await
        .expect("the clinic's own token still works");
}

/// A stateless token lasts fifteen minutes on LINE's clock: the executor renews it a little
/// before, by its own clock, instead of carrying it to LINE until LINE refuses it.
#[tokio::test]
async fn a_token_older_than_fifteen_minutes_is_renewed_before_a_call_not_used_until_refused() {
    static AHEAD: AtomicI64 = AtomicI64::new(0);
    let line_clock = ManualClock::starting_at(UnixMillis::now().0);
    let mut clinic = Clinic::start_on(|_| {}, Arc::new(line_clock.clone())).await;
    clinic.kill();
    clinic
        .run_executor_by(
            RelayClock::new(|| UnixMillis(UnixMillis::now().0 + AHEAD.load(SeqCst))),
            options("ahead"),
        )
        .await;
    let patient = clinic.patient(0);
    clinic.desk(send(&patient, &["before"])).await;
    clinic
        .wait_for("the first send", |ops| count(ops, is_sent) == 1)
        .await;
    let before = clinic.sim.issued_tokens();
    let first = before.last().cloned().expect("a token for the first send");
    assert_eq!(first.kind, TokenKind::Stateless);

    // Sixteen minutes pass, on LINE's clock and the relay's.
    let sixteen_minutes = Duration::from_secs(16 * 60);
    line_clock.advance(sixteen_minutes);
    AHEAD.store(sixteen_minutes.as_millis() as i64, SeqCst);
    clinic.desk(send(&patient, &["after"])).await;
    clinic
        .wait_for("the second send", |ops| count(ops, is_sent) == 2)
        .await;

    assert_eq!(
        clinic.sim.token_refusals(),
        [],
        "no call carried a lapsed token"
    );
    let issued = clinic.sim.issued_tokens();
    let renewed = &issued[before.len()..];
    assert_eq!(renewed.len(), 1, "{issued:#?}");
    assert_eq!(renewed[0].kind, TokenKind::Stateless);
    assert!(renewed[0].issued_at >= first.expires_at);
    assert!(renewed[0].used >= 1);
    assert_eq!(
        issued[before.len() - 1].used,
        first.used,
        "the old token was not used again"
    );
    assert_eq!(
        clinic.texts(&patient),
        [
            (Via::Push, "before".to_owned()),
            (Via::Push, "after".to_owned())
        ]
    );
}

// ─── The account's modes ────────────────────────────────────────────────────────────────

fn line_accounts(ops: &[Operation]) -> Vec<LineAccount> {
    ops.iter()
        .filter_map(|op| match op {
            Operation::LineAccount(account) => Some(*account),
            _ => None,
        })
        .collect()
}

fn bot_info_calls(clinic: &Clinic) -> usize {
    (clinic.sim.api_calls().iter())
        .filter(|path| *path == "/v2/bot/info")
        .count()
}

/// The executor reads the account's modes from LINE when it starts and every hour (by its
/// own clock), and logs them only when they differ from the last ones in the log: not
/// again an hour later while unchanged, nor after a restart from its snapshot.
#[tokio::test]
async fn the_executor_logs_the_accounts_modes_when_line_changes_them_and_only_then() {
    static AHEAD: AtomicI64 = AtomicI64::new(0);
    let hour = 60 * 60 * 1000 + 1_000;
    let ahead = || RelayClock::new(|| UnixMillis(UnixMillis::now().0 + AHEAD.load(SeqCst)));
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.kill();
    clinic.run_executor_by(ahead(), options("ahead")).await;
    let chat = LineAccount {
        chat: true,
        marks_read_itself: false,
    };
    let ops = clinic
        .wait_for("the modes read at start", |ops| {
            !line_accounts(ops).is_empty()
        })
        .await;
    assert_eq!(line_accounts(&ops), [chat]);

    // The owner switches Chat off; LINE marks messages read itself from then on.
    clinic.sim.set_account_modes(false, true);
    AHEAD.fetch_add(hour, SeqCst);
    let bot = LineAccount {
        chat: false,
        marks_read_itself: true,
    };
    let ops = clinic
        .wait_for("the new modes", |ops| line_accounts(ops).len() == 2)
        .await;
    assert_eq!(line_accounts(&ops), [chat, bot]);

    // An hour on, the same modes: asked, not logged.
    let patient = clinic.patient(0);
    let asked = bot_info_calls(&clinic);
    AHEAD.fetch_add(hour, SeqCst);
    for (before, restart) in [false, true].into_iter().enumerate() {
        if restart {
            clinic.kill();
            clinic.run_executor_by(ahead(), options("again")).await;
        }
        for _ in 0..500 {
            if bot_info_calls(&clinic) > asked + usize::from(restart) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(bot_info_calls(&clinic) > asked + usize::from(restart));
        // Whatever that reading logs, it logs before the send behind it.
        clinic.desk(send(&patient, &["after the reading"])).await;
        let ops = clinic
            .wait_for("the send", |ops| count(ops, is_sent) == before + 1)
            .await;
        assert_eq!(line_accounts(&ops), [chat, bot], "restarted: {restart}");
    }
}

/// With LINE marking every message read itself, a desk's read mark needs no call to LINE.
#[tokio::test]
async fn with_line_marking_messages_read_itself_a_read_mark_makes_no_call() {
    let clinic = Clinic::start(|config| config.mark_as_read_auto = true).await;
    clinic
        .wait_for("the modes", |ops| {
            line_accounts(ops)
                .last()
                .is_some_and(|a| a.marks_read_itself)
        })
        .await;
    let patient = clinic.patient(0);
    let said = clinic
        .sim
        .say(
            &patient,
            UserAction::Text {
                text: "สวัสดีค่ะ".into(),
            },
        )
        .await
        .unwrap();
    let token = said.events[0].mark_as_read_token.clone().unwrap();
    let chat = ConversationId::from(patient.as_str());
    clinic
        .desk(Operation::MarkRead {
            conversation: chat.clone(),
            token: tsunagi_line::MarkAsReadToken::new(token),
        })
        .await;
    // Shown after the read mark: once LINE shows it, the read mark was passed over.
    clinic
        .desk(Operation::Typing {
            conversation: chat,
            seconds: 10,
        })
        .await;
    for _ in 0..500 {
        if !clinic.sim.loading_shown(&patient).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(clinic.sim.loading_shown(&patient), [10]);
    let calls = clinic.sim.api_calls();
    assert!(
        !calls.iter().any(|path| path == "/v2/bot/chat/markAsRead"),
        "{calls:?}"
    );
    assert_eq!(clinic.sim.read_up_to(&patient), said.events[0].message_id);
}

/// LINE leaves `language` out of some profiles: the profile is logged without one.
#[tokio::test]
async fn a_profile_without_a_language_is_logged_without_one() {
    let clinic = Clinic::start(|config| config.profiles_without_language = true).await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "hello").await;
    let ops = clinic
        .wait_for("the profile", |ops| {
            ops.iter()
                .any(|op| matches!(op, Operation::Profiles { .. }))
        })
        .await;
    let profile = ops
        .iter()
        .find_map(|op| match op {
            Operation::Profiles { profiles } => profiles.first().cloned(),
            _ => None,
        })
        .unwrap();
    assert_eq!(profile.user_id, patient);
    assert!(!profile.display_name.is_empty());
    assert_eq!(profile.language, None);
}

// ─── Members of groups and rooms ────────────────────────────────────────────────────────

/// The paths of LINE's profile calls about `user`.
fn profile_calls(clinic: &Clinic, user: &UserId) -> Vec<String> {
    (clinic.sim.api_calls().into_iter())
        .filter(|path| path.ends_with(&format!("/{user}")))
        .collect()
}

async fn profile_of(clinic: &Clinic, user: &UserId) -> tsunagi_proto::ContactProfile {
    let ops = clinic
        .wait_for("the member's profile", |ops| {
            ops.iter().any(|op| matches!(op, Operation::Profiles { profiles } if profiles.iter().any(|p| p.user_id == *user)))
        })
        .await;
    ops.into_iter()
        .find_map(|op| match op {
            Operation::Profiles { profiles } => profiles.into_iter().find(|p| p.user_id == *user),
            _ => None,
        })
        .unwrap()
}

/// LINE answers `/profile` only for the account's friends; a group member who is not one
/// is looked up through the group, and their name logged.
#[tokio::test]
async fn a_group_member_who_is_not_a_friend_gets_their_name_from_the_groups_member_profile() {
    let mut stranger = None;
    let clinic = Clinic::start(|config| stranger = Some(config.stranger_in_group())).await;
    let stranger = stranger.unwrap();
    let group = clinic.sim.groups()[0].group_id.clone();
    let report = clinic
        .sim
        .say_in_group(
            &group,
            &stranger,
            UserAction::Text {
                text: "受付は何時までですか".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.attempt.status, Some(200));
    let profile = profile_of(&clinic, &stranger).await;
    let user = clinic
        .sim
        .users()
        .into_iter()
        .find(|u| u.user_id == stranger)
        .unwrap();
    assert!(!user.follows);
    assert_eq!(
        (profile.display_name.as_str(), profile.follower),
        (user.display_name.as_str(), false)
    );
    assert_eq!(
        profile_calls(&clinic, &stranger),
        [format!("/v2/bot/group/{group}/member/{stranger}")]
    );
}

/// The same in a room (a chat of several people without a group): looked up through the
/// room.
#[tokio::test]
async fn a_room_member_who_is_not_a_friend_gets_their_name_from_the_rooms_member_profile() {
    let room = format!("R{:032x}", 0x700d_u128);
    let mut stranger = None;
    let clinic = Clinic::start(|config| {
        let user = config.stranger_in_group();
        config.groups.push(tsunagi_linesim::population::Group {
            group_id: tsunagi_line::GroupId::new(room.clone()),
            name: "Room".into(),
            members: vec![user.clone()],
        });
        stranger = Some(user);
    })
    .await;
    let stranger = stranger.unwrap();
    let event = serde_json::json!({
        "type": "message", "mode": "active", "timestamp": UnixMillis::now().0,
        "webhookEventId": "01JROOMMEMBER0000000000001",
        "deliveryContext": {"isRedelivery": false},
        "source": {"type": "room", "roomId": room, "userId": stranger},
        "replyToken": "room-reply-token",
        "message": {"type": "text", "id": "600000000000000001", "quoteToken": "q", "text": "hello"}
    });
    let body = serde_json::json!({"destination": tsunagi_relay::testing::BOT, "events": [event]})
        .to_string();
    let status = reqwest::Client::new()
        .post(format!("{}/webhook/line/{CHANNEL}", clinic.base))
        .header(
            "x-line-signature",
            tsunagi_line::signature::sign(SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    let profile = profile_of(&clinic, &stranger).await;
    assert!(!profile.follower);
    assert_eq!(
        profile_calls(&clinic, &stranger),
        [format!("/v2/bot/room/{room}/member/{stranger}")]
    );
}
