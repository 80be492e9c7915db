//! A simulated user acts: the webhook events their action makes, the simulated world
//! brought up to date, and the events queued for delivery.

use serde_json::json;
use tsunagi_line::{GroupId, UserId};
use uuid::Uuid;

use super::{DeliveryReport, SaidEvent, SayError, UserAction};
use crate::Simulator;
use crate::world::Content;

/// Builds the events for `action`, updates the simulated world, and delivers them.
pub(crate) async fn say(
    sim: &Simulator,
    user_id: &UserId,
    group: Option<&GroupId>,
    action: UserAction,
) -> Result<DeliveryReport, SayError> {
    let now = sim.now();
    let standby = sim.config().standby;
    let (events, said) = {
        let mut world = sim.world();
        // Anyone may find the account and act, as on LINE: a stranger who follows becomes a
        // friend; one who writes first is a chatter.
        if group.is_none()
            && !world.users.contains_key(user_id)
            && crate::population::is_user_id(user_id.as_str())
        {
            let stranger =
                crate::population::stranger(user_id, matches!(action, UserAction::Follow));
            world.users.insert(user_id.clone(), stranger);
        }
        let user = world
            .users
            .get_mut(user_id)
            .ok_or_else(|| SayError::UnknownUser(user_id.clone()))?;
        if user.blocked && action != UserAction::Follow {
            return Err(SayError::Blocked(user_id.clone()));
        }
        let (source, chat) = match group {
            None => (
                json!({ "type": "user", "userId": user_id }),
                user_id.to_string(),
            ),
            Some(group_id) => {
                let member = world
                    .groups
                    .get(group_id)
                    .is_some_and(|g| g.members.contains(user_id));
                if !member {
                    return Err(SayError::NotAMember(user_id.clone(), group_id.clone()));
                }
                (
                    json!({ "type": "group", "groupId": group_id, "userId": user_id }),
                    group_id.to_string(),
                )
            }
        };
        let webhook_event_id = ulid::Ulid::new().to_string();
        let mut event = json!({
            "timestamp": now,
            "source": source,
            "webhookEventId": webhook_event_id,
            "deliveryContext": { "isRedelivery": false },
            "mode": if standby { "standby" } else { "active" },
        });
        let mut message_id = None;
        let replyable =
            !standby && !matches!(action, UserAction::Unfollow | UserAction::Unsend { .. });
        match action {
            UserAction::Follow => {
                let user = world
                    .users
                    .get_mut(user_id)
                    .ok_or_else(|| SayError::UnknownUser(user_id.clone()))?;
                let was_blocked = user.blocked;
                user.follows = true;
                user.blocked = false;
                event["type"] = "follow".into();
                event["follow"] = json!({ "isUnblocked": was_blocked });
            }
            UserAction::Unfollow => {
                let user = world
                    .users
                    .get_mut(user_id)
                    .ok_or_else(|| SayError::UnknownUser(user_id.clone()))?;
                user.follows = false;
                user.blocked = true;
                event["type"] = "unfollow".into();
            }
            UserAction::Unsend { message_id } => {
                if let Some(content) = world.contents.get_mut(&message_id) {
                    content.unsent = true;
                }
                event["type"] = "unsend".into();
                event["unsend"] = json!({ "messageId": message_id });
            }
            UserAction::Postback { data, params } => {
                event["type"] = "postback".into();
                event["postback"] = match params {
                    Some(params) => json!({ "data": data, "params": params }),
                    None => json!({ "data": data }),
                };
            }
            message => {
                let id = world.new_message_id();
                let read_token = format!("m{}", Uuid::new_v4().simple());
                if group.is_none() {
                    world
                        .read_tokens
                        .insert(read_token.clone(), (user_id.clone(), id.clone()));
                }
                let mut body = json!({
                    "id": id,
                    "quoteToken": format!("q{}", Uuid::new_v4().simple()),
                    "markAsReadToken": read_token,
                });
                let line_content = json!({ "type": "line" });
                let mut store = |content_type: &str,
                                 (bytes, preview): (bytes::Bytes, Option<bytes::Bytes>),
                                 preparing_ms: u64,
                                 transcoding_failed: bool| {
                    world.contents.insert(
                        id.clone(),
                        Content {
                            content_type: content_type.to_owned(),
                            bytes,
                            preview,
                            ready_at: now + i64::try_from(preparing_ms).unwrap_or(i64::MAX),
                            transcoding_failed,
                            unsent: false,
                        },
                    );
                };
                match message {
                    UserAction::Text { text } => {
                        body["type"] = "text".into();
                        body["text"] = text.into();
                    }
                    UserAction::Sticker {
                        package_id,
                        sticker_id,
                    } => {
                        body["type"] = "sticker".into();
                        body["packageId"] = package_id.into();
                        body["stickerId"] = sticker_id.into();
                        body["stickerResourceType"] = "STATIC".into();
                        body["keywords"] = json!([]);
                    }
                    UserAction::Image => {
                        let (photo, thumbnail) = crate::picture::photo(id.as_str());
                        store("image/jpeg", (photo, Some(thumbnail)), 0, false);
                        body["type"] = "image".into();
                        body["contentProvider"] = line_content;
                    }
                    UserAction::Photo {
                        image_set,
                        external,
                    } => {
                        body["type"] = "image".into();
                        body["contentProvider"] = match external {
                            Some(external) => json!({
                                "type": "external",
                                "originalContentUrl": external.original_content_url,
                                "previewImageUrl": external.preview_image_url,
                            }),
                            None => {
                                let (photo, thumbnail) = crate::picture::photo(id.as_str());
                                store("image/jpeg", (photo, Some(thumbnail)), 0, false);
                                line_content
                            }
                        };
                        if let Some(set) = image_set {
                            body["imageSet"] = json!(set);
                        }
                    }
                    UserAction::MessageSticker {
                        package_id,
                        sticker_id,
                        text,
                        keywords,
                        quoted_message_id,
                    } => {
                        body["type"] = "sticker".into();
                        body["packageId"] = package_id.into();
                        body["stickerId"] = sticker_id.into();
                        body["stickerResourceType"] = "MESSAGE".into();
                        body["keywords"] = json!(keywords);
                        body["text"] = text.into();
                        if let Some(quoted) = quoted_message_id {
                            body["quotedMessageId"] = json!(quoted);
                        }
                    }
                    UserAction::Quote {
                        text,
                        quoted_message_id,
                    } => {
                        body["type"] = "text".into();
                        body["text"] = text.into();
                        body["quotedMessageId"] = json!(quoted_message_id);
                    }
                    UserAction::Video {
                        duration_ms,
                        preparing_ms,
                        transcoding_fails,
                    } => {
                        // A real video of that length, showing the thumbnail.
                        let (_, thumbnail) = crate::picture::photo(id.as_str());
                        let (width, height) = crate::picture::THUMBNAIL;
                        let clip = crate::clip::video(duration_ms, &thumbnail, width, height);
                        store(
                            "video/mp4",
                            (clip, Some(thumbnail)),
                            preparing_ms,
                            transcoding_fails,
                        );
                        body["type"] = "video".into();
                        body["duration"] = duration_ms.into();
                        body["contentProvider"] = line_content;
                    }
                    UserAction::Audio {
                        duration_ms,
                        preparing_ms,
                    } => {
                        let clip = crate::clip::voice(duration_ms);
                        store("audio/x-m4a", (clip, None), preparing_ms, false);
                        body["type"] = "audio".into();
                        body["duration"] = duration_ms.into();
                        body["contentProvider"] = line_content;
                    }
                    UserAction::File {
                        file_name,
                        file_size,
                        served_size,
                    } => {
                        let size = served_size.unwrap_or(file_size).min(65_536);
                        let bytes = sample_bytes(usize::try_from(size).unwrap_or(0));
                        store("application/octet-stream", (bytes, None), 0, false);
                        body["type"] = "file".into();
                        body["fileName"] = file_name.into();
                        body["fileSize"] = file_size.into();
                    }
                    UserAction::Location {
                        title,
                        address,
                        latitude,
                        longitude,
                    } => {
                        body["type"] = "location".into();
                        if let Some(title) = title {
                            body["title"] = title.into();
                        }
                        if let Some(address) = address {
                            body["address"] = address.into();
                        }
                        body["latitude"] = latitude.into();
                        body["longitude"] = longitude.into();
                    }
                    UserAction::Follow
                    | UserAction::Unfollow
                    | UserAction::Unsend { .. }
                    | UserAction::Postback { .. } => {}
                }
                event["type"] = "message".into();
                event["message"] = body;
                message_id = Some(id);
            }
        }
        let reply_token = replyable.then(|| {
            let token = Uuid::new_v4().simple().to_string();
            world.issue_reply_token(&token, &chat, now);
            event["replyToken"] = token.clone().into();
            token
        });
        let mark_as_read_token = event["message"]["markAsReadToken"]
            .as_str()
            .map(str::to_owned);
        let said = SaidEvent {
            webhook_event_id,
            reply_token,
            message_id,
            mark_as_read_token,
        };
        (vec![event], vec![said])
    };
    let answer = sim.inner.sender.enqueue(sim, events);
    let attempt = answer.await.map_err(|_| SayError::Stopped)?;
    Ok(DeliveryReport {
        events: said,
        attempt,
    })
}

/// Deterministic bytes standing in for a file (a JPEG-like header, then a pattern).
fn sample_bytes(size: usize) -> bytes::Bytes {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..size.saturating_sub(4)).map(|i| (i % 251) as u8));
    bytes.into()
}
