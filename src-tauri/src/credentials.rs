//! Secrets in the OS keyring (Secret Service, Keychain, Credential Manager): the device
//! token and LINE credentials live there and nowhere else.

use crate::ipc::KeyringStatus;

const SERVICE: &str = "app.tsunagi.desk";

/// Asks the keyring for an entry that does not exist: a keyring that answers "no such
/// entry" works; anything else means secrets cannot be kept on this machine.
pub(crate) fn probe() -> KeyringStatus {
    let entry = match keyring::Entry::new(SERVICE, "keyring-probe") {
        Ok(entry) => entry,
        Err(e) => return unavailable(&e),
    };
    match entry.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => KeyringStatus::Available,
        Err(e) => unavailable(&e),
    }
}

fn unavailable(error: &keyring::Error) -> KeyringStatus {
    tracing::warn!(%error, "the OS keyring is not available");
    let reason = match error {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            if cfg!(target_os = "linux") {
                "No keyring service is running. Install and unlock GNOME Keyring or KWallet, then restart Tsunagi."
            } else {
                "The system keychain could not be opened."
            }
        }
        _ => "The system keychain refused the request.",
    };
    KeyringStatus::Unavailable {
        reason: reason.to_owned(),
    }
}
