use pretty_assertions::assert_eq;
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::id::ReplyToken;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::testing::{self as log, at};
use tsunagi_proto::{
    AiOutcome, AiSettings, AlertReason, BusinessHours, ConversationId, ConversationMode,
    Credential, Delivery, EXECUTOR_DEVICE, Entry, Greetings, HandoffSettings, KeywordMatch,
    KeywordRule, OpId, OpeningHours, Operation, RedFlagSettings, SendOp, Seq, Setting,
    TelegramSettings, UnixMillis,
};
use uuid::Uuid;

use super::*;

const PATIENT: &str = "U00000000000000000000000000000001";
const OTHER: &str = "U00000000000000000000000000000002";
const YUKI: &str = "d-yuki";

fn chat(user: &str) -> ConversationId {
    ConversationId::from(user)
}

/// Folds `entries` into a new bot; returns it and every decision, in order.
fn fold(entries: &[Entry]) -> (Bot, Vec<Decision>) {
    let mut bot = Bot::new();
    let decisions = entries.iter().flat_map(|e| bot.apply(e)).collect();
    (bot, decisions)
}

fn logged(decisions: &[Decision]) -> Vec<&Operation> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Log(Logged { op, .. }) => Some(op),
            Decision::FetchProfile { .. } => None,
        })
        .collect()
}

/// The texts of the sends among `decisions`.
fn sent_texts(decisions: &[Decision]) -> Vec<String> {
    logged(decisions)
        .into_iter()
        .filter_map(|op| match op {
            Operation::Send(send) => Some(send),
            _ => None,
        })
        .flat_map(|send| &send.messages)
        .filter_map(|m| match &m.body {
            MessageBody::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn settings(seq: u64, setting: Setting) -> Entry {
    by_yuki(seq, Operation::Settings(setting))
}

fn greetings(seq: u64) -> Entry {
    settings(
        seq,
        Setting::Greetings(Greetings {
            follow: Some("ยินดีต้อนรับค่ะ".into()),
            refollow: Some("ยินดีต้อนรับกลับค่ะ".into()),
            handoff: Some("คิวที่ {{position}} รอประมาณ {{wait}} นาที".into()),
            clinic: None,
        }),
    )
}

#[test]
fn a_follow_is_greeted_once_and_a_refollow_differently() {
    let entries = [
        greetings(1),
        log::follow(2, PATIENT, false),
        log::follow(3, OTHER, true),
    ];
    let (_, decisions) = fold(&entries);
    assert_eq!(sent_texts(&decisions), ["ยินดีต้อนรับค่ะ", "ยินดีต้อนรับกลับค่ะ"]);
    // Both new contacts' profiles are asked for.
    let fetched: Vec<_> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::FetchProfile { user, .. } => Some(user.as_str()),
            Decision::Log(_) => None,
        })
        .collect();
    assert_eq!(fetched, [PATIENT, OTHER]);
    // Folding the same log again decides the same ops under the same ids.
    let (_, again) = fold(&entries);
    assert_eq!(decisions, again);
}

#[test]
fn a_handoff_phrase_in_thai_japanese_or_chinese_sends_the_chat_to_the_queue() {
    for (n, phrase) in [
        "ขอคุยกับเจ้าหน้าที่ค่ะ",
        "スタッフと話したいです",
        "我要找真人客服",
    ]
    .into_iter()
    .enumerate()
    {
        let user = format!("U{:032x}", n + 10);
        let (_, decisions) = fold(&[greetings(1), log::text(2, &user, "M2", phrase)]);
        let ops = logged(&decisions);
        assert_eq!(
            ops[0],
            &Operation::SetMode {
                conversation: chat(&user),
                mode: ConversationMode::Human
            },
            "{phrase}"
        );
        assert_eq!(
            ops[1],
            &Operation::Alert {
                conversation: chat(&user),
                reason: AlertReason::Handoff
            }
        );
        // First in the queue; nobody was ever claimed, so five minutes a place.
        assert_eq!(sent_texts(&decisions), ["คิวที่ 1 รอประมาณ 5 นาที"]);
    }
}

#[test]
fn words_typed_on_a_message_sticker_are_read_like_a_text() {
    let rules = Setting::KeywordRules {
        rules: vec![KeywordRule {
            pattern: "予約".into(),
            matching: KeywordMatch::Contains,
            language: None,
            reply: vec![Message::text("ご予約はこちら")],
        }],
    };
    let (_, decisions) = fold(&[
        greetings(1),
        settings(2, rules),
        log::message_sticker(3, PATIENT, "M3", "予約したいです"),
        log::message_sticker(4, OTHER, "M4", "スタッフと話したいです"),
    ]);
    // The keyword reply answers the first; the handoff words send the second to people.
    assert_eq!(
        sent_texts(&decisions),
        ["ご予約はこちら", "คิวที่ 1 รอประมาณ 5 นาที"]
    );
    assert!(logged(&decisions).contains(&&Operation::SetMode {
        conversation: chat(OTHER),
        mode: ConversationMode::Human
    }));
}

#[test]
fn a_postback_the_owners_chose_asks_for_people_and_others_do_not() {
    let handoff = Setting::Handoff(HandoffSettings {
        postbacks: vec!["action=talk".into()],
        ..HandoffSettings::default()
    });
    let (_, decisions) = fold(&[
        greetings(1),
        settings(2, handoff),
        log::postback(3, OTHER, "action=menu"),
        log::postback(4, PATIENT, "action=talk"),
    ]);
    let ops = logged(&decisions);
    assert!(ops.contains(&&Operation::SetMode {
        conversation: chat(PATIENT),
        mode: ConversationMode::Human
    }));
    assert!(!ops.iter().any(|op| matches!(op,
        Operation::SetMode { conversation, .. } if conversation == &chat(OTHER))));
    assert!(ops.contains(&&Operation::Alert {
        conversation: chat(PATIENT),
        reason: AlertReason::Handoff
    }));
}

#[test]
fn a_message_the_bot_cannot_read_goes_to_people_with_an_alert() {
    let (_, decisions) = fold(&[greetings(1), log::unreadable_text(2, PATIENT, "M2")]);
    let ops = logged(&decisions);
    assert_eq!(
        ops[..2],
        [
            &Operation::SetMode {
                conversation: chat(PATIENT),
                mode: ConversationMode::Human
            },
            &Operation::Alert {
                conversation: chat(PATIENT),
                reason: AlertReason::Handoff
            }
        ]
    );
}

#[test]
fn the_queue_message_counts_who_waits_ahead_and_how_long_claims_took() {
    let entries = [
        greetings(1),
        log::text(2, PATIENT, "M2", "talk to staff"),
        log::op(
            3,
            EXECUTOR_DEVICE,
            Operation::SetMode {
                conversation: chat(PATIENT),
                mode: ConversationMode::Human,
            },
        ),
        // Claimed 9 seconds after the session opened at 3.
        log::op(
            12,
            YUKI,
            Operation::Claim {
                conversation: chat(PATIENT),
            },
        ),
        log::text(
            13,
            "U00000000000000000000000000000003",
            "M13",
            "talk to staff",
        ),
        log::op(
            14,
            EXECUTOR_DEVICE,
            Operation::SetMode {
                conversation: chat("U00000000000000000000000000000003"),
                mode: ConversationMode::Human,
            },
        ),
        log::text(15, OTHER, "M15", "talk to staff"),
    ];
    let mut bot = Bot::new();
    let mut last = Vec::new();
    for entry in &entries {
        last = bot.apply(entry);
    }
    // One waits ahead: second place, 2 × 9 s rounds up to one minute.
    assert_eq!(sent_texts(&last), ["คิวที่ 2 รอประมาณ 1 นาที"]);
}

#[test]
fn while_people_hold_a_chat_the_bot_says_nothing() {
    let rules = Setting::KeywordRules {
        rules: vec![KeywordRule {
            pattern: "予約".into(),
            matching: KeywordMatch::Contains,
            language: None,
            reply: vec![Message::text("ご予約はこちら")],
        }],
    };
    let (_, decisions) = fold(&[
        settings(1, rules),
        greetings(2),
        log::text(3, PATIENT, "M3", "hello"),
        log::op(
            4,
            YUKI,
            Operation::Claim {
                conversation: chat(PATIENT),
            },
        ),
        log::text(5, PATIENT, "M5", "予約したい"),
        log::text(6, PATIENT, "M6", "talk to staff"),
        log::follow(7, PATIENT, true),
    ]);
    assert_eq!(sent_texts(&decisions), Vec::<String>::new());
}

#[test]
fn the_first_matching_keyword_rule_answers_in_the_patients_language() {
    let rule = |pattern: &str, matching, language: Option<&str>, reply: &str| KeywordRule {
        pattern: pattern.into(),
        matching,
        language: language.map(Into::into),
        reply: vec![Message::text(reply)],
    };
    let rules = Setting::KeywordRules {
        rules: vec![
            rule("hours", KeywordMatch::Exact, None, "9–18"),
            rule("นัด", KeywordMatch::Contains, Some("th"), "จองนัดได้ที่นี่"),
            rule("予約", KeywordMatch::Contains, Some("ja"), "ご予約はこちら"),
            rule(r"^\d{4}$", KeywordMatch::Regex, None, "a PIN?"),
            rule("นัด", KeywordMatch::Contains, None, "(any language)"),
        ],
    };
    let profile = |user: &str, language: &str| ContactProfileBuilder::new(user, language);
    let (_, decisions) = fold(&[
        settings(1, rules),
        log::op(2, EXECUTOR_DEVICE, profile(PATIENT, "th").op()),
        log::op(3, EXECUTOR_DEVICE, profile(OTHER, "ja").op()),
        log::text(4, PATIENT, "M4", "ＨＯＵＲＳ"),
        log::text(5, PATIENT, "M5", "ขอเลื่อนนัดค่ะ"),
        log::text(6, OTHER, "M6", "นัด"),
        log::text(7, OTHER, "M7", "1234"),
        log::text(8, OTHER, "M8", "hours please"),
    ]);
    assert_eq!(
        sent_texts(&decisions),
        ["9–18", "จองนัดได้ที่นี่", "(any language)", "a PIN?"]
    );
}

struct ContactProfileBuilder(tsunagi_proto::ContactProfile);

impl ContactProfileBuilder {
    fn new(user: &str, language: &str) -> Self {
        Self(tsunagi_proto::ContactProfile {
            user_id: UserId::from(user),
            display_name: "Patient".into(),
            picture_url: None,
            status_message: None,
            language: Some(language.into()),
            follower: true,
        })
    }

    fn op(self) -> Operation {
        Operation::Profiles {
            profiles: vec![self.0],
        }
    }
}

/// Open every day 09:00–17:00 in UTC (the test log starts at 00:00 UTC, closed).
fn hours(seq: u64) -> Entry {
    settings(
        seq,
        Setting::BusinessHours(BusinessHours {
            time_zone: "UTC".into(),
            open: (1..=7)
                .map(|weekday| OpeningHours {
                    weekday,
                    from: "09:00".into(),
                    to: "17:00".into(),
                })
                .collect(),
            holidays: vec![],
            away_message: Some("We are closed; we open at 9.".into()),
        }),
    )
}

#[test]
fn outside_hours_the_away_reply_goes_once_a_day_and_the_handoff_waits_for_opening() {
    let (bot, decisions) = fold(&[
        hours(1),
        greetings(2),
        log::text(3, PATIENT, "M3", "hello?"),
        log::text(4, PATIENT, "M4", "talk to staff"),
        log::text(5, PATIENT, "M5", "anyone?"),
    ]);
    assert_eq!(sent_texts(&decisions), ["We are closed; we open at 9."]);
    assert!(
        !logged(&decisions)
            .iter()
            .any(|op| matches!(op, Operation::SetMode { .. }))
    );
    let opening = UnixMillis(log::START + 9 * 3_600_000);
    assert_eq!(bot.next_due(at(5)), Some(opening));
    assert_eq!(bot.due(UnixMillis(opening.0 - 1)), Vec::new());
    let due = bot.due(opening);
    assert!(matches!(
        logged(&due)[0],
        Operation::SetMode {
            mode: ConversationMode::Human,
            ..
        }
    ));
    assert_eq!(sent_texts(&due), ["คิวที่ 1 รอประมาณ 5 นาที"]);

    // The next day, closed again: one more away reply.
    let next_day = log::START / 1000 + 86_400;
    let mut bot = bot;
    let mut late = log::text(6, PATIENT, "M6", "hello again");
    late.at = UnixMillis(next_day * 1000 + 3_600_000);
    assert_eq!(
        sent_texts(&bot.apply(&late)),
        ["We are closed; we open at 9."]
    );
}

#[test]
fn an_idle_session_closes_by_itself_and_the_patient_is_asked_to_rate_it() {
    let handoff = Setting::Handoff(HandoffSettings {
        keywords: vec![],
        auto_close_minutes: Some(30),
        csat: true,
        ..HandoffSettings::default()
    });
    let (mut bot, _) = fold(&[
        settings(1, handoff),
        log::text(2, PATIENT, "M2", "hello"),
        log::op(
            3,
            YUKI,
            Operation::Claim {
                conversation: chat(PATIENT),
            },
        ),
    ]);
    let idle = UnixMillis(at(3).0 + 30 * 60_000);
    assert_eq!(bot.next_due(at(3)), Some(idle));
    assert_eq!(bot.due(UnixMillis(idle.0 - 1)), Vec::new());
    let due = bot.due(idle);
    assert_eq!(
        logged(&due),
        [&Operation::Close {
            conversation: chat(PATIENT)
        }]
    );
    let Decision::Log(close) = &due[0] else {
        unreachable!()
    };
    let mut entry = log::op_with_id(4, EXECUTOR_DEVICE, close.op_id, close.op.clone());
    entry.at = idle;
    let after = bot.apply(&entry);
    let Operation::Send(question) = logged(&after)[0] else {
        panic!("no question: {after:?}")
    };
    assert!(question.messages[0].quick_reply.is_some());
    assert_eq!(bot.due(UnixMillis(idle.0 + 3_600_000)), Vec::new());
}

fn send(seq: u64, messages: usize) -> Entry {
    log::op(
        seq,
        YUKI,
        Operation::Send(SendOp {
            conversation: chat(PATIENT),
            messages: (0..messages)
                .map(|n| Message::text(format!("part {n}")))
                .collect(),
            retry_key: RetryKey::new(),
            prefer_reply_token: true,
        }),
    )
}

#[test]
fn a_send_replies_while_the_token_is_fresh_and_pushes_once_it_is_stale_or_spent() {
    let (bot, _) = fold(&[log::text(1, PATIENT, "M1", "hello"), send(2, 1)]);
    let pending = bot.pending().next().expect("pending").clone();
    let fresh = bot.plan(&pending, UnixMillis(at(1).0 + REPLY_TOKEN_MS));
    assert_eq!(
        fresh[0].route,
        Route::Reply {
            token: ReplyToken::from("r1"),
            of: Seq(1),
            if_spent: IfSpent::Push
        }
    );
    let stale = bot.plan(&pending, UnixMillis(at(1).0 + REPLY_TOKEN_MS + 1));
    assert_eq!(
        stale[0].route,
        Route::Push {
            to: chat(PATIENT),
            key: pending.send.retry_key
        }
    );

    // A second send after the first took the token pushes.
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        send(3, 1),
        log::op(
            4,
            EXECUTOR_DEVICE,
            Operation::Sending {
                send: OpId(Uuid::from_u128(2)),
                via: Delivery::Reply,
                token_of: Some(Seq(1)),
            },
        ),
    ]);
    let pending: Vec<_> = bot.pending().cloned().collect();
    assert!(matches!(
        bot.plan(&pending[0], at(4))[0].route,
        Route::Reply {
            if_spent: IfSpent::WentOut,
            ..
        }
    ));
    assert!(matches!(
        bot.plan(&pending[1], at(4))[0].route,
        Route::Push { .. }
    ));
}

#[test]
fn an_older_token_the_bot_left_unused_answers_for_free_before_anything_is_pushed() {
    // The patient asks, then taps "talk to staff": two tokens. The queue line takes the
    // newer one; the operator's answer a few seconds later takes the older.
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "Can I come today?"),
        log::postback(2, PATIENT, HANDOFF_POSTBACK),
        send(3, 1),
        log::op(
            4,
            EXECUTOR_DEVICE,
            Operation::Sending {
                send: OpId(Uuid::from_u128(3)),
                via: Delivery::Reply,
                token_of: Some(Seq(2)),
            },
        ),
        send(5, 1),
    ]);
    let answer = bot
        .pending()
        .find(|p| p.seq == Seq(5))
        .expect("the answer waits")
        .clone();
    assert_eq!(
        bot.plan(&answer, at(6))[0].route,
        Route::Reply {
            token: ReplyToken::from("r1"),
            of: Seq(1),
            if_spent: IfSpent::Push
        }
    );
    // Once that one is old too, the answer is pushed.
    let late = UnixMillis(at(1).0 + REPLY_TOKEN_MS + 1);
    assert!(matches!(
        bot.plan(&answer, late)[0].route,
        Route::Push { .. }
    ));
}

#[test]
fn more_than_five_messages_go_in_calls_of_five_each_with_its_own_retry_key() {
    let (bot, _) = fold(&[send(1, 12)]);
    let pending = bot.pending().next().expect("pending").clone();
    let calls = bot.plan(&pending, at(1));
    assert_eq!(
        calls.iter().map(|c| c.messages.len()).collect::<Vec<_>>(),
        [5, 5, 2]
    );
    let keys: Vec<_> = calls
        .iter()
        .map(|c| match &c.route {
            Route::Push { key, .. } => *key,
            Route::Reply { .. } => panic!("no token to reply with"),
        })
        .collect();
    assert_eq!(keys[0], pending.send.retry_key);
    assert!(keys[1] != keys[0] && keys[2] != keys[1] && keys[2] != keys[0]);
    // The same plan tomorrow carries the same keys.
    assert_eq!(bot.plan(&pending, at(1000)), calls);
}

#[test]
fn a_send_leaves_the_pending_list_with_its_outcome() {
    let (mut bot, _) = fold(&[send(1, 1), send(2, 1)]);
    bot.apply(&log::op(
        3,
        EXECUTOR_DEVICE,
        Operation::SendFailed {
            send: OpId(Uuid::from_u128(1)),
            reason: "The user hasn't added the LINE Official Account as a friend.".into(),
            details: vec![],
            unconfirmed: false,
            request_id: None,
        },
    ));
    let left: Vec<_> = bot.pending().map(|p| p.seq).collect();
    assert_eq!(left, [Seq(2)]);
}

#[test]
fn without_a_profile_the_queue_message_speaks_the_script_the_patient_wrote_in() {
    for (phrase, expected) in [
        ("ขอคุยกับเจ้าหน้าที่ค่ะ", "คุณอยู่คิวที่ 1"),
        ("スタッフと話したいです", "1番目"),
        ("我要找真人客服", "第 1 位"),
        ("talk to staff please", "number 1"),
    ] {
        let (_, decisions) = fold(&[log::text(1, PATIENT, "M1", phrase)]);
        let texts = sent_texts(&decisions);
        assert!(texts[0].contains(expected), "{phrase}: {texts:?}");
    }
}

#[test]
fn a_reply_attempt_is_retried_with_its_own_token_even_after_newer_messages() {
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        // The patient writes again while the executor, planning with the first token,
        // logs its attempt.
        log::text(3, PATIENT, "M3", "are you there?"),
        log::op(
            4,
            EXECUTOR_DEVICE,
            Operation::Sending {
                send: OpId(Uuid::from_u128(2)),
                via: Delivery::Reply,
                token_of: Some(Seq(1)),
            },
        ),
    ]);
    let pending = bot.pending().next().expect("pending").clone();
    assert_eq!(
        bot.plan(&pending, at(4))[0].route,
        Route::Reply {
            token: ReplyToken::from("r1"),
            of: Seq(1),
            if_spent: IfSpent::WentOut
        }
    );
}

fn sending_reply(seq: u64, send: u64, token_of: u64) -> Entry {
    log::op(
        seq,
        EXECUTOR_DEVICE,
        Operation::Sending {
            send: OpId(Uuid::from_u128(u128::from(send))),
            via: Delivery::Reply,
            token_of: Some(Seq(token_of)),
        },
    )
}

fn not_sent(seq: u64, send: u64) -> Entry {
    log::op(
        seq,
        EXECUTOR_DEVICE,
        Operation::NotSent {
            send: OpId(Uuid::from_u128(u128::from(send))),
            reason: "Internal server error".into(),
        },
    )
}

fn unanswered(seq: u64, send: u64) -> Entry {
    log::op(
        seq,
        EXECUTOR_DEVICE,
        Operation::Unanswered {
            send: OpId(Uuid::from_u128(u128::from(send))),
            reason: "LINE answered 500: Internal server error".into(),
        },
    )
}

fn first_route(bot: &Bot, now: UnixMillis) -> Route {
    let pending = bot.pending().next().expect("pending").clone();
    bot.plan(&pending, now).remove(0).route
}

#[test]
fn a_reply_attempt_whose_fate_is_open_counts_as_gone_only_while_the_token_lasts() {
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        sending_reply(3, 2, 1),
    ]);
    let if_spent = |now| match first_route(&bot, now) {
        Route::Reply { if_spent, .. } => if_spent,
        Route::Push { .. } => panic!("an open reply attempt is never pushed"),
    };
    assert_eq!(if_spent(at(20)), IfSpent::WentOut);
    assert_eq!(if_spent(at(600)), IfSpent::Unconfirmed);
}

#[test]
fn a_reply_attempt_whose_token_is_no_longer_known_is_a_lost_reply_never_pushed() {
    // The note names an entry whose token the bot no longer keeps.
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        sending_reply(3, 2, 99),
    ]);
    let pending = bot.pending().next().expect("pending").clone();
    assert!(pending.lost_reply());
    // Refused by LINE (nothing went out), the next attempt may push as ever.
    let (bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        sending_reply(3, 2, 99),
        not_sent(4, 2),
    ]);
    assert!(!bot.pending().next().expect("pending").lost_reply());
}

#[test]
fn a_reply_line_answered_5xx_or_not_at_all_is_unconfirmed_when_its_token_is_spent() {
    let (mut bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        sending_reply(3, 2, 1),
    ]);
    bot.apply(&unanswered(4, 2));
    // Tried once more on the same token while it lasts, never pushed.
    for now in [at(20), at(600)] {
        assert!(matches!(
            first_route(&bot, now),
            Route::Reply {
                if_spent: IfSpent::Unconfirmed,
                ..
            }
        ));
    }
}

#[test]
fn after_line_certainly_refused_an_attempt_the_next_is_a_new_one_and_a_stale_token_pushes() {
    let (mut bot, _) = fold(&[
        log::text(1, PATIENT, "M1", "hello"),
        send(2, 1),
        sending_reply(3, 2, 1),
        not_sent(4, 2),
    ]);
    let pending = bot.pending().next().expect("pending").clone();
    assert_eq!(pending.failed_attempts, 1);
    // A new note for the next attempt, under an id of its own.
    assert_ne!(
        pending.attempt_cause(Delivery::Reply),
        format!("sending/{}/reply", pending.op_id)
    );
    assert!(matches!(
        first_route(&bot, at(20)),
        Route::Reply {
            if_spent: IfSpent::Push,
            ..
        }
    ));
    assert_eq!(
        first_route(&bot, at(600)),
        Route::Push {
            to: chat(PATIENT),
            key: pending.send.retry_key
        }
    );
    // The next attempt is noted: open again.
    bot.apply(&sending_reply(5, 2, 1));
    assert!(matches!(
        first_route(&bot, at(21)),
        Route::Reply {
            if_spent: IfSpent::WentOut,
            ..
        }
    ));
}

fn personal_greetings(seq: u64) -> Entry {
    settings(
        seq,
        Setting::Greetings(Greetings {
            follow: Some("ようこそ{{name}}さん、{{clinic}}です".into()),
            refollow: Some("おかえりなさい {{name}} さん({{date}} {{time}})".into()),
            handoff: None,
            clinic: Some("さくら医院".into()),
        }),
    )
}

fn profile_of(seq: u64, user: &str, name: &str) -> Entry {
    let mut profile = ContactProfileBuilder::new(user, "ja");
    profile.0.display_name = name.into();
    log::op(seq, EXECUTOR_DEVICE, profile.op())
}

#[test]
fn a_greeting_that_says_the_name_waits_for_the_profile_and_every_variable_is_filled() {
    let (mut bot, decisions) = fold(&[personal_greetings(1), log::follow(2, PATIENT, false)]);
    assert!(
        sent_texts(&decisions).is_empty(),
        "not before the name is known"
    );
    let greeted = bot.apply(&profile_of(3, PATIENT, "美玲"));
    assert_eq!(sent_texts(&greeted), ["ようこそ美玲さん、さくら医院です"]);
    // Under the follow's own cause: the same op however it is reached.
    let Decision::Log(Logged { op_id, .. }) = &greeted[0] else {
        panic!("{greeted:?}")
    };
    assert_eq!(*op_id, OpId::derived("greeting/2"));
    assert!(bot.due(at(100)).is_empty(), "greeted once");

    // Known already: at once, with the clinic's date and time.
    let refollowed = bot.apply(&log::follow(4, PATIENT, true));
    assert_eq!(
        sent_texts(&refollowed),
        ["おかえりなさい 美玲 さん(2026-01-01 00:00)"]
    );
}

#[test]
fn without_a_profile_the_greeting_goes_after_a_few_seconds_without_the_name() {
    let (bot, decisions) = fold(&[personal_greetings(1), log::follow(2, OTHER, false)]);
    assert!(sent_texts(&decisions).is_empty());
    assert_eq!(
        bot.next_due(at(2)),
        Some(UnixMillis(at(2).0 + NAME_WAIT_MS))
    );
    assert!(bot.due(at(3)).is_empty());
    let late = bot.due(UnixMillis(at(2).0 + NAME_WAIT_MS));
    assert_eq!(sent_texts(&late), ["ようこそさん、さくら医院です"]);
    // Once it is in the log, it is no longer owed.
    let Decision::Log(Logged { op_id, op }) = late[0].clone() else {
        panic!()
    };
    let mut bot = bot;
    bot.apply(&log::op_with_id(3, EXECUTOR_DEVICE, op_id, op));
    assert!(bot.due(at(100)).is_empty());
    assert_eq!(bot.next_due(at(100)), None);
}

#[test]
fn the_away_reply_fills_its_variables_and_never_sends_one_as_written() {
    let away = settings(
        1,
        Setting::BusinessHours(BusinessHours {
            time_zone: "Asia/Tokyo".into(),
            open: vec![OpeningHours {
                weekday: 1,
                from: "10:00".into(),
                to: "11:00".into(),
            }],
            holidays: vec![],
            away_message: Some("{{name}}様、{{clinic}}は{{time}}現在、受付時間外です".into()),
        }),
    );
    let (_, decisions) = fold(&[
        away,
        personal_greetings(2),
        profile_of(3, PATIENT, "健"),
        log::text(4, PATIENT, "M4", "今日は開いていますか"),
    ]);
    let texts = sent_texts(&decisions);
    assert_eq!(texts, ["健様、さくら医院は09:00現在、受付時間外です"]);
    assert!(texts.iter().all(|t| !t.contains("{{")));
}

/// A log with some of everything the bot keeps: settings, followers, chats in each state,
/// sends waiting for LINE, a reminder, media, a follower sync.
fn varied_log() -> Vec<Entry> {
    let mut entries = vec![
        greetings(1),
        hours(2),
        log::follow(3, PATIENT, false),
        profile_of(4, PATIENT, "美玲"),
        log::text(5, PATIENT, "M5", "スタッフと話したいです"),
        log::text(6, OTHER, "M6", "ขอนัดค่ะ"),
        log::image(7, OTHER, "M7"),
        log::op(
            8,
            YUKI,
            Operation::Claim {
                conversation: chat(OTHER),
            },
        ),
        send(9, 2),
        sending_reply(10, 9, 6),
        log::op(11, YUKI, Operation::SyncFollowers),
        log::op(
            12,
            YUKI,
            Operation::ScheduleReminder(tsunagi_proto::Reminder {
                text: "{{name}}さん、明日10時です".into(),
                date: None,
                time: None,
                clinic: None,
                at: at(500),
                to: tsunagi_proto::Audience::Following,
            }),
        ),
    ];
    entries.push(log::text(13, OTHER, "M13", "ありがとう"));
    entries
}

#[test]
fn a_bot_read_from_its_snapshot_is_the_bot_that_folded_the_log() {
    let log = varied_log();
    for cut in [1, 5, 9, 12] {
        let (whole, decisions) = fold(&log);
        let (head, _) = fold(&log[..cut]);
        let mut resumed = Bot::from_snapshot(&head.snapshot()).expect("reads its own");
        let later: Vec<Decision> = log[cut..].iter().flat_map(|e| resumed.apply(e)).collect();
        let value =
            |bot: &Bot| serde_json::from_slice::<serde_json::Value>(&bot.snapshot()).unwrap();
        assert_eq!(value(&resumed), value(&whole), "cut at {cut}");
        let (_, before_cut) = fold(&log[..cut]);
        assert_eq!(
            [before_cut, later].concat(),
            decisions,
            "the same decisions, cut at {cut}"
        );
        let plans = |bot: &Bot| {
            bot.pending()
                .map(|p| bot.plan(p, at(20)))
                .collect::<Vec<_>>()
        };
        assert_eq!(plans(&resumed), plans(&whole));
        assert_eq!(resumed.due(at(600)), whole.due(at(600)));
    }
}

#[test]
fn a_snapshot_of_another_version_is_not_read() {
    let (bot, _) = fold(&varied_log());
    let mut value: serde_json::Value = serde_json::from_slice(&bot.snapshot()).unwrap();
    value["version"] = (SNAPSHOT_VERSION + 1).into();
    assert!(Bot::from_snapshot(&serde_json::to_vec(&value).unwrap()).is_err());
    assert!(Bot::from_snapshot(b"not json").is_err());
}

/// `op` as Yuki's desk logged it at `seq`.
fn by_yuki(seq: u64, op: Operation) -> Entry {
    log::op(seq, YUKI, op)
}

/// Yuki hands the patient's chat to people at `seq`: it waits in the queue from then.
fn queued(seq: u64) -> Entry {
    by_yuki(
        seq,
        Operation::SetMode {
            conversation: chat(PATIENT),
            mode: ConversationMode::Human,
        },
    )
}

fn escalations(decisions: &[Decision]) -> Vec<ConversationId> {
    logged(decisions)
        .into_iter()
        .filter_map(|op| match op {
            Operation::Alert {
                conversation,
                reason: AlertReason::Escalated,
            } => Some(conversation.clone()),
            _ => None,
        })
        .collect()
}

/// Folds the executor's op back in, as it reads it from the log, at `when`.
fn folded(bot: &mut Bot, seq: u64, decision: &Decision, when: UnixMillis) -> Vec<Decision> {
    let Decision::Log(logged) = decision else {
        panic!("not an op: {decision:?}")
    };
    let mut entry = log::op_with_id(seq, EXECUTOR_DEVICE, logged.op_id, logged.op.clone());
    entry.at = when;
    bot.apply(&entry)
}

#[test]
fn a_chat_nobody_takes_is_escalated_once_after_the_clinics_time_and_again_after_a_release() {
    let handoff = Setting::Handoff(HandoffSettings {
        escalate_seconds: 120,
        ..HandoffSettings::default()
    });
    let (mut bot, _) = fold(&[
        settings(1, handoff),
        log::text(2, PATIENT, "M2", "talk to staff"),
        queued(3),
    ]);
    // Waiting since entry 3: escalated two minutes later, not before.
    let due_at = UnixMillis(at(3).0 + 120_000);
    assert_eq!(bot.next_due(at(3)), Some(due_at));
    assert_eq!(escalations(&bot.due(UnixMillis(due_at.0 - 1))), vec![]);
    let due = bot.due(due_at);
    assert_eq!(escalations(&due), vec![chat(PATIENT)]);
    // Logged once: once folded back, never again for this stretch of waiting.
    folded(&mut bot, 4, &due[0], due_at);
    assert_eq!(
        escalations(&bot.due(UnixMillis(due_at.0 + 3_600_000))),
        vec![]
    );
    assert_eq!(bot.next_due(due_at), None);

    // Claimed, then released: a new stretch of waiting, escalated in its turn.
    bot.apply(&by_yuki(
        5,
        Operation::Claim {
            conversation: chat(PATIENT),
        },
    ));
    assert_eq!(bot.next_due(at(5)), None);
    let release = by_yuki(
        6,
        Operation::Release {
            conversation: chat(PATIENT),
        },
    );
    bot.apply(&release);
    let again = UnixMillis(release.at.0 + 120_000);
    assert_eq!(bot.next_due(release.at), Some(again));
    assert_eq!(escalations(&bot.due(again)), vec![chat(PATIENT)]);
}

#[test]
fn a_chat_taken_in_time_or_a_clinic_that_never_escalates_is_not_escalated() {
    let claimed = [
        log::text(2, PATIENT, "M2", "talk to staff"),
        queued(3),
        by_yuki(
            4,
            Operation::Claim {
                conversation: chat(PATIENT),
            },
        ),
    ];
    let (bot, _) = fold(&claimed);
    assert_eq!(
        escalations(&bot.due(UnixMillis(at(4).0 + 3_600_000))),
        vec![]
    );

    let never = Setting::Handoff(HandoffSettings {
        escalate_seconds: 0,
        ..HandoffSettings::default()
    });
    let (bot, _) = fold(&[settings(1, never), claimed[0].clone(), claimed[1].clone()]);
    assert_eq!(bot.next_due(at(3)), None);
    assert_eq!(
        escalations(&bot.due(UnixMillis(at(3).0 + 3_600_000))),
        vec![]
    );
}

#[test]
fn by_default_a_chat_is_escalated_after_five_minutes_of_waiting() {
    let (bot, _) = fold(&[log::text(2, PATIENT, "M2", "talk to staff"), queued(3)]);
    assert_eq!(bot.next_due(at(3)), Some(UnixMillis(at(3).0 + 300_000)));
}

#[test]
fn handoff_words_kept_by_language_hand_a_chat_to_people_like_the_others() {
    let handoff = Setting::Handoff(HandoffSettings {
        keywords: vec!["talk to a nurse".into()],
        keywords_by_language: [("th".to_owned(), vec!["ขอคุยกับพยาบาล".to_owned()])].into(),
        ..HandoffSettings::default()
    });
    for (n, phrase) in ["ขอคุยกับพยาบาลค่ะ", "Can I talk to a nurse?"]
        .into_iter()
        .enumerate()
    {
        let user = format!("U{:032x}", n + 20);
        let (_, decisions) = fold(&[
            settings(1, handoff.clone()),
            log::text(2, &user, "M2", phrase),
        ]);
        assert_eq!(
            logged(&decisions).first(),
            Some(&&Operation::SetMode {
                conversation: chat(&user),
                mode: ConversationMode::Human
            }),
            "{phrase}"
        );
    }
    // The built-in words give way to the clinic's own.
    let (_, decisions) = fold(&[
        settings(1, handoff),
        log::text(2, PATIENT, "M2", "talk to staff"),
    ]);
    assert!(
        !logged(&decisions)
            .iter()
            .any(|op| matches!(op, Operation::SetMode { .. })),
        "a built-in word still handed the chat on"
    );
}

// ─── The AI responder ───────────────────────────────────────────────────────────────

fn ai(seq: u64, when_open: bool, when_closed: bool) -> Vec<Entry> {
    vec![
        settings(
            seq,
            Setting::Ai(AiSettings {
                base_url: "https://ai.example/v1".into(),
                model: "clinic-1".into(),
                prompt: "Sakura Clinic, open 9 to 17.".into(),
                history: 2,
                timeout_seconds: 20,
                when_open,
                when_closed,
            }),
        ),
        by_yuki(
            seq + 1,
            Operation::CredentialSet {
                credential: Credential::AiKey,
                set: true,
            },
        ),
    ]
}

#[test]
fn at_night_the_model_is_asked_instead_of_the_away_reply_and_its_answer_is_sent_once() {
    let price = KeywordRule {
        pattern: "price".into(),
        matching: KeywordMatch::Exact,
        language: None,
        reply: vec![Message::text("2,000 yen")],
    };
    let mut entries = vec![
        hours(1),
        settings(2, Setting::KeywordRules { rules: vec![price] }),
    ];
    entries.extend(ai(3, false, true));
    entries.extend([
        log::text(5, PATIENT, "M5", "สวัสดีค่ะ"),
        log::text(6, PATIENT, "M6", "price"),
    ]);
    let (mut bot, decisions) = fold(&entries);
    // The keyword rule still answers first; no away reply.
    assert_eq!(sent_texts(&decisions), ["2,000 yen"]);
    fold_back(&mut bot, 7, &decisions);
    bot.apply(&log::text(10, PATIENT, "M10", "คลินิกเปิดกี่โมงคะ"));
    let questions = bot.ai_questions();
    assert_eq!(questions.len(), 1, "one question per chat, its newest");
    let question = &questions[0];
    assert_eq!(question.question, Seq(10));
    assert_eq!(question.text, "คลินิกเปิดกี่โมงคะ");
    assert_eq!(question.language.as_deref(), Some("th"));
    // Two earlier texts, as the settings say: the keyword rule's exchange.
    let history: Vec<(bool, &str)> = question
        .history
        .iter()
        .map(|s| (s.patient, s.text.as_str()))
        .collect();
    assert_eq!(history, [(true, "price"), (false, "2,000 yen")]);

    let answer = bot.ai_answered(question, "clinic-1", " เปิด 9 โมงค่ะ ");
    assert_eq!(sent_texts(&answer), ["เปิด 9 โมงค่ะ"]);
    fold_back(&mut bot, 11, &answer);
    assert_eq!(bot.ai_questions(), Vec::new());
    assert_eq!(
        bot.pending().count(),
        2,
        "the keyword reply and the answer wait for LINE"
    );
    // Deciding again (a restart before the fold) logs the same ops under the same ids.
    assert_eq!(
        bot.ai_answered(question, "clinic-1", " เปิด 9 โมงค่ะ "),
        answer
    );
}

#[test]
fn a_model_that_cannot_help_hands_the_chat_to_people_or_to_the_opening() {
    // Open: to the queue now, with the queue message.
    let mut entries = vec![greetings(1)];
    entries.extend(ai(2, true, false));
    entries.push(log::text(4, PATIENT, "M4", "is my rash serious?"));
    let (bot, _) = fold(&entries);
    let question = &bot.ai_questions()[0];
    let decisions = bot.ai_handed_over(question, "clinic-1", "the model took too long", at(5));
    let ops = logged(&decisions);
    assert!(matches!(
        ops[0],
        Operation::AiAnswered {
            outcome: AiOutcome::HandedOver { .. },
            ..
        }
    ));
    assert!(ops.iter().any(|op| matches!(
        op,
        Operation::SetMode {
            mode: ConversationMode::Human,
            ..
        }
    )));
    assert_eq!(sent_texts(&decisions), ["คิวที่ 1 รอประมาณ 5 นาที"]);

    // Closed: the away reply now, the queue at opening.
    let mut entries = vec![hours(1), greetings(2)];
    entries.extend(ai(3, false, true));
    entries.push(log::text(5, PATIENT, "M5", "is my rash serious?"));
    let (mut bot, decisions) = fold(&entries);
    assert_eq!(sent_texts(&decisions), Vec::<String>::new());
    let question = bot.ai_questions()[0].clone();
    let decisions = bot.ai_handed_over(&question, "clinic-1", "refused", at(6));
    assert_eq!(sent_texts(&decisions), ["We are closed; we open at 9."]);
    for (n, decision) in decisions.iter().enumerate() {
        folded(&mut bot, 6 + n as u64, decision, at(6));
    }
    let opening = UnixMillis(log::START + 9 * 3_600_000);
    assert_eq!(bot.next_due(at(8)), Some(opening));
    assert_eq!(sent_texts(&bot.due(opening)), ["คิวที่ 1 รอประมาณ 5 นาที"]);
    // No second away reply today.
    let again = bot.apply(&log::text(9, PATIENT, "M9", "hello?"));
    assert!(!sent_texts(&again).iter().any(|t| t.contains("closed")));
}

#[test]
fn an_answer_that_comes_after_people_took_the_chat_is_only_noted() {
    let mut entries = ai(1, true, true);
    entries.push(log::text(3, PATIENT, "M3", "is my rash serious?"));
    let (mut bot, _) = fold(&entries);
    let question = bot.ai_questions()[0].clone();
    // While the model thinks, Yuki claims the chat.
    bot.apply(&by_yuki(
        4,
        Operation::Claim {
            conversation: chat(PATIENT),
        },
    ));
    let taken_meanwhile = |decisions: &[Decision]| {
        let ops = logged(decisions);
        assert_eq!(sent_texts(decisions), Vec::<String>::new());
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert!(matches!(
            ops[0],
            Operation::AiAnswered {
                outcome: AiOutcome::HandedOver { .. },
                ..
            }
        ));
    };
    taken_meanwhile(&bot.ai_answered(&question, "clinic-1", "It is nothing."));
    // Nor handed over a second time, with a queue message, when the model gives up.
    taken_meanwhile(&bot.ai_handed_over(&question, "clinic-1", "refused", at(5)));
    // Logged under the question's id, like an answer: decided once.
    assert_eq!(
        bot.ai_answered(&question, "clinic-1", "It is nothing."),
        bot.ai_handed_over(&question, "clinic-1", "refused", at(5))
    );
}

#[test]
fn without_its_key_or_with_people_holding_the_chat_the_model_is_not_asked() {
    let mut entries = ai(1, true, true);
    entries.pop();
    entries.push(log::text(3, PATIENT, "M3", "hello"));
    let (bot, _) = fold(&entries);
    assert_eq!(bot.ai_questions(), Vec::new());

    let mut entries = ai(1, true, true);
    entries.push(log::text(3, PATIENT, "M3", "hello"));
    entries.push(queued(4));
    let (bot, _) = fold(&entries);
    assert_eq!(bot.ai_questions(), Vec::new());
}

// ─── Telegram alerts ────────────────────────────────────────────────────────────────

fn telegram(seq: u64, show_names: bool, language: &str) -> Vec<Entry> {
    vec![
        settings(
            seq,
            Setting::Telegram(TelegramSettings {
                chats: vec![424_242],
                on_handoff: true,
                on_escalation: false,
                on_reminder_failed: true,
                show_names,
                language: language.into(),
            }),
        ),
        by_yuki(
            seq + 1,
            Operation::CredentialSet {
                credential: Credential::TelegramToken,
                set: true,
            },
        ),
    ]
}

/// Folds the bot's decisions back in, from `seq` on.
fn fold_back(bot: &mut Bot, seq: u64, decisions: &[Decision]) {
    for (n, decision) in decisions.iter().enumerate() {
        if let Decision::Log(_) = decision {
            folded(bot, seq + n as u64, decision, at(seq + n as u64));
        }
    }
}

#[test]
fn a_handoff_becomes_one_telegram_alert_with_the_place_and_a_link() {
    let mut entries = telegram(1, true, "th");
    entries.push(profile_of(3, PATIENT, "Somchai"));
    entries.push(log::text(4, PATIENT, "M4", "ขอคุยกับเจ้าหน้าที่ค่ะ"));
    let (mut bot, decisions) = fold(&entries);
    fold_back(&mut bot, 5, &decisions);
    let alerts: Vec<&TelegramAlert> = bot.telegram_alerts().collect();
    assert_eq!(alerts.len(), 1);
    let alert = alerts[0].clone();
    assert_eq!(
        bot.telegram_message(&alert, "1656789012"),
        format!(
            "Somchai ขอคุยกับเจ้าหน้าที่ทาง LINE ลำดับคิวที่ 1\n\
             เปิดใน Tsunagi: tsunagi://chat/1656789012/{PATIENT}"
        )
    );
    let cause = alert.cause;
    folded(
        &mut bot,
        20,
        &log_of(Operation::TelegramSending { cause }),
        at(20),
    );
    assert!(bot.telegram_alerts().next().is_some_and(|a| a.noted));
    let sent = Operation::TelegramSent {
        cause,
        outcome: tsunagi_proto::TelegramOutcome::Sent {
            chats: 1,
            failed: vec![],
            trouble: None,
        },
    };
    folded(&mut bot, 21, &log_of(sent), at(21));
    assert_eq!(bot.telegram_alerts().count(), 0);
}

#[test]
fn without_names_an_alert_says_a_patient_and_without_a_token_there_is_none() {
    let mut entries = telegram(1, false, "en");
    entries.push(profile_of(3, PATIENT, "Somchai"));
    entries.push(log::text(4, PATIENT, "M4", "talk to staff"));
    let (mut bot, decisions) = fold(&entries);
    fold_back(&mut bot, 5, &decisions);
    let text = bot
        .telegram_alerts()
        .next()
        .map(|a| bot.telegram_message(a, "1"));
    assert_eq!(
        text.as_deref(),
        Some(
            "A patient asks for a person on LINE. Place in the queue: 1.\n\
             Open in Tsunagi: tsunagi://chat/1/U00000000000000000000000000000001"
        )
    );

    let mut entries = telegram(1, true, "en");
    entries.pop();
    entries.push(log::text(3, PATIENT, "M3", "talk to staff"));
    let (mut bot, decisions) = fold(&entries);
    fold_back(&mut bot, 4, &decisions);
    assert_eq!(bot.telegram_alerts().count(), 0);
}

fn log_of(op: Operation) -> Decision {
    Decision::Log(Logged {
        op_id: OpId::new(),
        op,
    })
}

#[test]
fn alerts_tell_each_patients_own_place_and_the_name_known_when_they_are_sent() {
    let mut entries = telegram(1, true, "en");
    entries.push(log::text(3, PATIENT, "M3", "talk to staff"));
    entries.push(log::text(4, OTHER, "M4", "talk to staff"));
    // Both handoffs are decided before either is logged, as when patients write at once.
    let (mut bot, decisions) = fold(&entries);
    fold_back(&mut bot, 5, &decisions);
    let places: Vec<String> = bot
        .telegram_alerts()
        .map(|a| bot.telegram_message(a, "1"))
        .collect();
    assert!(places[0].contains("Place in the queue: 1."), "{places:?}");
    assert!(places[1].contains("Place in the queue: 2."), "{places:?}");
    // The profile arrives after the alert was decided: the message names the patient.
    bot.apply(&profile_of(30, PATIENT, "Somchai"));
    let first = bot.telegram_alerts().next().cloned().unwrap();
    assert!(
        bot.telegram_message(&first, "1")
            .starts_with("Somchai asks")
    );
}

// ─── Red flags ──────────────────────────────────────────────────────────────────────

fn red_flags(seq: u64, phrases: &[&str]) -> Entry {
    settings(
        seq,
        Setting::RedFlags(RedFlagSettings {
            phrases: [(
                "en".to_owned(),
                phrases.iter().map(|p| (*p).to_owned()).collect(),
            )]
            .into(),
            messages: [("en".to_owned(), "Call {{number}} now, {{name}}.".to_owned())].into(),
            emergency_number: "1669".into(),
        }),
    )
}

#[test]
fn words_of_an_emergency_at_night_skip_the_bot_and_the_model_and_are_answered_once() {
    let mut entries = vec![hours(1), greetings(2)];
    entries.extend(ai(3, true, true));
    entries.extend(telegram(5, true, "en"));
    entries.push(log::text(7, PATIENT, "M7", "หายใจไม่ออกค่ะ"));
    let (mut bot, decisions) = fold(&entries);
    let ops = logged(&decisions);
    assert_eq!(
        ops[..2],
        [
            &Operation::SetMode {
                conversation: chat(PATIENT),
                mode: ConversationMode::Human
            },
            &Operation::Alert {
                conversation: chat(PATIENT),
                reason: AlertReason::RedFlag
            }
        ]
    );
    // No queue line, no away reply: the urgent-care message in Thai, with the number of
    // the clinic's country (its zone says nothing: 119).
    let sent = sent_texts(&decisions);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("โทร 119"), "{sent:?}");
    assert_eq!(bot.ai_questions(), Vec::new(), "the model is not asked");
    fold_back(&mut bot, 8, &decisions);
    let alerts: Vec<&TelegramAlert> = bot.telegram_alerts().collect();
    assert_eq!(alerts.len(), 1);
    assert!(matches!(alerts[0].about, About::RedFlag { .. }));
    assert_eq!(
        bot.telegram_message(alerts[0], "1656789012"),
        format!(
            "URGENT: A patient wrote words of an emergency on LINE. Look now.\n\
             Open in Tsunagi: tsunagi://chat/1656789012/{PATIENT}"
        )
    );

    // Again a few minutes later: the desks hear of it again, the patient is not told twice.
    let again = bot.apply(&log::text(20, PATIENT, "M20", "ยังหายใจไม่ออก"));
    assert_eq!(
        logged(&again),
        [&Operation::Alert {
            conversation: chat(PATIENT),
            reason: AlertReason::RedFlag
        }]
    );
    // Half an hour on, told again.
    let mut later = log::text(21, PATIENT, "M21", "หายใจไม่ออก");
    later.at = UnixMillis(at(20).0 + URGENT_AGAIN_MS);
    assert_eq!(sent_texts(&bot.apply(&later)).len(), 1);
    // Deciding from the same log again gives the same ops under the same ids.
    assert_eq!(fold(&entries).1, decisions);
}

#[test]
fn a_chat_people_hold_stays_theirs_and_the_patient_is_still_told_at_once() {
    let (_, decisions) = fold(&[
        red_flags(1, &["chest pain"]),
        profile_of(2, PATIENT, "Somchai"),
        log::text(3, PATIENT, "M3", "talk to staff"),
        log::op(
            4,
            YUKI,
            Operation::SetMode {
                conversation: chat(PATIENT),
                mode: ConversationMode::Human,
            },
        ),
        log::op(
            5,
            YUKI,
            Operation::Claim {
                conversation: chat(PATIENT),
            },
        ),
        log::text(6, PATIENT, "M6", "I have CHEST PAIN"),
    ]);
    let from_six: Vec<&Operation> = logged(&decisions)
        .into_iter()
        .skip_while(|op| {
            !matches!(
                op,
                Operation::Alert {
                    reason: AlertReason::RedFlag,
                    ..
                }
            )
        })
        .collect();
    assert!(
        !from_six
            .iter()
            .any(|op| matches!(op, Operation::SetMode { .. })),
        "{from_six:?}"
    );
    assert_eq!(
        sent_texts(&decisions).last().map(String::as_str),
        Some("Call 1669 now, Somchai.")
    );
}

#[test]
fn an_owner_who_empties_the_list_turns_red_flags_off_and_groups_or_standby_are_never_flagged() {
    let (_, decisions) = fold(&[
        greetings(1),
        red_flags(2, &[]),
        log::text(3, PATIENT, "M3", "chest pain"),
    ]);
    assert!(
        !logged(&decisions)
            .iter()
            .any(|op| matches!(op, Operation::Alert { .. }))
    );
    let in_a_group = log::line(
        2,
        serde_json::json!({
            "type": "message", "mode": "active", "timestamp": log::START,
            "webhookEventId": "G2", "deliveryContext": {"isRedelivery": false},
            "replyToken": "r2",
            "source": {"type": "group", "groupId": "C00000000000000000000000000000001", "userId": PATIENT},
            "message": {"type": "text", "id": "M2", "quoteToken": "q2", "text": "胸が痛い"}
        }),
    );
    let (_, decisions) = fold(&[greetings(1), in_a_group]);
    assert!(
        !logged(&decisions)
            .iter()
            .any(|op| matches!(op, Operation::Alert { .. } | Operation::Send(_))),
        "{decisions:?}"
    );
    // A channel in standby (a partner's module answers it) sends nothing of its own.
    let in_standby = log::line(
        2,
        serde_json::json!({
            "type": "message", "mode": "standby", "timestamp": log::START,
            "webhookEventId": "S2", "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": PATIENT},
            "message": {"type": "text", "id": "M2", "quoteToken": "q2", "text": "chest pain"}
        }),
    );
    let (_, decisions) = fold(&[greetings(1), in_standby]);
    assert!(
        !logged(&decisions)
            .iter()
            .any(|op| matches!(op, Operation::Alert { .. } | Operation::Send(_))),
        "{decisions:?}"
    );
}

#[test]
fn until_an_owner_sets_them_the_emergency_number_follows_the_clinics_time_zone() {
    let bangkok = Setting::BusinessHours(BusinessHours {
        time_zone: "Asia/Bangkok".into(),
        open: vec![],
        holidays: vec![],
        away_message: None,
    });
    let (_, decisions) = fold(&[
        settings(1, bangkok),
        log::text(2, PATIENT, "M2", "เจ็บหน้าอกมากค่ะ"),
    ]);
    let sent = sent_texts(&decisions);
    assert!(sent.len() == 1 && sent[0].contains("1669"), "{sent:?}");
}

#[test]
fn staff_cannot_cancel_a_reminder_only_owners_may_schedule_but_may_one_to_a_patient() {
    use tsunagi_proto::api::Role;
    let remind = |to| {
        Operation::ScheduleReminder(tsunagi_proto::Reminder {
            text: "Flu shots this week".into(),
            date: None,
            time: None,
            clinic: None,
            at: at(50),
            to,
        })
    };
    let (everyone, one) = (OpId::derived("everyone"), OpId::derived("one"));
    let cancel = |seq, reminder| {
        log::op_by(
            seq,
            "d-staff",
            Role::Staff,
            Operation::CancelReminder { reminder },
        )
    };
    let (bot, _) = fold(&[
        log::op_with_id(
            1,
            "d-owner",
            everyone,
            remind(tsunagi_proto::Audience::Following),
        ),
        log::op_with_id(
            2,
            "d-staff",
            one,
            remind(tsunagi_proto::Audience::Contact {
                user: UserId::from(PATIENT),
            }),
        ),
        cancel(3, everyone),
        cancel(4, one),
    ]);
    let due: Vec<OpId> = bot
        .due(at(60))
        .into_iter()
        .filter_map(|d| match d {
            Decision::Log(Logged {
                op: Operation::ReminderRecipients { reminder, .. },
                ..
            }) => Some(reminder),
            _ => None,
        })
        .collect();
    assert_eq!(due, [everyone], "the owner's reminder still goes");
}

#[test]
fn a_patient_who_wrote_a_stop_word_in_any_of_four_languages_or_withdrew_gets_no_reminder_and_it_says_why()
 {
    use tsunagi_proto::{ConsentKind, OptOut, PatientData};
    let user = |n: u64| format!("U{n:032x}");
    // Each writes a word; the last taps "yes" to reminders after writing one.
    let said = [
        (1, "stop"),
        (2, "停止"),
        (3, "配信停止"),
        (4, "หยุด"),
        (5, " ＳＴＯＰ。"),
        (6, "I will stop by tomorrow"),
        (7, "Thanks!"),
        (8, "配信停止"),
    ];
    let mut entries = Vec::new();
    for (n, text) in said {
        entries.push(log::follow(n * 10, &user(n), false));
        entries.push(log::text(n * 10 + 1, &user(n), &format!("M{n}"), text));
    }
    entries.push(log::op(
        100,
        "d-yuki",
        Operation::Consent {
            contact: UserId::new(user(7)),
            consent: ConsentKind::Reminders,
            given: false,
            wording: "v1".into(),
        },
    ));
    let yes = crate::consent::postback(ConsentKind::Reminders, "v1", true);
    entries.push(log::postback(101, &user(8), &yes));
    let reminder = OpId::derived("flu");
    entries.push(log::op_with_id(
        102,
        "d-owner",
        reminder,
        Operation::ScheduleReminder(tsunagi_proto::Reminder {
            text: "Flu shots this week".into(),
            date: None,
            time: None,
            clinic: None,
            at: at(103),
            to: tsunagi_proto::Audience::Following,
        }),
    ));
    let (mut bot, _) = fold(&entries);
    let recipients: Vec<UserId> = (1..=8).map(|n| UserId::new(user(n))).collect();
    bot.apply(&log::op(
        104,
        tsunagi_proto::EXECUTOR_DEVICE,
        Operation::ReminderRecipients {
            reminder,
            recipients,
        },
    ));
    let parts = bot.reminder_parts();
    assert_eq!(parts.len(), 1);
    let stop = |word: &str| OptOut::StopWord { word: word.into() };
    assert_eq!(
        parts[0].opted_out,
        [
            (UserId::new(user(1)), stop("stop")),
            (UserId::new(user(2)), stop("停止")),
            (UserId::new(user(3)), stop("配信停止")),
            (UserId::new(user(4)), stop("หยุด")),
            (UserId::new(user(5)), stop("stop")),
            (UserId::new(user(7)), OptOut::Withdrew),
        ]
    );
    let ReminderSend::Multicast { to, .. } = &parts[0].send else {
        panic!("{:?}", parts[0].send);
    };
    assert_eq!(to, &[UserId::new(user(6)), UserId::new(user(8))]);

    // A clinic that asks first sends only to those who agreed.
    let asks = Setting::PatientData(PatientData {
        reminders_need_consent: true,
        ..PatientData::default()
    });
    bot.apply(&settings(105, asks));
    let parts = bot.reminder_parts();
    assert!(
        parts[0]
            .opted_out
            .contains(&(UserId::new(user(6)), OptOut::NoConsent)),
        "{:?}",
        parts[0].opted_out
    );
    let ReminderSend::Multicast { to, .. } = &parts[0].send else {
        panic!("{:?}", parts[0].send);
    };
    assert_eq!(to, &[UserId::new(user(8))]);
}

#[test]
fn an_erased_patient_is_forgotten_and_nothing_waiting_for_them_goes_out() {
    let reminder = |seq: u64, to: tsunagi_proto::Audience| {
        by_yuki(
            seq,
            Operation::ScheduleReminder(tsunagi_proto::Reminder {
                text: "See you tomorrow".into(),
                date: None,
                time: None,
                clinic: None,
                at: at(500),
                to,
            }),
        )
    };
    let mut entries = ai(1, true, true);
    entries.extend([
        log::follow(3, PATIENT, false),
        log::image(4, PATIENT, "M4"),
        log::text(5, PATIENT, "M5", "ปวดฟันค่ะ"),
        send(6, 1),
        reminder(
            7,
            tsunagi_proto::Audience::Contact {
                user: UserId::new(PATIENT),
            },
        ),
        reminder(8, tsunagi_proto::Audience::Following),
        log::follow(9, OTHER, false),
    ]);
    let (mut bot, _) = fold(&entries);
    assert_eq!(bot.ai_questions().len(), 1, "the patient's question waits");
    assert_eq!(bot.pending_media().count(), 1);

    let erase = Operation::Erase {
        contact: UserId::new(PATIENT),
    };
    assert_eq!(bot.apply(&by_yuki(10, erase)), Vec::new());

    assert_eq!(
        bot.ai_questions(),
        Vec::new(),
        "their question is not asked"
    );
    assert_eq!(bot.pending_media().count(), 0, "their photo is not fetched");
    assert!(
        bot.pending()
            .all(|pending| pending.send.conversation != chat(PATIENT)),
        "the reply to them is not sent"
    );
    // At the reminders' time only the one to everyone goes, and not to them.
    let due = bot.due(at(600));
    let recipients: Vec<_> = logged(&due)
        .into_iter()
        .filter_map(|op| match op {
            Operation::ReminderRecipients { recipients, .. } => Some(recipients.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recipients, [vec![UserId::new(OTHER)]]);
    let snapshot = String::from_utf8(bot.snapshot()).expect("JSON");
    assert!(!snapshot.contains(PATIENT), "{snapshot}");
    assert!(!snapshot.contains("ปวดฟัน"), "{snapshot}");

    // Writing again, they start afresh: a new contact, their profile asked for.
    let again = bot.apply(&log::text(11, PATIENT, "M11", "สวัสดีค่ะ"));
    assert!(
        again
            .iter()
            .any(|d| matches!(d, Decision::FetchProfile { user, .. } if user.as_str() == PATIENT))
    );
}

#[test]
fn every_night_after_three_the_retention_purges_once_naming_who_is_on_hold() {
    use tsunagi_proto::{Cutoffs, PatientData, Retention};
    let keep = Setting::PatientData(PatientData {
        retention: Retention {
            messages_days: Some(30),
            audit_days: Some(365),
            ..Retention::default()
        },
        ..PatientData::default()
    });
    let hold = Operation::Hold {
        contact: UserId::new(OTHER),
        held: true,
        reason: "a complaint in progress".into(),
    };
    let (mut bot, _) = fold(&[
        hours(1),
        settings(2, keep),
        log::text(3, PATIENT, "M3", "hello"),
        by_yuki(4, hold),
    ]);
    // The clinic's clock (UTC in `hours`): on 8 December 2026, and a day later.
    let local_on = |day: u32, time: &str| {
        let zoned: jiff::Zoned = format!("2026-12-{day:02}T{time}[UTC]").parse().unwrap();
        UnixMillis(zoned.timestamp().as_millisecond())
    };
    let local = |time: &str| local_on(8, time);
    let expiries = |decisions: &[Decision]| -> Vec<Operation> {
        logged(decisions)
            .into_iter()
            .filter(|op| matches!(op, Operation::Expire { .. }))
            .cloned()
            .collect()
    };
    assert_eq!(expiries(&bot.due(local("02:59"))), Vec::new());
    assert_eq!(bot.next_due(local("02:59")), Some(local("03:00")));
    let night = local("03:00");
    let due = bot.due(night);
    assert_eq!(
        expiries(&due),
        [Operation::Expire {
            before: Cutoffs {
                messages: Some(UnixMillis(night.0 - 30 * 86_400_000)),
                audit: Some(UnixMillis(night.0 - 365 * 86_400_000)),
                ..Cutoffs::default()
            },
            held: vec![UserId::new(OTHER)],
        }]
    );
    // Logged, it is not due again that night; the next is the next night's.
    let Some(Decision::Log(Logged { op, .. })) = due.iter().find(|d| {
        matches!(
            d,
            Decision::Log(Logged {
                op: Operation::Expire { .. },
                ..
            })
        )
    }) else {
        panic!("the purge is logged")
    };
    let mut entry = log::op(5, EXECUTOR_DEVICE, op.clone());
    entry.at = night;
    bot.apply(&entry);
    assert_eq!(expiries(&bot.due(local("23:00"))), Vec::new());
    assert_eq!(bot.next_due(local("23:00")), Some(local_on(9, "03:00")));
}
