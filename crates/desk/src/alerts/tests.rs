use std::collections::HashMap;

use jiff::civil::date;
use pretty_assertions::assert_eq;

use super::*;

const ME: &str = "d-aiko";
const OTHER: &str = "d-ken";

fn me() -> Me {
    Me {
        operator: OperatorId::new(ME),
        owner: false,
    }
}

fn chat_id(n: u32) -> ConversationId {
    ConversationId::new(format!("U{n:032x}"))
}

fn waiting() -> Chat {
    Chat {
        waiting: true,
        holder: None,
    }
}

fn held_by(operator: &str) -> Chat {
    Chat {
        waiting: false,
        holder: Some(OperatorId::new(operator)),
    }
}

fn live(happened: Vec<Happened>) -> Changes {
    Changes {
        happened,
        live: true,
        ..Changes::default()
    }
}

/// The alerts `happened` calls for with the chats standing as `chats` says.
fn alerts(happened: Vec<Happened>, chats: &[(u32, Chat)], me: &Me) -> Vec<(AlertKind, u32)> {
    let chats: HashMap<ConversationId, Chat> = chats
        .iter()
        .map(|(n, chat)| (chat_id(*n), chat.clone()))
        .collect();
    let ids: HashMap<ConversationId, u32> = (0..10).map(|n| (chat_id(n), n)).collect();
    // A message finds its chat as it stands (see the race below for when it does not).
    let happened = happened
        .into_iter()
        .map(|h| match h {
            Happened::PatientWrote {
                conversation,
                message,
                ..
            } => Happened::PatientWrote {
                chat: chats.get(&conversation).cloned().unwrap_or_default(),
                conversation,
                message,
            },
            other => other,
        })
        .collect();
    decide(&live(happened), |c| chats.get(c).cloned(), me)
        .into_iter()
        .map(|a| (a.kind, a.conversation.map_or(u32::MAX, |c| ids[&c])))
        .collect()
}

fn wrote(n: u32, message: i64) -> Happened {
    Happened::PatientWrote {
        conversation: chat_id(n),
        message,
        chat: Chat::default(),
    }
}

#[test]
fn a_message_is_judged_by_its_chat_as_it_came_not_as_the_batch_is_decided() {
    // The patient asks for a person in a chat with the bot; by the time the desk decides
    // this batch, the next one has applied the handoff. The handoff alerts; the message
    // that asked for it does not alert again as "a waiting patient writes".
    let asked = Happened::PatientWrote {
        conversation: chat_id(1),
        message: 10,
        chat: Chat::default(),
    };
    let now_waiting = |_: &ConversationId| Some(waiting());
    assert_eq!(decide(&live(vec![asked]), now_waiting, &me()), vec![]);
    // Written while the chat waited: it does.
    let again = Happened::PatientWrote {
        conversation: chat_id(1),
        message: 11,
        chat: waiting(),
    };
    let kinds: Vec<AlertKind> = decide(&live(vec![again]), now_waiting, &me())
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, vec![AlertKind::Waiting]);
}

#[test]
fn a_handoff_alerts_everyone_while_the_chat_still_waits() {
    let handoff = || Happened::Handoff {
        conversation: chat_id(1),
    };
    assert_eq!(
        alerts(vec![handoff()], &[(1, waiting())], &me()),
        vec![(AlertKind::Handoff, 1)]
    );
    // Claimed by someone in the same batch: nobody needs to look any more.
    assert_eq!(
        alerts(vec![handoff()], &[(1, held_by(OTHER))], &me()),
        vec![]
    );
}

#[test]
fn a_patients_message_alerts_the_one_who_holds_the_chat_or_everyone_while_it_waits() {
    let chats = [
        (1, held_by(ME)),
        (2, waiting()),
        (3, held_by(OTHER)),
        (4, Chat::default()),
    ];
    assert_eq!(
        alerts(
            vec![
                wrote(1, 10),
                wrote(2, 20),
                wrote(3, 30),
                wrote(4, 40),
                wrote(5, 50)
            ],
            &chats,
            &me()
        ),
        vec![(AlertKind::MyChat, 1), (AlertKind::Waiting, 2)]
    );
}

#[test]
fn one_alert_per_chat_the_most_pressing_with_its_newest_message() {
    let changes = live(vec![
        wrote(1, 10),
        Happened::Handoff {
            conversation: chat_id(1),
        },
        Happened::PatientWrote {
            conversation: chat_id(1),
            message: 11,
            chat: waiting(),
        },
    ]);
    let alerts = decide(&changes, |_| Some(waiting()), &me());
    assert_eq!(
        alerts,
        vec![Alert {
            kind: AlertKind::Handoff,
            conversation: Some(chat_id(1)),
            message: Some(11),
            count: 0,
        }]
    );
}

#[test]
fn a_transfer_alerts_the_one_it_was_handed_to() {
    let transfer = |to: &str, by: &str| Happened::Transferred {
        conversation: chat_id(1),
        to: OperatorId::new(to),
        by: OperatorId::new(by),
    };
    assert_eq!(
        alerts(vec![transfer(ME, OTHER)], &[(1, held_by(ME))], &me()),
        vec![(AlertKind::Transferred, 1)]
    );
    // To myself, to someone else, or taken from me again since: nothing.
    assert_eq!(
        alerts(vec![transfer(ME, ME)], &[(1, held_by(ME))], &me()),
        vec![]
    );
    assert_eq!(
        alerts(vec![transfer(OTHER, ME)], &[(1, held_by(OTHER))], &me()),
        vec![]
    );
    assert_eq!(
        alerts(vec![transfer(ME, OTHER)], &[(1, held_by(OTHER))], &me()),
        vec![]
    );
}

#[test]
fn a_failed_send_alerts_its_writer_and_the_bots_alert_whoever_holds_the_chat() {
    let failed = |n: u32, author: Option<&str>| Happened::SendFailed {
        conversation: chat_id(n),
        author: author.map(OperatorId::new),
    };
    let chats = [(1, held_by(OTHER)), (2, held_by(ME)), (3, held_by(OTHER))];
    assert_eq!(
        alerts(
            vec![
                failed(1, Some(ME)),
                failed(2, Some(tsunagi_proto::EXECUTOR_DEVICE)),
                failed(3, Some(OTHER)),
                failed(3, Some(tsunagi_proto::EXECUTOR_DEVICE)),
            ],
            &chats,
            &me()
        ),
        vec![(AlertKind::SendFailed, 1), (AlertKind::SendFailed, 2)]
    );
}

#[test]
fn a_reminder_that_missed_patients_alerts_whoever_scheduled_it() {
    let failed = |by: &str, failed| Happened::ReminderFailed {
        reminder: OpId::new(),
        by: OperatorId::new(by),
        failed,
    };
    let changes = live(vec![failed(ME, 3), failed(OTHER, 2), failed(ME, 0)]);
    let alerts = decide(&changes, |_| None, &me());
    assert_eq!(
        alerts,
        vec![Alert {
            kind: AlertKind::ReminderFailed,
            conversation: None,
            message: None,
            count: 3,
        }]
    );
}

#[test]
fn an_escalation_alerts_owners_only() {
    let escalated = || {
        vec![Happened::Escalated {
            conversation: chat_id(1),
        }]
    };
    let owner = Me {
        owner: true,
        ..me()
    };
    assert_eq!(
        alerts(escalated(), &[(1, waiting())], &owner),
        vec![(AlertKind::Escalation, 1)]
    );
    assert_eq!(alerts(escalated(), &[(1, waiting())], &me()), vec![]);
    assert_eq!(alerts(escalated(), &[(1, held_by(OTHER))], &owner), vec![]);
}

#[test]
fn what_a_desk_catches_up_on_alerts_nobody() {
    let changes = Changes {
        live: false,
        ..live(vec![
            Happened::Handoff {
                conversation: chat_id(1),
            },
            wrote(2, 20),
        ])
    };
    assert_eq!(decide(&changes, |_| Some(held_by(ME)), &me()), vec![]);
    assert_eq!(decide(&changes, |_| Some(waiting()), &me()), vec![]);
}

fn quiet_nights() -> QuietHours {
    QuietHours {
        days: vec![
            Day::Monday,
            Day::Tuesday,
            Day::Wednesday,
            Day::Thursday,
            Day::Friday,
        ],
        from: Time::constant(22, 0, 0, 0),
        until: Time::constant(7, 0, 0, 0),
    }
}

#[test]
fn quiet_hours_run_past_midnight_from_the_days_they_start() {
    let quiet = quiet_nights();
    // 2026-11-30 is a Monday.
    let at = |day: i8, h: i8, m: i8| date(2026, 11, day).at(h, m, 0, 0);
    assert!(quiet.covers(at(30, 22, 0)), "Monday 22:00");
    assert!(quiet.covers(at(30, 23, 59)), "Monday 23:59");
    assert!(
        quiet.covers(date(2026, 12, 1).at(6, 59, 0, 0)),
        "Tuesday 06:59, started Monday"
    );
    assert!(
        !quiet.covers(date(2026, 12, 1).at(7, 0, 0, 0)),
        "Tuesday 07:00"
    );
    assert!(!quiet.covers(at(30, 21, 59)), "Monday 21:59");
    // Monday before dawn belongs to Sunday night, which is not quiet; Saturday 02:00
    // belongs to Friday night, which is.
    assert!(!quiet.covers(at(30, 3, 0)), "Monday 03:00");
    assert!(quiet.covers(at(28, 2, 0)), "Saturday 02:00");
    assert!(!quiet.covers(at(28, 23, 0)), "Saturday 23:00");

    let lunch = QuietHours {
        days: vec![Day::Saturday],
        from: Time::constant(12, 0, 0, 0),
        until: Time::constant(13, 0, 0, 0),
    };
    assert!(lunch.covers(at(28, 12, 30)));
    assert!(!lunch.covers(at(28, 13, 0)));
    assert!(!lunch.covers(at(27, 12, 30)), "Friday");
}

fn handoff_alert() -> Alert {
    Alert {
        kind: AlertKind::Handoff,
        conversation: Some(chat_id(1)),
        message: Some(11),
        count: 0,
    }
}

fn moment() -> Moment {
    Moment {
        // A Wednesday afternoon.
        at: date(2026, 12, 2).at(15, 0, 0, 0),
        focused: false,
        paused: false,
    }
}

#[test]
fn a_notice_says_no_more_than_the_privacy_setting_allows() {
    let shown = |privacy| {
        let preferences = Preferences {
            privacy,
            ..Preferences::default()
        };
        preferences
            .present(
                &handoff_alert(),
                &moment(),
                Some("陳 美玲"),
                Some("ขอคุยกับเจ้าหน้าที่"),
            )
            .map(|n| (n.name, n.text))
    };
    assert_eq!(
        shown(Privacy::Full),
        Some((Some("陳 美玲".to_owned()), Some("ขอคุยกับเจ้าหน้าที่".to_owned())))
    );
    assert_eq!(
        shown(Privacy::NameOnly),
        Some((Some("陳 美玲".to_owned()), None))
    );
    assert_eq!(shown(Privacy::Nothing), Some((None, None)));
    // Front-desk screens are seen by patients: names only, unless the operator says more.
    assert_eq!(Preferences::default().privacy, Privacy::NameOnly);
}

#[test]
fn nothing_is_shown_for_a_kind_turned_off_in_quiet_hours_while_paused_or_in_front() {
    let alert = handoff_alert();
    let shown = |preferences: &Preferences, moment: &Moment| {
        preferences
            .present(&alert, moment, Some("Aiko"), None)
            .is_some()
    };
    let defaults = Preferences::default();
    assert!(shown(&defaults, &moment()));
    assert!(shown(
        &defaults,
        &Moment {
            focused: true,
            ..moment()
        }
    ));

    let mut off = Preferences::default();
    off.kinds.insert(
        AlertKind::Handoff,
        KindSetting {
            on: false,
            sound: None,
        },
    );
    assert!(!shown(&off, &moment()));

    let quiet = Preferences {
        quiet: Some(quiet_nights()),
        ..Preferences::default()
    };
    assert!(shown(&quiet, &moment()));
    assert!(!shown(
        &quiet,
        &Moment {
            at: date(2026, 12, 2).at(23, 0, 0, 0),
            ..moment()
        }
    ));

    assert!(!shown(
        &defaults,
        &Moment {
            paused: true,
            ..moment()
        }
    ));

    let background = Preferences {
        only_unfocused: true,
        ..Preferences::default()
    };
    assert!(shown(&background, &moment()));
    assert!(!shown(
        &background,
        &Moment {
            focused: true,
            ..moment()
        }
    ));
}

#[test]
fn a_notice_carries_its_kinds_sound_and_the_volume() {
    let mut preferences = Preferences {
        volume: 130,
        ..Preferences::default()
    };
    preferences.kinds.insert(
        AlertKind::Handoff,
        KindSetting {
            on: true,
            sound: Some("chime".into()),
        },
    );
    let notice = preferences
        .present(&handoff_alert(), &moment(), None, None)
        .unwrap();
    assert_eq!(
        (notice.sound.as_deref(), notice.volume),
        (Some("chime"), 100)
    );
}

#[test]
fn preferences_out_of_bounds_are_refused_in_words_and_repeats_never_come_sooner_than_ten_seconds() {
    assert_eq!(Preferences::default().problems(), Vec::<String>::new());
    let wrong = Preferences {
        volume: 101,
        repeat_seconds: 3,
        ..Preferences::default()
    };
    assert_eq!(
        wrong.problems(),
        [
            "the volume is 0 to 100, not 101",
            "a handoff is alerted again after 10 seconds at the soonest, not 3"
        ]
    );
    // As a file edited by hand might say: repeated every ten seconds, not every three.
    assert_eq!(wrong.repeat_every(), Duration::from_secs(10));
    assert_eq!(
        Preferences::default().repeat_every(),
        Duration::from_secs(60)
    );
}

#[test]
fn preferences_read_back_as_written_and_missing_fields_take_their_defaults() {
    let preferences = Preferences {
        quiet: Some(quiet_nights()),
        privacy: Privacy::Full,
        ..Preferences::default()
    };
    let json = serde_json::to_string(&preferences).unwrap();
    assert_eq!(
        serde_json::from_str::<Preferences>(&json).unwrap(),
        preferences
    );
    let read: Preferences = serde_json::from_str(
        r#"{"privacy":"nothing","quiet":{"days":["sunday"],"from":"22:00","until":"06:30"}}"#,
    )
    .unwrap();
    assert_eq!(read.privacy, Privacy::Nothing);
    assert_eq!(read.repeat_seconds, 60);
    assert_eq!(read.quiet.unwrap().until, Time::constant(6, 30, 0, 0));
}

#[test]
fn an_unclaimed_handoff_is_alerted_again_every_period_until_it_is_taken() {
    let every = Duration::from_secs(60);
    let start = Instant::now();
    let at = |s: u64| start + Duration::from_secs(s);
    let mut repeats = Repeats::default();
    let mut still_waiting = true;
    repeats.shown(&[handoff_alert()], at(0), every);
    let chat = |waits: bool| {
        move |_: &ConversationId| Some(if waits { waiting() } else { held_by(OTHER) })
    };

    assert_eq!(repeats.next(), Some(at(60)));
    assert_eq!(repeats.due(at(59), every, chat(still_waiting)), vec![]);
    let again = repeats.due(at(60), every, chat(still_waiting));
    assert_eq!(
        again
            .iter()
            .map(|a| (a.kind, a.conversation.clone()))
            .collect::<Vec<_>>(),
        vec![(AlertKind::Handoff, Some(chat_id(1)))]
    );
    assert_eq!(repeats.next(), Some(at(120)));
    assert_eq!(repeats.due(at(119), every, chat(still_waiting)), vec![]);
    assert_eq!(repeats.due(at(120), every, chat(still_waiting)).len(), 1);

    // Claimed on another desk: no more repeats, ever.
    still_waiting = false;
    assert_eq!(repeats.due(at(180), every, chat(still_waiting)), vec![]);
    assert_eq!(repeats.next(), None);
    assert_eq!(repeats.due(at(600), every, chat(true)), vec![]);
}

#[test]
fn words_of_an_emergency_come_through_quiet_hours_a_pause_and_a_kind_turned_off() {
    let red_flag = Alert {
        kind: AlertKind::RedFlag,
        ..handoff_alert()
    };
    let night = Moment {
        at: date(2026, 12, 2).at(23, 0, 0, 0),
        focused: true,
        paused: true,
    };
    let mut everything_off = Preferences {
        quiet: Some(quiet_nights()),
        only_unfocused: true,
        volume: 0,
        ..Preferences::default()
    };
    for setting in everything_off.kinds.values_mut() {
        *setting = KindSetting {
            on: false,
            sound: None,
        };
    }
    assert_eq!(
        everything_off.present(&handoff_alert(), &night, Some("Somchai"), None),
        None
    );
    let notice = everything_off
        .present(&red_flag, &night, Some("Somchai"), None)
        .expect("a red flag is always shown");
    assert_eq!(notice.kind, AlertKind::RedFlag);
    assert_eq!(notice.sound.as_deref(), Some("alarm"), "and always heard");
    assert!(notice.volume >= 60, "{}", notice.volume);
    // Preferences kept before red flags existed have no entry for them.
    let mut older = Preferences::default();
    older.kinds.remove(&AlertKind::RedFlag);
    assert!(older.present(&red_flag, &night, None, None).is_some());
}

#[test]
fn a_red_flag_is_alerted_to_everyone_first_and_repeated_as_one_until_taken() {
    let me = me();
    let decided = alerts(
        vec![
            Happened::Handoff {
                conversation: chat_id(1),
            },
            Happened::RedFlag {
                conversation: chat_id(1),
            },
        ],
        &[(1, waiting())],
        &me,
    );
    assert_eq!(decided, [(AlertKind::RedFlag, 1)]);
    // Held by someone else: still every desk hears of it.
    let decided = alerts(
        vec![Happened::RedFlag {
            conversation: chat_id(2),
        }],
        &[(2, held_by(OTHER))],
        &me,
    );
    assert_eq!(decided, [(AlertKind::RedFlag, 2)]);

    let mut repeats = Repeats::default();
    let now = Instant::now();
    let every = Duration::from_secs(60);
    let red = Alert {
        kind: AlertKind::RedFlag,
        conversation: Some(chat_id(1)),
        message: None,
        count: 0,
    };
    repeats.shown(std::slice::from_ref(&red), now, every);
    // A handoff alert of the same chat later does not make it a mere handoff again.
    let handoff = Alert {
        kind: AlertKind::Handoff,
        ..red.clone()
    };
    repeats.shown(&[handoff], now, every);
    let again = repeats.due(now + every, every, |_| Some(waiting()));
    assert_eq!(again, [red]);
    assert_eq!(
        repeats.due(now + every * 3, every, |_| Some(held_by(ME))),
        []
    );
}

#[test]
fn a_patients_markup_reaches_a_notification_server_that_reads_markup_as_text() {
    let link = r#"<a href="https://evil.example/x?a=1&b=2">Your results</a>"#;
    assert_eq!(
        notification_body(link, true),
        "&lt;a href=&quot;https://evil.example/x?a=1&amp;b=2&quot;&gt;Your results&lt;/a&gt;"
    );
    assert_eq!(
        notification_body("<b>urgent</b> <img src='x'>", true),
        "&lt;b&gt;urgent&lt;/b&gt; &lt;img src=&#39;x&#39;&gt;"
    );
    // An entity a patient typed is shown as typed, not as the character it names.
    assert_eq!(notification_body("&lt;3", true), "&amp;lt;3");
    // Words with nothing markup reads, and servers (or systems) that read no markup, get
    // the text as it is.
    assert_eq!(notification_body("ปวดฟัน 痛い", true), "ปวดฟัน 痛い");
    assert_eq!(notification_body(link, false), link);
}
