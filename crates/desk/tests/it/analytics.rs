//! The analytics report over a small, known log.

use pretty_assertions::assert_eq;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::{ConversationId, ConversationMode, Operation, OperatorId, SendOp, UnixMillis};

use crate::log;

const P0: &str = "U4af4980629a1b2c3d4e5f60718293a4b";
const P1: &str = "U5bf5a91730b2c3d4e5f60718293a4b5c";

fn chat(user: &str) -> ConversationId {
    ConversationId::from(user)
}

fn send(user: &str) -> Operation {
    Operation::Send(SendOp {
        conversation: chat(user),
        messages: vec![Message::text("承知しました")],
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    })
}

#[tokio::test]
async fn the_report_has_response_and_resolution_times_csat_and_first_contact_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let store = tsunagi_desk::Store::open(&dir.path().join("desk.db"))
        .await
        .unwrap();
    let human = |user: &str| Operation::SetMode {
        conversation: chat(user),
        mode: ConversationMode::Human,
    };
    // LINE took each answer: the first response is when it did.
    let sent = |seq: u64, of: u64| {
        log::op(
            seq,
            tsunagi_proto::EXECUTOR_DEVICE,
            Operation::Sent {
                send: tsunagi_proto::OpId(uuid::Uuid::from_u128(u128::from(of))),
                via: tsunagi_proto::Delivery::Reply,
                message_ids: vec![],
            },
        )
    };
    let entries = vec![
        log::text(1, P0, "M1", "予約したいです"),
        log::op(2, "d-yuki", human(P0)),
        log::op(
            3,
            "d-yuki",
            Operation::Claim {
                conversation: chat(P0),
            },
        ),
        log::op(4, "d-yuki", send(P0)),
        sent(5, 4),
        log::op(
            6,
            "d-yuki",
            Operation::Close {
                conversation: chat(P0),
            },
        ),
        log::postback(7, P0, &tsunagi_domain::csat::postback_data(4)),
        log::text(8, P1, "M8", "ขอนัดค่ะ"),
        log::op(9, "d-yuki", human(P1)),
        log::op(
            10,
            "d-yuki",
            Operation::Claim {
                conversation: chat(P1),
            },
        ),
        log::op(
            11,
            "d-yuki",
            Operation::Transfer {
                conversation: chat(P1),
                to: OperatorId::from("d-mali"),
            },
        ),
        log::op(12, "d-mali", send(P1)),
        log::op(
            13,
            "d-mali",
            Operation::Close {
                conversation: chat(P1),
            },
        ),
        // After the close: still the first response of the session it was written in.
        sent(14, 12),
    ];
    store.apply(&entries).await.unwrap();
    let report = store
        .analytics(log::at(0), UnixMillis(log::at(100).0))
        .await
        .unwrap();

    let overall = &report.overall;
    assert_eq!((overall.sessions, overall.closed), (2, 2));
    // P0: answered (LINE took it) 3 s and closed 4 s after it opened; P1: 5 s and 4 s.
    assert_eq!(overall.first_response_ms, Some(4_000.0));
    assert_eq!(overall.resolution_ms, Some(4_000.0));
    assert_eq!(overall.messages_per_session, Some(1.0));
    assert_eq!((overall.csat_average, overall.csat_answers), (Some(4.0), 1));
    // P1 was transferred: not resolved at first contact.
    assert_eq!(overall.first_contact_resolution, Some(0.5));

    let by: Vec<(&str, u32, Option<f64>)> = report
        .operators
        .iter()
        .map(|o| {
            (
                o.operator.as_str(),
                o.figures.sessions,
                o.figures.first_response_ms,
            )
        })
        .collect();
    assert_eq!(
        by,
        [("d-mali", 1, Some(5_000.0)), ("d-yuki", 1, Some(3_000.0))]
    );

    // The middle answer and the one nine in ten got within, by nearest rank.
    assert_eq!(overall.first_response_median_ms, Some(3_000.0));
    assert_eq!(overall.first_response_p90_ms, Some(5_000.0));
    assert_eq!(overall.resolution_median_ms, Some(4_000.0));
    assert_eq!(report.ratings, [0, 0, 0, 1, 0]);
    assert_eq!(report.hours.iter().sum::<u32>(), 2);
    assert_eq!(report.days.iter().map(|d| d.sessions).sum::<u32>(), 2);

    let csv = report.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("operator,name,sessions,closed,first_response_seconds,"));
    assert_eq!(lines[3], ",everyone,2,2,4,3,5,4,4,4,1,4,1,0.5");

    // The workbook, as a spreadsheet reads it: a row per operator and everyone's.
    use calamine::{Data, Reader as _};
    let bytes = report.to_xlsx().unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["Summary", "Days", "Hours", "Ratings"]);
    let summary = book.worksheet_range("Summary").unwrap();
    let rows: Vec<Vec<Data>> = summary.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][0], Data::String("operator".into()));
    assert_eq!(rows[1][0], Data::String("d-mali".into()));
    assert_eq!(rows[1][4], Data::Float(5.0), "Mali answered in 5 s");
    assert_eq!(rows[3][1], Data::String("everyone".into()));
    assert_eq!(rows[3][2], Data::Float(2.0));
    let ratings = book.worksheet_range("Ratings").unwrap();
    assert_eq!(ratings.get_value((4, 1)), Some(&Data::Float(1.0)), "one 4");

    // Nothing started in an empty range; a range that ends before it starts is refused.
    let empty = store.analytics(log::at(50), log::at(60)).await.unwrap();
    assert_eq!(empty.overall.sessions, 0);
    assert!(store.analytics(log::at(60), log::at(50)).await.is_err());
}

#[tokio::test]
async fn the_report_counts_the_chats_the_ai_answered_and_those_it_closed_without_staff() {
    let dir = tempfile::tempdir().unwrap();
    let store = tsunagi_desk::Store::open(&dir.path().join("desk.db"))
        .await
        .unwrap();
    // The executor's answer to a question, and its decision naming that answer.
    let answer = |seq: u64, user: &str, question: u64| {
        let send = tsunagi_proto::OpId(uuid::Uuid::from_u128(u128::from(seq)));
        vec![
            log::op_with_id(seq, tsunagi_proto::EXECUTOR_DEVICE, send, send_text(user)),
            log::op(
                seq + 1,
                tsunagi_proto::EXECUTOR_DEVICE,
                Operation::AiAnswered {
                    conversation: chat(user),
                    question: tsunagi_proto::Seq(question),
                    model: "sim-1".into(),
                    outcome: tsunagi_proto::AiOutcome::Answered { send },
                },
            ),
        ]
    };
    let mut entries = vec![log::text(1, P0, "M1", "เปิดกี่โมงคะ")];
    entries.extend(answer(2, P0, 1));
    entries.push(log::text(4, P1, "M4", "Where are you?"));
    entries.extend(answer(5, P1, 4));
    // P1 then wanted a person after all.
    entries.push(log::op(
        7,
        "d-yuki",
        Operation::SetMode {
            conversation: chat(P1),
            mode: ConversationMode::Human,
        },
    ));
    store.apply(&entries).await.unwrap();

    let report = store.analytics(log::at(0), log::at(100)).await.unwrap();
    assert_eq!((report.ai_answered, report.ai_resolved), (2, 1));
    // The workbook has a sheet of them (the clinics without the AI have none).
    use calamine::{Data, Reader as _};
    let bytes = report.to_xlsx().unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Days", "Hours", "Ratings", "AI"]
    );
    let ai: Vec<Vec<Data>> = book
        .worksheet_range("AI")
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    assert_eq!(
        ai,
        [
            [Data::String("figure".into()), Data::String("chats".into())],
            [Data::String("answered_by_ai".into()), Data::Float(2.0)],
            [
                Data::String("closed_without_staff".into()),
                Data::Float(1.0)
            ],
        ]
    );
    // The chat shows the answer as the model's.
    let messages = store
        .messages(&chat(P0), tsunagi_desk::query::MessagesPage::Newest, 10)
        .await
        .unwrap();
    let models: Vec<Option<&str>> = messages.iter().map(|m| m.ai_model.as_deref()).collect();
    assert_eq!(models, [None, Some("sim-1")]);
}

fn send_text(user: &str) -> Operation {
    Operation::Send(SendOp {
        conversation: chat(user),
        messages: vec![Message::text("9:00–18:00")],
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    })
}
