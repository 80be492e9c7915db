//! Typed identifiers. LINE hands out many opaque strings; giving each its own type keeps a
//! user id from being passed where a reply token belongs.

/// Declares a string newtype id with serde, `Display`, a short `Debug` and conversions.
#[macro_export]
#[doc(hidden)]
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

crate::string_id!(
    /// A LINE user id: `U` followed by 32 hex digits, unique per provider.
    UserId
);
crate::string_id!(
    /// A group chat id: `C` followed by 32 hex digits.
    GroupId
);
crate::string_id!(
    /// A multi-person chat ("room") id: `R` followed by 32 hex digits.
    RoomId
);
crate::string_id!(
    /// The id LINE gives a message; used to fetch its content and to quote or unsend it.
    MessageId
);
crate::string_id!(
    /// The ULID that identifies one webhook event, stable across redeliveries.
    WebhookEventId
);
crate::string_id!(
    /// A single-use token for replying to the event that carried it.
    ReplyToken
);
crate::string_id!(
    /// A token that lets a later message quote this one.
    QuoteToken
);
crate::string_id!(
    /// A token for `markAsRead`, marking this message and all earlier ones read.
    MarkAsReadToken
);
crate::string_id!(
    /// The id of a LINE channel (a number, kept as text).
    ChannelId
);
crate::string_id!(
    /// LINE's id for one API request, from the `x-line-request-id` header.
    RequestId
);
