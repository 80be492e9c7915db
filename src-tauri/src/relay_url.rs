//! Checking the relay address an owner or staff member types in.

use url::{Host, Url};

use crate::ipc::{IpcError, RelayUrlChecked};

/// Accepts `https://…` anywhere, and `http://` only for this machine (the demo relay).
pub(crate) fn check(input: &str) -> Result<RelayUrlChecked, IpcError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(IpcError::invalid_input("Enter the relay's address."));
    }
    let url = Url::parse(input).map_err(|e| {
        IpcError::invalid_input(format!(
            "“{input}” is not a web address ({e}). It looks like https://relay.example.com"
        ))
    })?;
    let local = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => {
            return Err(IpcError::invalid_input(
                "The relay address needs a host name, like https://relay.example.com",
            ));
        }
    };
    let encrypted = match url.scheme() {
        "https" => true,
        "http" if local => false,
        "http" => {
            return Err(IpcError::invalid_input(
                "The relay must use https:// (plain http:// is only for a relay on this computer).",
            ));
        }
        other => {
            return Err(IpcError::invalid_input(format!(
                "The relay address must start with https://, not {other}://"
            )));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(IpcError::invalid_input(
            "Leave the user name and password out of the relay address.",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(IpcError::invalid_input(
            "The relay address cannot have ?… or #… in it.",
        ));
    }
    let relay_url = url.as_str().trim_end_matches('/').to_owned();
    Ok(RelayUrlChecked {
        webhook_url_template: format!("{relay_url}/webhook/line/{{channel_id}}"),
        relay_url,
        encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::ErrorCode;

    fn refused(input: &str) -> String {
        let error = check(input).expect_err(input);
        assert_eq!(error.code, ErrorCode::InvalidInput);
        error.message
    }

    #[test]
    fn an_https_address_is_normalized() {
        let checked = check("  https://Relay.Example.com/ ").expect("valid");
        assert_eq!(checked.relay_url, "https://relay.example.com");
        assert_eq!(
            checked.webhook_url_template,
            "https://relay.example.com/webhook/line/{channel_id}"
        );
        assert!(checked.encrypted);
    }

    #[test]
    fn a_path_prefix_is_kept() {
        let checked = check("https://example.com/tsunagi/").expect("valid");
        assert_eq!(checked.relay_url, "https://example.com/tsunagi");
    }

    #[test]
    fn plain_http_is_only_for_this_machine() {
        assert!(!check("http://127.0.0.1:8080").expect("local").encrypted);
        assert!(!check("http://localhost:8080").expect("local").encrypted);
        assert!(!check("http://[::1]:8080").expect("local").encrypted);
        assert!(refused("http://relay.example.com").contains("https://"));
    }

    #[test]
    fn nonsense_gets_a_message_that_says_what_to_type() {
        assert!(refused("").contains("Enter"));
        assert!(refused("relay.example.com").contains("https://relay.example.com"));
        assert!(refused("ftp://relay.example.com").contains("ftp://"));
        assert!(refused("https://u:p@relay.example.com").contains("password"));
        assert!(refused("https://relay.example.com/?x=1").contains("?"));
    }
}
