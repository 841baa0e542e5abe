//! A page request line that cannot be HTTP/1.x (an HTTP/0.9 `GET /`, a TLS
//! hello, bytes that are not a method) gets 400 as soon as it is seen, as
//! on the chat port, not 408 at the page timeout.

use testkit::*;

use std::time::{Duration, Instant};

#[test]
fn a_request_line_that_is_not_http_is_answered_at_once() {
    let mut config = test_config();
    config.limits.page_timeout = Duration::from_secs(30);
    config.limits.handshake_timeout = Duration::from_secs(30);
    let server = start_server_with(config);
    for addr in [server.page_addr(), server.chat_addr()] {
        for request in [
            &b"GET /\r\n"[..],
            b"GET / HTTP/1.1 extra\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
            b"\x00\x00\x00\x00",
            b" GET / HTTP/1.1\r\n",
        ] {
            let started = Instant::now();
            let (status, head, _) = http_exchange(addr, request);
            assert_eq!(status, 400, "{addr} {request:?}: {head}");
            assert!(started.elapsed() < Duration::from_secs(3), "{request:?}");
        }
    }
}
