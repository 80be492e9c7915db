//! `tsunagi://` links: the system hands them to Tsunagi (a second start of the app, which
//! passes them to the one running). `tsunagi://chat/<channel>/<conversation>` shows a chat,
//! as Telegram alerts link to it. Anyone can make a link (a web page, a message), so a
//! link has no effect but that: the window shows the chat and changes nothing (no read
//! mark, no claim) until the operator acts in it.

use tauri::{AppHandle, Emitter as _};

use crate::ipc::{AlertOpened, EVENT_ALERT_OPEN};

/// The chat a link names: its channel and conversation.
pub(crate) fn chat_of(link: &str) -> Option<(&str, &str)> {
    let rest = link.strip_prefix("tsunagi://chat/")?;
    let (channel, conversation) = rest.trim_end_matches('/').split_once('/')?;
    let is_id = |id: &str| {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    (is_id(channel) && is_id(conversation)).then_some((channel, conversation))
}

/// The chat a link named when this app was started with one, until the window takes it.
#[derive(Debug, Default)]
pub(crate) struct AtStart(std::sync::Mutex<Option<String>>);

impl AtStart {
    /// The conversation of the first chat link among this process's arguments.
    pub(crate) fn from_args(args: impl Iterator<Item = String>) -> Self {
        let conversation = args
            .filter_map(|a| chat_of(&a).map(|(_, conversation)| conversation.to_owned()))
            .next();
        Self(std::sync::Mutex::new(conversation))
    }

    /// The conversation, once: the window opens it when it is ready.
    pub(crate) fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// Shows the chat of each link among `args` in the window.
pub(crate) fn open(app: &AppHandle, args: &[String]) {
    for conversation in linked_chats(args) {
        bring(app, conversation);
    }
}

/// What the window is told for each chat link among `args`: show it, as a link.
fn linked_chats(args: &[String]) -> Vec<AlertOpened> {
    args.iter()
        .filter_map(|a| chat_of(a))
        .map(|(_, conversation)| AlertOpened {
            conversation: conversation.to_owned(),
            linked: true,
        })
        .collect()
}

/// Brings the window forward on `conversation`'s chat, opened: its notification was
/// clicked.
pub(crate) fn open_chat(app: &AppHandle, conversation: String) {
    bring(
        app,
        AlertOpened {
            conversation,
            linked: false,
        },
    );
}

fn bring(app: &AppHandle, opened: AlertOpened) {
    crate::window::show(app);
    if let Err(error) = app.emit(EVENT_ALERT_OPEN, opened) {
        tracing::warn!(%error, "the chat could not be opened in the window");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_asks_the_window_only_to_show_its_chat() {
        let args = ["tsunagi", "tsunagi://chat/1/U42", "tsunagi://chat/1/Cab"].map(String::from);
        assert_eq!(
            linked_chats(&args),
            [
                AlertOpened {
                    conversation: "U42".into(),
                    linked: true
                },
                AlertOpened {
                    conversation: "Cab".into(),
                    linked: true
                }
            ]
        );
    }

    #[test]
    fn the_link_the_app_started_with_is_taken_once() {
        let args = ["tsunagi", "--flag", "tsunagi://chat/1/U42"].map(String::from);
        let at_start = AtStart::from_args(args.into_iter());
        assert_eq!(at_start.take().as_deref(), Some("U42"));
        assert_eq!(at_start.take(), None);
    }

    #[test]
    fn a_chat_link_names_its_channel_and_conversation_and_nothing_else_passes() {
        assert_eq!(
            chat_of("tsunagi://chat/1656789012/U4af4980629"),
            Some(("1656789012", "U4af4980629"))
        );
        assert_eq!(
            chat_of("tsunagi://chat/1656789012/U4af4980629/"),
            Some(("1656789012", "U4af4980629"))
        );
        for link in [
            "tsunagi://chat/1656789012",
            "tsunagi://chat//U1",
            "tsunagi://chat/1/U1/extra",
            "tsunagi://chat/1/U1?x=<script>",
            "https://chat/1/U1",
            "--flag",
        ] {
            assert_eq!(chat_of(link), None, "{link}");
        }
    }
}
