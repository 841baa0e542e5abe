//! The Origin check behind a proxy: a browser's
//! `Origin` whose host and port equal the request's `Host` is accepted
//! without a flag (what a proxy that passes `Host` on delivers), and so is
//! the `--public-url` origin; any other origin still gets 403.

use testkit::*;

use chat_server::Config;

/// An upgrade request to `addr` with this `Host` and `Origin`; the status.
fn handshake(addr: std::net::SocketAddr, host: &str, origin: &str) -> u16 {
    let request = format!(
        "GET /ws/lobby HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: {origin}\r\n\r\n"
    );
    let (status, _head, _stream) = http_exchange(addr, request.as_bytes());
    status
}

#[test]
fn same_host_and_port_as_the_request_is_accepted() {
    let server = start_server();
    let chat = server.chat_addr();
    let accepted = [
        ("chat.example.org", "https://chat.example.org"),
        ("chat.example.org:443", "https://chat.example.org"),
        ("Chat.Example.org:8443", "https://chat.example.org:8443"),
        ("127.0.0.1:41234", "https://127.0.0.1:41234"),
        ("[::1]:41234", "https://[::1]:41234"),
    ];
    for (host, origin) in accepted {
        assert_eq!(
            handshake(chat, host, origin),
            101,
            "Host {host}, Origin {origin}"
        );
    }
    let refused = [
        ("chat.example.org", "https://evil.example"),
        ("chat.example.org", "https://chat.example.org:8443"),
        ("chat.example.org:443", "http://chat.example.org"),
        ("chat.example.org", "https://chat.example.org.evil.example"),
        ("chat.example.org", "null"),
        ("[::1]:41234", "https://[::1]:41235"),
    ];
    for (host, origin) in refused {
        assert_eq!(
            handshake(chat, host, origin),
            403,
            "Host {host}, Origin {origin}"
        );
    }
}

#[test]
fn the_public_url_origin_is_accepted() {
    // A proxy that rewrites Host (nginx's default, `Host: 127.0.0.1:PORT`)
    // still works when --public-url names the address people open.
    let public = "https://chat.example.org/class/";
    let server = start_server_with(Config {
        public_url: Some(public.to_owned()),
        ..test_config()
    });
    let chat = server.chat_addr();
    let host = chat.to_string();
    assert_eq!(handshake(chat, &host, "https://chat.example.org"), 101);
    assert_eq!(handshake(chat, &host, "https://CHAT.example.org:443"), 101);
    assert_eq!(handshake(chat, &host, "http://chat.example.org"), 403);
    assert_eq!(handshake(chat, &host, "https://other.example.org"), 403);

    // Without the flag the same request is refused.
    let plain = start_server();
    let host = plain.chat_addr().to_string();
    assert_eq!(
        handshake(plain.chat_addr(), &host, "https://chat.example.org"),
        403
    );
}
