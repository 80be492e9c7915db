//! The relay's calls to addresses others name: the AI endpoint an owner types into the
//! settings, and the Telegram Bot API the operator configures. An owner of one channel must
//! not be able to make the relay reach what only the relay can reach (its loopback, the
//! cloud's metadata service at 169.254.169.254, the hosting network), nor learn about it
//! from what comes back. So, for every call through an [`Egress`]:
//!
//! - **Only public addresses**, unless the relay's operator allows a network
//!   (`--allow-networks`, for a clinic whose model runs on its own LAN). Checked on the
//!   address the call connects to, after resolution, by the client's own resolver: a name
//!   that resolves to a public address when saved and to 127.0.0.1 when called (DNS
//!   rebinding) is refused all the same. A literal IP never reaches a resolver, so it is
//!   checked before the call ([`Egress::client`]).
//! - **HTTPS**, except to an address inside an allowed network: plain `http://` is for the
//!   operator's own network (a LAN model), never the internet, where it would carry the
//!   clinic's API key and its patients' words in clear.
//! - **No redirects**: a 3xx is an answer, and an error to the caller; a redirect would
//!   lead the call where no check looked.
//! - **No proxy from the environment**: a proxy connects to addresses this check never
//!   sees.
//! - **Bounded**: a connect timeout, a total timeout, and bodies read up to a cap
//!   ([`read_capped`]), never buffered whole.
//!
//! Callers keep what went wrong out of anything a desk shows (see `assistant`): the
//! details go to the relay's own log.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long any one call may take, body included; callers may set less.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a check at the edge waits for a name to resolve.
const RESOLVE_AT_EDGE: Duration = Duration::from_secs(3);

/// Why the relay will not call an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not an http:// or https:// address with a host")]
    Invalid,
    #[error(
        "the relay calls services over https:// (plain http:// only inside a network its \
         operator allows)"
    )]
    NotHttps,
    #[error(
        "{0} is a private, loopback, link-local or reserved address, which the relay calls \
         only in a network its operator allows"
    )]
    Address(IpAddr),
    #[error(
        "{0} resolves only to private, loopback, link-local or reserved addresses, which the \
         relay calls only in a network its operator allows"
    )]
    Name(String),
}

/// The clients for calls to addresses others name, and the networks the relay's operator
/// allows beside the public internet. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Egress {
    allowed: Arc<[IpNet]>,
    /// For `https://`: public addresses, and those in allowed networks.
    https: reqwest::Client,
    /// For `http://`: addresses in allowed networks only.
    http: reqwest::Client,
}

impl Default for Egress {
    /// Public addresses only, over HTTPS.
    fn default() -> Self {
        Egress::new(Vec::new())
    }
}

impl Egress {
    /// Calls public addresses over HTTPS, and addresses in `allowed` over either.
    pub fn new(allowed: Vec<IpNet>) -> Egress {
        let allowed: Arc<[IpNet]> = allowed.into_iter().map(|n| n.trunc()).collect();
        let client = |public: bool| {
            let guard = Guard {
                allowed: allowed.clone(),
                public,
            };
            reqwest::Client::builder()
                .dns_resolver(Arc::new(guard))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .https_only(public)
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(CALL_TIMEOUT)
                .build()
                // As `reqwest::Client::new` does: only a TLS backend that cannot start fails.
                .expect("the HTTP client starts")
        };
        Egress {
            https: client(true),
            http: client(false),
            allowed,
        }
    }

    /// The networks the operator allows beside the public internet.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether a call over `https` (else plain http) may connect to `ip`.
    pub fn permits(&self, ip: IpAddr, https: bool) -> bool {
        permits(&self.allowed, ip, https)
    }

    /// `address` parsed, if its scheme and host may be called; a name is checked again on
    /// every call, where it resolves.
    pub fn check(&self, address: &str) -> Result<Url, Refused> {
        let url = Url::parse(address.trim()).map_err(|_| Refused::Invalid)?;
        let https = match url.scheme() {
            "https" => true,
            "http" if !self.allowed.is_empty() => false,
            "http" => return Err(Refused::NotHttps),
            _ => return Err(Refused::Invalid),
        };
        let ip = match url.host() {
            None => return Err(Refused::Invalid),
            Some(Host::Domain(_)) => return Ok(url),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        if !self.permits(ip, https) {
            return Err(match (https, is_public(ip)) {
                (false, true) => Refused::NotHttps,
                _ => Refused::Address(ip.to_canonical()),
            });
        }
        Ok(url)
    }

    /// As [`Egress::check`], and a name is resolved now: for a clear answer when an owner
    /// saves an address. A name that does not resolve now is let through (it may later; it
    /// is checked on every call).
    pub async fn check_now(&self, address: &str) -> Result<Url, Refused> {
        let url = self.check(address)?;
        let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default())
        else {
            return Ok(url);
        };
        let lookup = tokio::net::lookup_host((name, port));
        let Ok(Ok(found)) = tokio::time::timeout(RESOLVE_AT_EDGE, lookup).await else {
            return Ok(url);
        };
        let found: Vec<SocketAddr> = found.collect();
        let https = url.scheme() == "https";
        if !found.is_empty() && !found.iter().any(|a| self.permits(a.ip(), https)) {
            return Err(Refused::Name(name.to_owned()));
        }
        Ok(url)
    }

    /// The client to call `address` with, and the address parsed, if it may be called.
    pub fn client(&self, address: &str) -> Result<(&reqwest::Client, Url), Refused> {
        let url = self.check(address)?;
        let client = if url.scheme() == "https" {
            &self.https
        } else {
            &self.http
        };
        Ok((client, url))
    }
}

/// A network as an operator writes it: `10.1.0.0/16`, `fd00::/8`, or one address.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not a network (`192.168.1.0/24`) or an address"))
}

/// Resolves names for a client, keeping only the addresses it may connect to.
#[derive(Debug)]
struct Guard {
    allowed: Arc<[IpNet]>,
    /// Whether public addresses are kept too (for HTTPS).
    public: bool,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_owned();
        let allowed = self.allowed.clone();
        let https = self.public;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> =
                found.filter(|a| permits(&allowed, a.ip(), https)).collect();
            if kept.is_empty() {
                return Err(Box::new(Refused::Name(name)) as Box<_>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

fn permits(allowed: &[IpNet], ip: IpAddr, https: bool) -> bool {
    let ip = ip.to_canonical();
    allowed.iter().any(|n| n.contains(&ip)) || (https && is_public(ip))
}

/// Whether `ip` is an address on the public internet: not loopback, private, link-local,
/// shared (CGNAT), multicast, broadcast, unspecified, documentation, benchmarking or
/// otherwise reserved; an IPv6 form of an IPv4 address is judged as that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// IPv4 networks that are not the public internet (IANA's special-purpose registry).
const NOT_PUBLIC_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),       // "this network", 0.0.0.0 among it
    v4(10, 0, 0, 0, 8),      // private
    v4(100, 64, 0, 0, 10),   // shared address space (carrier-grade NAT)
    v4(127, 0, 0, 0, 8),     // loopback
    v4(169, 254, 0, 0, 16),  // link-local, the cloud's metadata service among it
    v4(172, 16, 0, 0, 12),   // private
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments
    v4(192, 0, 2, 0, 24),    // documentation
    v4(192, 88, 99, 0, 24),  // 6to4 relays (deprecated)
    v4(192, 168, 0, 0, 16),  // private
    v4(198, 18, 0, 0, 15),   // benchmarking
    v4(198, 51, 100, 0, 24), // documentation
    v4(203, 0, 113, 0, 24),  // documentation
    v4(224, 0, 0, 0, 4),     // multicast
    v4(240, 0, 0, 0, 4),     // reserved, 255.255.255.255 among it
];

/// IPv6 networks that are not the public internet. IPv4-mapped addresses (`::ffff:0:0/96`)
/// were made IPv4 before; NAT64 and 6to4 addresses are judged by the IPv4 address inside.
const NOT_PUBLIC_V6: [Ipv6Net; 11] = [
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96), // unspecified, loopback, IPv4-compatible
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments, Teredo among it
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), // unique local (private)
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
];

const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// IPv4-translated addresses (`::ffff:0:a.b.c.d`, RFC 2765), judged like NAT64's.
const TRANSLATED: Ipv6Net = v6([0, 0, 0, 0, 0xffff, 0, 0, 0], 96);
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NOT_PUBLIC_V4.iter().any(|n| n.contains(&ip))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let octets = ip.octets();
    if NAT64.contains(&ip) || TRANSLATED.contains(&ip) {
        let [.., a, b, c, d] = octets;
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if SIX_TO_FOUR.contains(&ip) {
        return is_public_v4(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    !NOT_PUBLIC_V6.iter().any(|n| n.contains(&ip))
}

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is longer than {limit} bytes")]
    TooLong { limit: usize },
    #[error("the body could not be read: {0}")]
    Read(#[source] reqwest::Error),
}

/// `response`'s body, if it is at most `limit` bytes: read by chunks, and given up as soon
/// as it is longer, so an endless body costs no more than `limit`.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLong { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLong { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// An error and its causes, for the relay's log (`error sending request: …: 127.0.0.1 is a
/// loopback address`).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or_else(|_| panic!("{text} is an address"))
    }

    #[test]
    fn loopback_private_link_local_and_reserved_addresses_in_every_form_are_not_public() {
        for text in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.20",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::ffff:0:7f00:1",
            "::ffff:0:a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
        ] {
            assert!(!is_public(ip(text)), "{text} was taken for public");
        }
        for text in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700::1111",
            "2404:6800:4004::200e",
        ] {
            assert!(is_public(ip(text)), "{text} was taken for not public");
        }
    }

    #[test]
    fn the_metadata_service_and_loopback_are_refused_before_any_call_as_literal_addresses() {
        let egress = Egress::default();
        for (address, refused) in [
            (
                "http://169.254.169.254/latest/meta-data/",
                Refused::NotHttps,
            ),
            (
                "https://169.254.169.254/latest/meta-data/",
                Refused::Address(ip("169.254.169.254")),
            ),
            (
                "https://127.0.0.1:8080/v1",
                Refused::Address(ip("127.0.0.1")),
            ),
            // The same loopback as url writes other spellings of it.
            ("https://2130706433/v1", Refused::Address(ip("127.0.0.1"))),
            ("https://0x7f.1/v1", Refused::Address(ip("127.0.0.1"))),
            (
                "https://[::ffff:127.0.0.1]/v1",
                Refused::Address(ip("127.0.0.1")),
            ),
            ("https://[::1]/v1", Refused::Address(ip("::1"))),
            ("https://[fe80::1]/v1", Refused::Address(ip("fe80::1"))),
            ("https://10.0.0.5/v1", Refused::Address(ip("10.0.0.5"))),
            ("http://ai.example.com/v1", Refused::NotHttps),
            ("ftp://ai.example.com/v1", Refused::Invalid),
            ("file:///etc/passwd", Refused::Invalid),
            ("not an address", Refused::Invalid),
        ] {
            assert_eq!(egress.check(address), Err(refused), "{address}");
        }
        assert!(egress.check("https://ai.example.com/v1").is_ok());
        assert!(egress.check("https://8.8.8.8/v1").is_ok());
    }

    #[test]
    fn an_allowed_network_is_called_over_http_or_https_and_nothing_else_over_http() {
        let lan = parse_network("192.168.1.0/24").unwrap_or_else(|e| panic!("{e}"));
        let one = parse_network(" 10.9.8.7 ").unwrap_or_else(|e| panic!("{e}"));
        let egress = Egress::new(vec![lan, one]);
        for address in [
            "http://192.168.1.20:11434/v1",
            "https://192.168.1.20/v1",
            "http://10.9.8.7/v1",
            "http://[::ffff:192.168.1.20]/v1",
            // A name over http: resolved, and kept only inside the allowed networks.
            "http://model.clinic.lan/v1",
        ] {
            assert!(egress.check(address).is_ok(), "{address}");
        }
        assert_eq!(
            egress.check("http://10.9.8.8/v1"),
            Err(Refused::Address(ip("10.9.8.8")))
        );
        assert_eq!(egress.check("http://8.8.8.8/v1"), Err(Refused::NotHttps));
        assert_eq!(
            egress.check("https://169.254.169.254/"),
            Err(Refused::Address(ip("169.254.169.254")))
        );
        assert!(!egress.permits(ip("8.8.8.8"), false));
        assert!(egress.permits(ip("8.8.8.8"), true));
        assert!(parse_network("192.168.1.0/33").is_err());
        assert!(parse_network("clinic").is_err());
    }
}
