//! Where an event came from, and the chat the bot answers in.

use serde::Deserialize;

use crate::id::{GroupId, RoomId, UserId};

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Source {
    /// `userId` is optional in LINE's specification, as in groups and rooms.
    #[serde(rename_all = "camelCase")]
    User { user_id: Option<UserId> },
    #[serde(rename_all = "camelCase")]
    Group {
        group_id: GroupId,
        user_id: Option<UserId>,
    },
    #[serde(rename_all = "camelCase")]
    Room {
        room_id: RoomId,
        user_id: Option<UserId>,
    },
    #[serde(other)]
    Unknown,
}

/// A chat the bot is in: the place replies and pushes go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chat {
    User(UserId),
    Group(GroupId),
    Room(RoomId),
}

impl Chat {
    /// The id to use as `to` when pushing.
    pub fn id(&self) -> &str {
        match self {
            Chat::User(id) => id.as_str(),
            Chat::Group(id) => id.as_str(),
            Chat::Room(id) => id.as_str(),
        }
    }
}

impl Source {
    /// The chat this source belongs to: the group or room if any, else the user.
    pub fn chat(&self) -> Option<Chat> {
        match self {
            Source::User { user_id } => user_id.clone().map(Chat::User),
            Source::Group { group_id, .. } => Some(Chat::Group(group_id.clone())),
            Source::Room { room_id, .. } => Some(Chat::Room(room_id.clone())),
            Source::Unknown => None,
        }
    }

    /// The person who acted, when LINE says (in groups and rooms only if they consented).
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Source::User { user_id }
            | Source::Group { user_id, .. }
            | Source::Room { user_id, .. } => user_id.as_ref(),
            Source::Unknown => None,
        }
    }
}
