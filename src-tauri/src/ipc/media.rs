//! Files and links: a message's file saved where the user chooses, a web address opened in
//! the browser, and whether LINE can fetch the photos operators send.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `link_open`: a web address to open in the system's browser (a shared location's map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinkRequest {
    pub url: String,
}

/// `media_save`: a message's file (a photo, video, voice message or file a patient sent),
/// to save where the user chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MediaSaveRequest {
    /// LINE's message id.
    pub message: String,
    /// The name the patient gave the file, if any (the desk keeps only a safe name of it).
    pub file_name: Option<String>,
    /// The dialog's title, in the user's language.
    pub title: String,
}

/// Whether LINE can fetch the photos operators send from the relay's public address, as
/// the relay last found (`photo_delivery_get`) or found now (`photo_delivery_check`,
/// owners). The relay fetches an image of its own through that address, as LINE would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PhotoDeliveryView {
    pub ok: bool,
    /// The address the relay fetched.
    pub url: String,
    /// Why LINE cannot fetch from there; null when it can.
    pub problem: Option<PhotoProblem>,
    /// What the relay saw, in English (`answered 404 Not Found`, the TLS error).
    pub detail: Option<String>,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub checked_at: i64,
}

/// Why LINE cannot fetch photos from the relay: each has its own words in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoProblem {
    NotHttps,
    PrivateAddress,
    Certificate,
    Unreachable,
    Redirected,
    Status,
    NotAnImage,
    NotThisRelay,
    /// From a newer relay: the detail says what.
    Unknown,
}

impl From<tsunagi_proto::api::PhotoDelivery> for PhotoDeliveryView {
    fn from(found: tsunagi_proto::api::PhotoDelivery) -> Self {
        use tsunagi_proto::api::PhotoProblem as Relay;
        PhotoDeliveryView {
            ok: found.ok,
            url: found.url,
            problem: found.problem.map(|problem| match problem {
                Relay::NotHttps => PhotoProblem::NotHttps,
                Relay::PrivateAddress => PhotoProblem::PrivateAddress,
                Relay::Certificate => PhotoProblem::Certificate,
                Relay::Unreachable => PhotoProblem::Unreachable,
                Relay::Redirected => PhotoProblem::Redirected,
                Relay::Status => PhotoProblem::Status,
                Relay::NotAnImage => PhotoProblem::NotAnImage,
                Relay::NotThisRelay => PhotoProblem::NotThisRelay,
                Relay::Unknown => PhotoProblem::Unknown,
            }),
            detail: found.detail,
            checked_at: found.checked_at,
        }
    }
}
