//! The handoff state machine: who answers a conversation, and what an operator's action
//! does to it. Conflicts are settled by log order, so every desk decides alike: the first
//! claim in the log wins, and a later one is rejected with the reason.

use tsunagi_proto::api::Role;
use tsunagi_proto::{ConversationMode, DeviceId, OperatorId};

/// Where an open session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// In the queue, for any operator to claim.
    Waiting,
    /// An operator has it.
    Active,
}

/// What a decision needs to know of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub mode: ConversationMode,
    /// The session not yet closed, if any.
    pub open: Option<Open>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Open {
    pub status: Status,
    pub operator: Option<OperatorId>,
}

/// Who acts on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub operator: OperatorId,
    /// May transfer, close or give back to the bot a chat someone else holds: owners,
    /// the relay's executor, and anyone whose op was logged before roles were recorded
    /// (as everyone could then). Staff act on the chats they hold and on the queue.
    pub oversees: bool,
}

impl Actor {
    /// The device that logged an op, with the role the relay recorded for it.
    pub fn new(device: &DeviceId, role: Option<Role>) -> Self {
        Self {
            operator: OperatorId::from(device),
            oversees: role != Some(Role::Staff),
        }
    }
}

/// An operator's action on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Claim,
    Release,
    Transfer { to: OperatorId },
    Close,
    SetMode(ConversationMode),
}

/// What an accepted action changes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Mode(ConversationMode),
    /// A new session starts.
    Open {
        status: Status,
        operator: Option<OperatorId>,
    },
    /// The open session is now the operator's.
    Assign {
        operator: OperatorId,
        /// Counted as a transfer (it was someone else's).
        transfer: bool,
    },
    /// The open session goes back to the queue.
    Unassign,
    /// The open session ends.
    Close,
}

/// Why an action was not carried out. Recorded, shown, never a crash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("there is no such conversation")]
    UnknownConversation,
    #[error("{0} already has this conversation")]
    AlreadyClaimed(OperatorId),
    #[error("this conversation has no open session")]
    NoOpenSession,
    #[error("only the operator who has this conversation can do this")]
    NotYours,
    #[error("this conversation is already in that mode")]
    AlreadyInMode,
    #[error("this conversation is already {0}'s")]
    AlreadyTheirs(OperatorId),
}

/// Decides what `action` by `actor` does to `conversation` (`None`: the desk has never
/// seen it).
pub fn decide(
    conversation: Option<&Conversation>,
    action: &Action,
    actor: &Actor,
) -> Result<Vec<Change>, Rejection> {
    let conversation = conversation.ok_or(Rejection::UnknownConversation)?;
    let open = conversation.open.as_ref();
    let by = &actor.operator;
    // A chat held by someone else is theirs to pass on or end, unless the actor oversees.
    let held_by_another = open
        .and_then(|o| o.operator.as_ref())
        .is_some_and(|holder| holder != by);
    let overrides_holder = matches!(
        action,
        Action::Transfer { .. } | Action::Close | Action::SetMode(ConversationMode::Bot)
    );
    if overrides_holder && held_by_another && !actor.oversees {
        return Err(Rejection::NotYours);
    }
    let to_people = |changes: &mut Vec<Change>| {
        if conversation.mode != ConversationMode::Human {
            changes.push(Change::Mode(ConversationMode::Human));
        }
    };
    match action {
        Action::Claim => match open {
            Some(Open {
                status: Status::Active,
                operator: Some(holder),
            }) => Err(Rejection::AlreadyClaimed(holder.clone())),
            Some(_) => {
                let mut changes = Vec::new();
                to_people(&mut changes);
                changes.push(Change::Assign {
                    operator: by.clone(),
                    transfer: false,
                });
                Ok(changes)
            }
            // Taking over a chat the bot has: a session starts, already the operator's.
            None => {
                let mut changes = Vec::new();
                to_people(&mut changes);
                changes.push(Change::Open {
                    status: Status::Active,
                    operator: Some(by.clone()),
                });
                Ok(changes)
            }
        },
        Action::Release => match open {
            Some(Open {
                status: Status::Active,
                operator: Some(holder),
            }) if holder == by => Ok(vec![Change::Unassign]),
            Some(_) => Err(Rejection::NotYours),
            None => Err(Rejection::NoOpenSession),
        },
        Action::Transfer { to } => match open {
            Some(Open {
                operator: Some(holder),
                ..
            }) if holder == to => Err(Rejection::AlreadyTheirs(to.clone())),
            Some(current) => Ok(vec![Change::Assign {
                operator: to.clone(),
                transfer: current.operator.is_some(),
            }]),
            None => Err(Rejection::NoOpenSession),
        },
        Action::Close => match open {
            Some(_) => Ok(vec![Change::Close, Change::Mode(ConversationMode::Bot)]),
            None => Err(Rejection::NoOpenSession),
        },
        Action::SetMode(mode) if *mode == conversation.mode => Err(Rejection::AlreadyInMode),
        Action::SetMode(ConversationMode::Human) => {
            let mut changes = vec![Change::Mode(ConversationMode::Human)];
            if open.is_none() {
                changes.push(Change::Open {
                    status: Status::Waiting,
                    operator: None,
                });
            }
            Ok(changes)
        }
        Action::SetMode(ConversationMode::Bot) => {
            let mut changes = Vec::new();
            if open.is_some() {
                changes.push(Change::Close);
            }
            changes.push(Change::Mode(ConversationMode::Bot));
            Ok(changes)
        }
    }
}

/// What a patient's message does: in HUMAN mode without an open session (the last one
/// closed while the chat stayed with people) it starts one in the queue.
pub fn on_patient_message(mode: ConversationMode, has_open_session: bool) -> Option<Change> {
    (mode == ConversationMode::Human && !has_open_session).then_some(Change::Open {
        status: Status::Waiting,
        operator: None,
    })
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn op(name: &str) -> OperatorId {
        OperatorId::from(name)
    }

    fn bot() -> Conversation {
        Conversation {
            mode: ConversationMode::Bot,
            open: None,
        }
    }

    fn waiting() -> Conversation {
        Conversation {
            mode: ConversationMode::Human,
            open: Some(Open {
                status: Status::Waiting,
                operator: None,
            }),
        }
    }

    fn staff(name: &str) -> Actor {
        Actor {
            operator: op(name),
            oversees: false,
        }
    }

    fn owner(name: &str) -> Actor {
        Actor {
            operator: op(name),
            oversees: true,
        }
    }

    fn held_by(name: &str) -> Conversation {
        Conversation {
            mode: ConversationMode::Human,
            open: Some(Open {
                status: Status::Active,
                operator: Some(op(name)),
            }),
        }
    }

    #[test]
    fn the_first_claim_wins_and_a_later_one_names_the_holder() {
        assert_eq!(
            decide(Some(&waiting()), &Action::Claim, &staff("yuki")),
            Ok(vec![Change::Assign {
                operator: op("yuki"),
                transfer: false
            }])
        );
        assert_eq!(
            decide(Some(&held_by("yuki")), &Action::Claim, &staff("somchai")),
            Err(Rejection::AlreadyClaimed(op("yuki")))
        );
    }

    #[test]
    fn claiming_a_bot_chat_takes_it_over_for_people() {
        assert_eq!(
            decide(Some(&bot()), &Action::Claim, &staff("yuki")),
            Ok(vec![
                Change::Mode(ConversationMode::Human),
                Change::Open {
                    status: Status::Active,
                    operator: Some(op("yuki"))
                }
            ])
        );
    }

    #[test]
    fn only_the_holder_releases() {
        assert_eq!(
            decide(Some(&held_by("yuki")), &Action::Release, &staff("yuki")),
            Ok(vec![Change::Unassign])
        );
        assert_eq!(
            decide(Some(&held_by("yuki")), &Action::Release, &staff("mei")),
            Err(Rejection::NotYours)
        );
        assert_eq!(
            decide(Some(&bot()), &Action::Release, &staff("mei")),
            Err(Rejection::NoOpenSession)
        );
    }

    #[test]
    fn a_transfer_counts_only_when_someone_had_it() {
        let to_mei = Action::Transfer { to: op("mei") };
        assert_eq!(
            decide(Some(&held_by("yuki")), &to_mei, &staff("yuki")),
            Ok(vec![Change::Assign {
                operator: op("mei"),
                transfer: true
            }])
        );
        assert_eq!(
            decide(Some(&waiting()), &to_mei, &staff("yuki")),
            Ok(vec![Change::Assign {
                operator: op("mei"),
                transfer: false
            }])
        );
        assert_eq!(
            decide(Some(&held_by("mei")), &to_mei, &owner("yuki")),
            Err(Rejection::AlreadyTheirs(op("mei")))
        );
    }

    /// "First claim wins" holds against a transfer to oneself: staff pass on, close or
    /// give back to the bot only what they hold (or the queue); owners step in anywhere.
    #[test]
    fn staff_cannot_take_end_or_hand_back_a_chat_another_holds_and_owners_can() {
        let to_self = Action::Transfer { to: op("somchai") };
        let back_to_bot = Action::SetMode(ConversationMode::Bot);
        for action in [&to_self, &Action::Close, &back_to_bot] {
            assert_eq!(
                decide(Some(&held_by("yuki")), action, &staff("somchai")),
                Err(Rejection::NotYours),
                "{action:?}"
            );
            assert!(decide(Some(&held_by("yuki")), action, &owner("aiko")).is_ok());
            assert!(decide(Some(&waiting()), action, &staff("somchai")).is_ok());
        }
        assert_eq!(
            decide(Some(&held_by("yuki")), &to_self, &owner("aiko")),
            Ok(vec![Change::Assign {
                operator: op("somchai"),
                transfer: true
            }])
        );
    }

    #[test]
    fn closing_gives_the_chat_back_to_the_bot() {
        assert_eq!(
            decide(Some(&held_by("yuki")), &Action::Close, &staff("yuki")),
            Ok(vec![Change::Close, Change::Mode(ConversationMode::Bot)])
        );
        assert_eq!(
            decide(Some(&bot()), &Action::Close, &staff("yuki")),
            Err(Rejection::NoOpenSession)
        );
    }

    #[test]
    fn mode_changes_open_and_close_sessions() {
        let human = Action::SetMode(ConversationMode::Human);
        assert_eq!(
            decide(Some(&bot()), &human, &staff("yuki")),
            Ok(vec![
                Change::Mode(ConversationMode::Human),
                Change::Open {
                    status: Status::Waiting,
                    operator: None
                }
            ])
        );
        assert_eq!(
            decide(Some(&waiting()), &human, &staff("yuki")),
            Err(Rejection::AlreadyInMode)
        );
        assert_eq!(
            decide(
                Some(&held_by("yuki")),
                &Action::SetMode(ConversationMode::Bot),
                &staff("yuki")
            ),
            Ok(vec![Change::Close, Change::Mode(ConversationMode::Bot)])
        );
    }

    #[test]
    fn anything_about_an_unknown_conversation_is_rejected() {
        assert_eq!(
            decide(None, &Action::Claim, &staff("yuki")),
            Err(Rejection::UnknownConversation)
        );
    }

    #[test]
    fn a_patient_writing_to_people_after_a_close_waits_in_the_queue() {
        assert!(on_patient_message(ConversationMode::Human, false).is_some());
        assert_eq!(on_patient_message(ConversationMode::Bot, false), None);
        assert_eq!(on_patient_message(ConversationMode::Human, true), None);
    }
}
