//! An erase's files, when the relay stops between logging the erase and deleting them: the
//! erase noted them, and the relay deletes them as it starts.

use pretty_assertions::assert_eq;
use serde_json::value::RawValue;
use tsunagi_line::{ChannelId, MessageId, UserId};
use tsunagi_proto::{DeviceId, OpId, Operation, UnixMillis};
use tsunagi_relay::http::Options;
use tsunagi_relay::media::Part;
use tsunagi_relay::store::{LogStore as _, NewBody, NewEntry};
use tsunagi_relay::testing::{CHANNEL, TestRelay};

const PATIENT: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

#[tokio::test]
async fn files_an_erase_left_when_the_relay_stopped_are_deleted_as_it_starts() {
    let relay = TestRelay::start(Options::default()).await;
    let channel = ChannelId::from(CHANNEL);
    let media = relay.relay.media().expect("the test relay keeps media");
    media
        .save(
            &channel,
            &MessageId::from("9001"),
            Part::Content,
            "image/jpeg",
            b"\xff\xd8 a rash",
        )
        .await
        .unwrap();
    relay
        .patient_sends(
            PATIENT,
            serde_json::json!({"type": "image", "id": "9001", "quoteToken": "q",
                               "contentProvider": {"type": "line"}}),
        )
        .await;
    // The erase is logged, and the relay stops before it deletes anything: the store
    // alone took it.
    let erase = Operation::Erase {
        contact: UserId::from(PATIENT),
    };
    let op = RawValue::from_string(serde_json::to_string(&erase).unwrap()).unwrap();
    relay
        .relay
        .store
        .append(
            &channel,
            vec![NewEntry {
                at: UnixMillis::now(),
                body: NewBody::Op {
                    op_id: OpId::new(),
                    device: DeviceId::from("d-owner"),
                    role: None,
                    op,
                },
            }],
        )
        .await
        .unwrap();
    let folder = relay.storage.dir().join("media").join(CHANNEL).join("9001");
    assert!(folder.exists(), "nothing is deleted yet");
    assert_eq!(
        relay.relay.store.erased_files(&channel).await.unwrap(),
        [("media".to_owned(), "9001".to_owned())]
    );

    // As the relay starts again.
    tsunagi_relay::erased::delete_all_erased_files(&relay.relay)
        .await
        .unwrap();
    assert!(!folder.exists(), "the photo is gone");
    assert_eq!(relay.relay.store.erased_files(&channel).await.unwrap(), []);
}
