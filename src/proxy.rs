//! Behind a reverse proxy: the client's address from
//! `X-Forwarded-For` or `Forwarded` (RFC 7239) when the connection comes
//! from a trusted proxy (`--trust-proxy`). Pure functions, run on each
//! client's own thread after its handshake. (The same-origin rule for a
//! browser's `Origin` through a proxy lives with the origin policy, in
//! `http/origin.rs`.)

use std::net::{IpAddr, SocketAddr};

use crate::addr::{canonical, canonical_addr};
use crate::http::head::Head;

/// The client's address for an upgrade request `head` that came from
/// `peer`: [`client_addr`] over its `X-Forwarded-For` and `Forwarded` lists.
pub fn client_of(peer: SocketAddr, head: &Head, trusted: &[IpAddr]) -> SocketAddr {
    if trusted.is_empty() {
        return canonical_addr(peer);
    }
    let x_forwarded_for: Vec<&str> = head.list("X-Forwarded-For").collect();
    let forwarded: Vec<&str> = head.list("Forwarded").collect();
    client_addr(peer, trusted, &x_forwarded_for, &forwarded)
}

/// The client's address for a connection from `peer`. From a trusted proxy
/// (`--trust-proxy`), the rightmost address in `X-Forwarded-For` (all its
/// lines, in order) that is not itself a trusted proxy; with no
/// `X-Forwarded-For`, the same from `Forwarded`'s `for=` parameters. From
/// anyone else, `peer`: those headers are the client's own word then.
///
/// `X-Forwarded-For` comes first because nginx and Caddy set it, appending
/// the address they saw; a `Forwarded` header they pass through untouched
/// would be whatever the client wrote. The rightmost untrusted entry is the
/// one the last trusted proxy saw: entries left of it are the client's claim.
/// An entry that is not an address (`unknown`, an obfuscated name) where
/// the client should be leaves `peer`.
pub fn client_addr(
    peer: SocketAddr,
    trusted: &[IpAddr],
    x_forwarded_for: &[&str],
    forwarded: &[&str],
) -> SocketAddr {
    let peer = canonical_addr(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| canonical(*t) == canonical(ip));
    if !is_trusted(peer.ip()) {
        return peer;
    }
    let hops: Vec<&str> = if x_forwarded_for.iter().any(|v| !v.trim().is_empty()) {
        x_forwarded_for
            .iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .filter_map(forwarded_for)
            .collect()
    };
    for hop in hops.iter().rev() {
        match parse_node(hop) {
            Some(addr) if is_trusted(addr.ip()) => continue,
            Some(addr) => return addr,
            None => return peer,
        }
    }
    peer
}

/// The `for=` value of one `Forwarded` element (`for=..;proto=..;by=..`),
/// quotes removed.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`. No port: 0.
/// In canonical form (`::ffff:192.0.2.1` is `192.0.2.1`).
fn parse_node(node: &str) -> Option<SocketAddr> {
    parse_node_as_written(node).map(canonical_addr)
}

fn parse_node_as_written(node: &str) -> Option<SocketAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 0));
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr);
    }
    let ip = node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()?;
    Some(SocketAddr::new(ip, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_only_from_trusted_proxies() {
        let proxy = addr("127.0.0.1:5000");
        let trusted = [proxy.ip()];
        // From the proxy: the address it appended.
        let got = client_addr(proxy, &trusted, &["203.0.113.9"], &[]);
        assert_eq!(got, addr("203.0.113.9:0"));
        // From anyone else: ignored.
        let stranger = addr("198.51.100.7:6000");
        assert_eq!(
            client_addr(stranger, &trusted, &["203.0.113.9"], &[]),
            stranger
        );
        // Nothing trusted (the default): ignored.
        assert_eq!(client_addr(proxy, &[], &["203.0.113.9"], &[]), proxy);
    }

    #[test]
    fn the_rightmost_untrusted_hop_wins() {
        let proxy = addr("10.0.0.2:5000");
        let trusted = [proxy.ip(), "10.0.0.1".parse().unwrap()];
        // A client claims 1.2.3.4; the first proxy saw 203.0.113.9; the
        // second proxy (trusted) saw the first (trusted).
        let xff = ["1.2.3.4, 203.0.113.9", "10.0.0.1"];
        assert_eq!(
            client_addr(proxy, &trusted, &xff, &[]),
            addr("203.0.113.9:0")
        );
        // All trusted: the peer.
        assert_eq!(client_addr(proxy, &trusted, &["10.0.0.1"], &[]), proxy);
        // Not an address where the client should be: the peer.
        assert_eq!(
            client_addr(proxy, &trusted, &["203.0.113.9, unknown"], &[]),
            proxy
        );
        // Ports and IPv6 as proxies write them.
        assert_eq!(
            client_addr(proxy, &trusted, &["[2001:db8::1]:4711"], &[]),
            addr("[2001:db8::1]:4711")
        );
        assert_eq!(
            client_addr(proxy, &trusted, &["2001:db8::1"], &[]),
            addr("[2001:db8::1]:0")
        );
    }

    #[test]
    fn forwarded_when_there_is_no_x_forwarded_for() {
        let proxy = addr("127.0.0.1:5000");
        let trusted = [proxy.ip()];
        let forwarded = ["for=1.2.3.4;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=127.0.0.1"];
        assert_eq!(
            client_addr(proxy, &trusted, &[], &forwarded),
            addr("[2001:db8:cafe::17]:4711")
        );
        // X-Forwarded-For, set by the proxy, beats a Forwarded it passed on.
        assert_eq!(
            client_addr(proxy, &trusted, &["203.0.113.9"], &forwarded),
            addr("203.0.113.9:0")
        );
        assert_eq!(client_addr(proxy, &trusted, &[], &["for=_hidden"]), proxy);
    }

    /// A host is the same however it is written: an IPv4-mapped IPv6
    /// address (`::ffff:127.0.0.1`, what a dual-stack listener sees) is
    /// its IPv4 address, in the trust list, the peer and the headers, and
    /// the answer is in canonical form.
    #[test]
    fn mapped_and_plain_ipv4_are_one_host() {
        let mapped_proxy = addr("[::ffff:127.0.0.1]:5000");
        let plain_proxy = addr("127.0.0.1:5000");
        for (peer, trusted) in [
            (mapped_proxy, "127.0.0.1"),
            (plain_proxy, "::ffff:127.0.0.1"),
            (mapped_proxy, "::ffff:127.0.0.1"),
        ] {
            let trusted = [trusted.parse().unwrap()];
            let got = client_addr(peer, &trusted, &["::ffff:203.0.113.9"], &[]);
            assert_eq!(got, addr("203.0.113.9:0"), "{peer} {trusted:?}");
            // A trusted proxy written the other way is still skipped.
            let got = client_addr(peer, &trusted, &["198.51.100.1", "::ffff:127.0.0.1"], &[]);
            assert_eq!(got, addr("198.51.100.1:0"), "{peer} {trusted:?}");
            let got = client_addr(peer, &trusted, &[], &["for=\"[::ffff:198.51.100.2]:80\""]);
            assert_eq!(got, addr("198.51.100.2:80"), "{peer} {trusted:?}");
        }
        // Untrusted: the peer, in canonical form.
        let trusted = ["10.0.0.1".parse().unwrap()];
        assert_eq!(
            client_addr(mapped_proxy, &trusted, &["203.0.113.9"], &[]),
            plain_proxy
        );
    }

    mod properties {
        use super::*;
        use crate::addr::canonical;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// Any header lines: never a panic; an untrusted peer's headers
            /// are ignored; from a trusted one, the answer is the peer or an
            /// untrusted address, in canonical form.
            #[test]
            fn the_answer_is_the_peer_or_untrusted(
                xff in proptest::collection::vec("[0-9a-f.:\\[\\], ]{0,40}", 0..3),
                fwd in proptest::collection::vec("(for=|For=|by=|;|,| |\"|[0-9a-f.:\\[\\]]){0,20}", 0..3),
            ) {
                let xff: Vec<&str> = xff.iter().map(String::as_str).collect();
                let fwd: Vec<&str> = fwd.iter().map(String::as_str).collect();
                let trusted: [IpAddr; 2] = ["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
                let stranger = addr("198.51.100.7:6000");
                prop_assert_eq!(client_addr(stranger, &trusted, &xff, &fwd), stranger);
                let proxy = addr("[::ffff:10.0.0.1]:5000");
                let got = client_addr(proxy, &trusted, &xff, &fwd);
                prop_assert_eq!(canonical_addr(got), got);
                if got != canonical_addr(proxy) {
                    prop_assert!(!trusted.contains(&canonical(got.ip())), "{}", got);
                }
            }
        }
    }
}
