//! Caddy with TLS in front, configured by `contrib/Caddyfile` (README,
//! Deploy): the page over https, `/metrics` kept private, and two clients
//! chatting over `wss:` through `/ws/ROOM`, their `Origin` accepted without
//! a flag and the second one's address taken from `X-Forwarded-For`.
//! Skipped with a line when caddy or openssl is missing outside CI.

use testkit::proxy::*;
use testkit::{start_binary, WAIT};

#[test]
fn two_clients_chat_through_caddy() {
    if !have_with_openssl("caddy") {
        return;
    }
    let server = start_binary!(None, &["--bind", "127.0.0.1", "--trust-proxy", "127.0.0.1"]);
    let caddy = Caddy::start(server.page_addr, server.chat_addr);

    let (status, head, body) = https_get(caddy.https, &caddy.cert, "/");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("WebSocket"), "not the page: {body}");
    let (status, head, _) = https_get(caddy.https, &caddy.cert, "/metrics");
    assert_eq!(status, 404, "/metrics should stay private: {head}");

    // b comes over IPv6: its forwarded address (::1) is not Caddy's own.
    two_clients_chat_through(caddy.https, caddy.https_v6, &caddy.cert, &|| caddy.log());

    let line = server
        .wait_log("forwards for ::1", WAIT)
        .expect("a log line with b's forwarded address");
    assert!(line.contains("127.0.0.1"), "{line}");
}
