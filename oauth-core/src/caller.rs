//! Who the caller is, for the failure limiter: a key derived from the peer's address, and
//! the proxies whose forwarded-for headers may name a different one.
//!
//! Forwarded headers are believed only from configured proxies, never by default: anyone
//! can send `X-Forwarded-For`, and a limiter keyed by it would give every request a fresh
//! budget. An IPv6 caller is keyed by its /64, the smallest block a site is given, so one
//! host cannot draw fresh keys from its own prefix.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::error::Fault;

/// The key a caller's failed attempts are counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerKey(String);

impl CallerKey {
    /// The key of a caller at `ip`: an IPv4 address in its plain form (also when it arrived
    /// mapped into IPv6), an IPv6 address as its /64 prefix. The port is left out, since
    /// every new connection gets a new one.
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                Self(format!("{prefix}/64"))
            }
        }
    }

    /// The key as text, for [`FormRequest::with_caller`](crate::FormRequest::with_caller).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The reverse proxies in front of the server whose `X-Forwarded-For` header is believed.
/// Empty by default: the peer address is the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
}

/// Most entries of a forwarded-for header looked at: a longer chain is cut, so a caller
/// cannot make the walk expensive.
const MAX_FORWARDED_HOPS: usize = 16;

impl TrustedProxies {
    /// No proxy is trusted: the peer address is always the caller.
    pub fn none() -> Self {
        Self::default()
    }

    /// The proxies in `networks`, each an address or a CIDR block (`10.0.0.0/8`,
    /// `::1/128`, `192.0.2.7`); [`Fault::Config`] names the first that is neither.
    pub fn new<'a>(networks: impl IntoIterator<Item = &'a str>) -> Result<Self, Fault> {
        let mut parsed = Vec::new();
        for network in networks {
            parsed.push(parse_network(network).ok_or_else(|| {
                Fault::Config(format!("{network:?} is not an IP address or CIDR block"))
            })?);
        }
        Ok(Self { networks: parsed })
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks
            .iter()
            .any(|(network, bits)| in_network(ip, *network, *bits))
    }

    /// The caller's address: the peer itself unless it is a trusted proxy; then the
    /// `X-Forwarded-For` entries are read from the right (the nearest hop first), trusted
    /// proxies skipped, and the first other address is the caller. A malformed entry
    /// stops the walk at the last address known good, so garbage cannot pick the key.
    pub fn caller_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let mut caller = peer;
        if !self.contains(peer) {
            return caller;
        }
        let Some(header) = forwarded_for else {
            return caller;
        };
        for entry in header.rsplit(',').take(MAX_FORWARDED_HOPS) {
            let Some(hop) = parse_hop(entry.trim()) else {
                return caller;
            };
            caller = hop;
            if !self.contains(hop) {
                return caller;
            }
        }
        caller
    }

    /// The caller's key: [`CallerKey::from_ip`] of [`TrustedProxies::caller_ip`].
    pub fn caller_key(&self, peer: IpAddr, forwarded_for: Option<&str>) -> CallerKey {
        CallerKey::from_ip(self.caller_ip(peer, forwarded_for))
    }
}

/// One forwarded-for entry: an address, or an address with a port as some proxies write
/// it (`192.0.2.7:5120`, `[2001:db8::1]:443`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (address, bits) = match text.split_once('/') {
        Some((address, bits)) => (address, Some(bits)),
        None => (text, None),
    };
    let address: IpAddr = address.trim().parse().ok()?;
    let address = address.to_canonical();
    let max = if address.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(bits) => bits.trim().parse::<u8>().ok().filter(|b| *b <= max)?,
        None => max,
    };
    Some((address, bits))
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            prefix_equal(&ip.octets(), &network.octets(), bits)
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            prefix_equal(&ip.octets(), &network.octets(), bits)
        }
        _ => false,
    }
}

fn prefix_equal(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn rl03_an_ipv6_caller_is_keyed_by_its_64_and_ipv4_plainly() {
        assert_eq!(
            CallerKey::from_ip(ip("::ffff:192.0.2.7")).as_str(),
            "192.0.2.7"
        );
        assert_eq!(CallerKey::from_ip(ip("192.0.2.7")).as_str(), "192.0.2.7");
        let one = CallerKey::from_ip(ip("2001:db8:1:2:aaaa::1"));
        let other = CallerKey::from_ip(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(one, other, "one /64, one key");
        assert_eq!(one.as_str(), "2001:db8:1:2::/64");
        assert_ne!(one, CallerKey::from_ip(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn rl03_forwarded_for_counts_only_from_configured_proxies() {
        let header = Some("203.0.113.9, 198.51.100.1");
        // By default nobody is trusted: the header changes nothing.
        let none = TrustedProxies::none();
        assert_eq!(
            none.caller_ip(ip("198.51.100.1"), header),
            ip("198.51.100.1")
        );
        // A trusted proxy's header names the caller, read from the right.
        let proxies = TrustedProxies::new(["198.51.100.0/24", "10.0.0.1"]).unwrap();
        assert_eq!(proxies.caller_ip(ip("10.0.0.1"), header), ip("203.0.113.9"));
        // A peer that is not a proxy cannot choose its key by sending the header.
        assert_eq!(proxies.caller_ip(ip("192.0.2.1"), header), ip("192.0.2.1"));
        // An address with a port, as some proxies write it, is that address.
        assert_eq!(
            proxies.caller_ip(ip("10.0.0.1"), Some("203.0.113.9:5120")),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.caller_ip(ip("10.0.0.1"), Some("[2001:db8::7]:443")),
            ip("2001:db8::7")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            proxies.caller_ip(ip("10.0.0.1"), Some("203.0.113.9, junk")),
            ip("10.0.0.1")
        );
        // Entries left of the first untrusted hop are the caller's own words: ignored.
        assert_eq!(
            proxies.caller_ip(ip("10.0.0.1"), Some("192.0.2.66, 203.0.113.9")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn proxy_networks_are_parsed_strictly() {
        assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::new(["::1/129"]).is_err());
        assert!(TrustedProxies::new(["example.com"]).is_err());
        let v6 = TrustedProxies::new(["fd00::/8"]).unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
    }
}
