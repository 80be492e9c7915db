//! The checks as the relay meets them: through [`operation`], in its words.

use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::{
    BusinessHours, ConversationId, Greetings, KeywordMatch, KeywordRule, OpeningHours, Operation,
    SendOp, Setting,
};

use super::*;

fn send(messages: Vec<Message>) -> Operation {
    Operation::Send(SendOp {
        conversation: ConversationId::from("U1"),
        messages,
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    })
}

#[test]
fn a_send_line_would_refuse_is_refused_here_with_every_reason() {
    assert!(operation(&send(vec![Message::text("ok")])).is_ok());
    let problems = operation(&send(vec![
        Message::text(""),
        Message::text("a".repeat(5001)),
    ]))
    .unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        matches!(&problems[0], OpProblem::MessageRefused { message: 1, .. }),
        "{problems:?}"
    );
    assert!(
        problems.to_string().starts_with("send: message 1: "),
        "{problems}"
    );
    assert!(operation(&send(Vec::new())).is_err());
    assert!(operation(&send(vec![Message::text("x"); 26])).is_err());
}

#[test]
fn settings_are_checked_for_regexes_times_dates_and_variables() {
    let rule = |pattern: &str, matching| KeywordRule {
        pattern: pattern.into(),
        matching,
        language: None,
        reply: vec![Message::text("受付時間は9時からです")],
    };
    let rules = Setting::KeywordRules {
        rules: vec![
            rule("予約", KeywordMatch::Contains),
            rule("(unclosed", KeywordMatch::Regex),
        ],
    };
    let problems = operation(&Operation::Settings(rules)).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].to_string().contains("keyword rule 2"),
        "{problems:?}"
    );

    let hours = Setting::BusinessHours(BusinessHours {
        time_zone: "Asia/Bangkok".into(),
        open: vec![
            OpeningHours {
                weekday: 1,
                from: "09:00".into(),
                to: "17:30".into(),
            },
            OpeningHours {
                weekday: 8,
                from: "18:00".into(),
                to: "09:00".into(),
            },
            OpeningHours {
                weekday: 2,
                from: "9am".into(),
                to: "25:00".into(),
            },
        ],
        holidays: vec!["2026-12-31".into(), "31/12/2026".into()],
        away_message: Some("เปิดทำการ {{time}} ค่ะ".into()),
    });
    let problems = operation(&Operation::Settings(hours)).unwrap_err();
    assert_eq!(problems.len(), 4, "{problems:?}");

    let greetings = Setting::Greetings(Greetings {
        follow: Some("ようこそ{{name}}さん".into()),
        refollow: Some("{{position}}".into()),
        handoff: Some("あと{{position}}番目、約{{wait}}です".into()),
        clinic: None,
    });
    let problems = operation(&Operation::Settings(greetings)).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].to_string().contains("refollow"), "{problems:?}");
}

#[test]
fn a_settings_op_holds_at_most_500_rules_of_at_most_1000_characters() {
    let rule = |pattern: String| KeywordRule {
        pattern,
        matching: KeywordMatch::Contains,
        language: None,
        reply: vec![Message::text("ok")],
    };
    let rules = |n: usize, chars: usize| {
        Operation::Settings(Setting::KeywordRules {
            rules: (0..n).map(|_| rule("予".repeat(chars))).collect(),
        })
    };
    assert!(operation(&rules(MAX_SETTING_ITEMS, MAX_PATTERN_CHARS)).is_ok());
    let too_many = operation(&rules(MAX_SETTING_ITEMS + 1, 1)).unwrap_err();
    assert_eq!(too_many.to_string(), "keyword rules: at most 500, not 501");
    let too_long = operation(&rules(1, MAX_PATTERN_CHARS + 1)).unwrap_err();
    assert!(
        too_long[0].to_string().contains("at most 1000 characters"),
        "{too_long:?}"
    );
    let huge_regex = Operation::Settings(Setting::KeywordRules {
        rules: vec![KeywordRule {
            matching: KeywordMatch::Regex,
            ..rule("(\\w{1,50}){1,20}".into())
        }],
    });
    assert!(
        operation(&huge_regex).is_err(),
        "a regex that compiles huge"
    );
}

#[test]
fn only_the_executor_reports_what_line_did() {
    let sent = Operation::Sent {
        send: tsunagi_proto::OpId::new(),
        via: tsunagi_proto::Delivery::Push,
        message_ids: Vec::new(),
    };
    assert_eq!(author(&sent), Author::Executor);
    assert_eq!(author(&send(vec![Message::text("hi")])), Author::Desk);
}
