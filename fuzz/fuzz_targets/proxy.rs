//! `Forwarded` / `X-Forwarded-For` (`proxy::client_addr`): never panics;
//! from an untrusted peer the headers are ignored; from a trusted one the
//! answer is the peer or an untrusted address the headers name.
#![no_main]
use std::net::{IpAddr, SocketAddr};

use chat_server::fuzz_api::{canonical, canonical_addr, client_addr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\u{0}');
    let xff_part = parts.next().unwrap_or("");
    let fwd_part = parts.next().unwrap_or("");
    let xff: Vec<&str> = xff_part.split('\n').collect();
    let fwd: Vec<&str> = fwd_part.split('\n').collect();
    let proxy: SocketAddr = "[::ffff:10.0.0.1]:5000".parse().unwrap();
    let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
    let stranger: SocketAddr = "198.51.100.7:6000".parse().unwrap();
    assert_eq!(client_addr(stranger, &trusted, &xff, &fwd), stranger);
    let got = client_addr(proxy, &trusted, &xff, &fwd);
    // However the peer is written, the answer is in canonical form.
    assert_eq!(canonical_addr(got), got, "{got} is not canonical");
    if got != canonical_addr(proxy) {
        assert!(!trusted.contains(&canonical(got.ip())), "{got}");
    }
});
