//! The relay address an owner or staff member types in: what the desk accepts, normalized.

use url::{Host, Url};

/// A usable relay address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayUrl {
    /// The address as the desk will use it: no trailing slash, no path noise.
    pub url: Url,
    /// False only for a relay on this machine over plain HTTP (the demo).
    pub encrypted: bool,
}

impl RelayUrl {
    /// The address LINE calls for a channel, with `{channel_id}` to fill in.
    pub fn webhook_template(&self) -> String {
        format!("{}/webhook/line/{{channel_id}}", self.as_str())
    }

    /// The address without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }
}

/// Why an address cannot be used; each says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("Enter the relay's address.")]
    Empty,
    #[error("“{input}” is not a web address. It looks like https://relay.example.com")]
    NotAnAddress { input: String },
    #[error("The relay address needs a host name, like https://relay.example.com")]
    NoHost,
    #[error("The relay must use https:// (plain http:// is only for a relay on this computer).")]
    PlainHttp,
    #[error("The relay address must start with https://, not {scheme}://")]
    Scheme { scheme: String },
    #[error("Leave the user name and password out of the relay address.")]
    Credentials,
    #[error("The relay address cannot have ?… or #… in it.")]
    QueryOrFragment,
}

/// Accepts `https://…` anywhere, and `http://` only for this machine (the demo relay).
pub fn check(input: &str) -> Result<RelayUrl, Problem> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Problem::Empty);
    }
    let url = Url::parse(input).map_err(|_| Problem::NotAnAddress {
        input: input.to_owned(),
    })?;
    let local = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(Problem::NoHost),
    };
    let encrypted = match url.scheme() {
        "https" => true,
        "http" if local => false,
        "http" => return Err(Problem::PlainHttp),
        other => {
            return Err(Problem::Scheme {
                scheme: other.to_owned(),
            });
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Problem::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Problem::QueryOrFragment);
    }
    let normalized = url.as_str().trim_end_matches('/').to_owned();
    let url = Url::parse(&normalized).map_err(|_| Problem::NotAnAddress {
        input: input.to_owned(),
    })?;
    Ok(RelayUrl { url, encrypted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_address_is_normalized() {
        let checked = check("  https://Relay.Example.com/ ").expect("valid");
        assert_eq!(checked.as_str(), "https://relay.example.com");
        assert_eq!(
            checked.webhook_template(),
            "https://relay.example.com/webhook/line/{channel_id}"
        );
        assert!(checked.encrypted);
    }

    #[test]
    fn a_path_prefix_is_kept() {
        let checked = check("https://example.com/tsunagi/").expect("valid");
        assert_eq!(checked.as_str(), "https://example.com/tsunagi");
    }

    #[test]
    fn plain_http_is_only_for_this_machine() {
        assert!(!check("http://127.0.0.1:8080").expect("local").encrypted);
        assert!(!check("http://localhost:8080").expect("local").encrypted);
        assert!(!check("http://[::1]:8080").expect("local").encrypted);
        assert_eq!(check("http://relay.example.com"), Err(Problem::PlainHttp));
    }

    #[test]
    fn nonsense_gets_a_reason_that_says_what_to_type() {
        assert_eq!(check(" "), Err(Problem::Empty));
        assert!(
            check("relay.example.com")
                .unwrap_err()
                .to_string()
                .contains("https://relay.example.com")
        );
        assert_eq!(
            check("ftp://relay.example.com"),
            Err(Problem::Scheme {
                scheme: "ftp".into()
            })
        );
        assert_eq!(
            check("https://u:p@relay.example.com"),
            Err(Problem::Credentials)
        );
        assert_eq!(
            check("https://relay.example.com/?x=1"),
            Err(Problem::QueryOrFragment)
        );
    }
}
