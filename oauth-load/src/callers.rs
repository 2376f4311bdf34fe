//! Where each connection comes from. The demo's failure limiter keys its budgets by the
//! caller's IP address, and counts credential checks still under way against them: one
//! address may have at most the budget (10) of them in flight, and the rest are asked to
//! retry in a second (`429`). Many connections from one address would measure that
//! guard, not the server; so against a loopback IPv4 server each worker connects from
//! its own loopback address (`127.0.0.2`, `127.0.0.3`, ...), as that many separate
//! callers would. Linux routes all of `127.0.0.0/8` to the loopback interface.

use std::net::{IpAddr, Ipv4Addr};

/// The source address of worker `index` against the server at `base`: a loopback
/// address of its own when `base` is a loopback IPv4 URL, else none (the system's
/// choice).
pub fn source_address(base: &str, index: usize) -> Option<IpAddr> {
    let url = url::Url::parse(base).ok()?;
    let Some(url::Host::Ipv4(host)) = url.host() else {
        return None;
    };
    if !host.is_loopback() {
        return None;
    }
    // 127.0.0.2 upwards, past 127.0.0.255 into 127.0.1.x: 65,000 workers at most.
    let n = u16::try_from(index).ok()?.checked_add(2)?;
    let [high, low] = n.to_be_bytes();
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, high, low)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_loopback_address_per_worker_against_a_loopback_server() {
        let base = "http://127.0.0.1:8080";
        assert_eq!(
            source_address(base, 0),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        );
        assert_eq!(
            source_address(base, 63),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 65)))
        );
        assert_eq!(
            source_address(base, 300),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 46)))
        );
        assert_eq!(source_address("http://example.com", 0), None);
        assert_eq!(source_address("http://[::1]:8080", 0), None);
        assert_eq!(source_address("http://10.0.0.1:8080", 0), None);
    }
}
