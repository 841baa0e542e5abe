//! One spelling per host: an address compares, and is logged, the same
//! however it was written. A dual-stack listener (`--bind ::`) sees an IPv4
//! client as `::ffff:192.0.2.1`, a proxy may write either form in
//! `X-Forwarded-For`, and `--trust-proxy` may name either: all of them go
//! through [`canonical`] before they are compared or shown. Pure functions;
//! owns nothing.

use std::net::{IpAddr, SocketAddr};

/// `ip` in canonical form: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
/// is the IPv4 address `a.b.c.d`; every other address is itself.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// `addr` with its address in canonical form ([`canonical`]), port kept.
pub fn canonical_addr(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical(addr.ip()), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_ipv4() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(canonical(mapped), v4);
        assert_eq!(canonical(v4), v4);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(canonical(v6), v6);
        // `::1` is IPv6 loopback, not an IPv4-compatible `0.0.0.1`.
        let lo6: IpAddr = "::1".parse().unwrap();
        assert_eq!(canonical(lo6), lo6);
        let addr: SocketAddr = "[::ffff:10.0.0.7]:4711".parse().unwrap();
        assert_eq!(canonical_addr(addr).to_string(), "10.0.0.7:4711");
    }
}
