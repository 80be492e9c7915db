//! The forms of the ids a desk takes from its relay, checked where they enter the desk.
//!
//! A desk trusts its relay for what the log says, never for paths: a channel id names the
//! folder of its media, a message id the file, a device id the secret's file when there is
//! no keyring. A relay that is fake or compromised and answers `"channel_id":
//! "../../.bashrc.d"` is refused here, with the id it sent, before anything is kept; the
//! files themselves are named only through [`crate::folder::Folder`], which proves each
//! one inside its folder.

use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::DeviceId;

/// The longest id of any kind. LINE's channel ids are 10 digits and its message ids about
/// 18; the relay's device ids are 32 hex digits, and it accepts channel ids of at most 64
/// digits (`parse_channel_id`).
const MAX_ID: usize = 64;

/// An id that does not have its kind's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shown} is not {kind}")]
pub struct BadId {
    kind: &'static str,
    /// The id as sent, quoted and cut short (a relay may send a megabyte of it).
    shown: String,
}

impl BadId {
    fn new(kind: &'static str, id: &str) -> Self {
        const SHOWN: usize = 40;
        let mut shown = format!("{:?}", id.chars().take(SHOWN).collect::<String>());
        if id.chars().count() > SHOWN {
            shown.push('…');
        }
        Self { kind, shown }
    }
}

fn digits(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// A LINE channel id: digits, as the LINE console shows it (and as the relay accepts it).
pub fn channel(id: &ChannelId) -> Result<(), BadId> {
    if digits(id.as_str()) {
        Ok(())
    } else {
        Err(BadId::new("a LINE channel id (digits)", id.as_str()))
    }
}

/// A LINE message id: digits.
pub fn message(id: &MessageId) -> Result<(), BadId> {
    if digits(id.as_str()) {
        Ok(())
    } else {
        Err(BadId::new("a LINE message id (digits)", id.as_str()))
    }
}

/// A device id as the relay makes them: letters, digits, `-` and `_` (a UUID's hex digits,
/// or the executor's name).
pub fn device(id: &DeviceId) -> Result<(), BadId> {
    let id = id.as_str();
    if (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(BadId::new("a device id (letters, digits, - and _)", id))
    }
}

/// An invite's id, which goes into the path of the call that withdraws it: a UUID.
pub fn invite(id: &str) -> Result<(), BadId> {
    match uuid::Uuid::try_parse(id) {
        Ok(_) => Ok(()),
        Err(_) => Err(BadId::new("an invite id (a UUID)", id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_of_their_kinds_form_pass_and_a_refusal_shows_the_id_cut_short() {
        assert_eq!(channel(&ChannelId::from("1656789012")), Ok(()));
        assert_eq!(message(&MessageId::from("468789577898262530")), Ok(()));
        assert_eq!(
            device(&DeviceId::from("9f86d081884c7d659a2feaa0c55ad015")),
            Ok(())
        );
        assert_eq!(
            device(&DeviceId::from(tsunagi_proto::EXECUTOR_DEVICE)),
            Ok(())
        );
        for bad in [
            "",
            "../../.bashrc.d",
            "12/34",
            "12\\34",
            "１２",
            "1 2",
            "..",
        ] {
            assert!(channel(&ChannelId::from(bad)).is_err(), "{bad:?}");
            assert!(message(&MessageId::from(bad)).is_err(), "{bad:?}");
            assert!(device(&DeviceId::from(bad)).is_err(), "{bad:?}");
        }
        assert!(channel(&ChannelId::new("1".repeat(65))).is_err());

        let refused = channel(&ChannelId::new(format!("../{}", "a".repeat(1000)))).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "\"../{}\"… is not a LINE channel id (digits)",
                "a".repeat(37)
            )
        );
    }
}
