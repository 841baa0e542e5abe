//! Every refusal, on both ports, carries the header fields HTTP requires
//! for its status (RFC 9110 section 15): a body length
//! and type, `Connection: close` when we close, `Allow` on 405, `Upgrade`
//! on 426, `Sec-WebSocket-Version` on a version refusal, `Retry-After` on
//! 503.

use testkit::*;

use chat_server::{Config, Limits};

/// (what it shows, the request, the status, fields the answer must have).
type Case<R> = (&'static str, R, u16, Vec<(&'static str, &'static str)>);

/// The fields every refusal has.
fn assert_closing_answer(what: &str, head: &str) {
    let length: usize = header_value(head, "Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no Content-Length: {head}"));
    if length > 0 {
        assert!(
            header_value(head, "Content-Type").is_some(),
            "{what}: {head}"
        );
    }
    let connection = header_value(head, "Connection").unwrap_or("");
    assert!(
        connection.split(',').any(|o| o.trim() == "close"),
        "{what}: {head}"
    );
}

#[test]
fn chat_port_refusals_carry_their_fields() {
    let server = start_server();
    let addr = server.chat_addr();
    let upgrade = upgrade_request(addr, "");
    let cases: Vec<Case<String>> = vec![
        (
            "not GET",
            upgrade.replacen("GET", "POST", 1),
            405,
            vec![("Allow", "GET")],
        ),
        (
            "no upgrade",
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
            426,
            vec![("Upgrade", "websocket"), ("Connection", "Upgrade, close")],
        ),
        (
            "version 8",
            upgrade.replace("Version: 13", "Version: 8"),
            426,
            vec![("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket")],
        ),
        (
            "bad key",
            upgrade.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
            400,
            vec![],
        ),
        (
            "HTTP/1.0",
            upgrade.replace("HTTP/1.1", "HTTP/1.0"),
            400,
            vec![],
        ),
        (
            "foreign origin",
            upgrade_request(addr, "Origin: http://evil.example\r\n"),
            403,
            vec![],
        ),
    ];
    for (what, request, want, fields) in cases {
        let (status, head, _) = http_exchange(addr, request.as_bytes());
        assert_eq!(status, want, "{what}: {head}");
        assert_closing_answer(what, &head);
        for (name, value) in fields {
            assert_eq!(header_value(&head, name), Some(value), "{what}: {head}");
        }
    }
}

#[test]
fn a_full_room_says_when_to_retry() {
    let server = start_server_with(Config {
        limits: Limits {
            max_clients: 1,
            ..test_config().limits
        },
        ..test_config()
    });
    let _first = TestClient::connect(server.chat_addr());
    let request = upgrade_request(server.chat_addr(), "");
    let (status, head, _) = http_exchange(server.chat_addr(), request.as_bytes());
    assert_eq!(status, 503, "{head}");
    assert_closing_answer("full", &head);
    assert!(header_value(&head, "Retry-After").is_some(), "{head}");
}

#[test]
fn page_port_refusals_carry_their_fields() {
    let server = start_server();
    let addr = server.page_addr();
    let cases: Vec<Case<Vec<u8>>> = vec![
        (
            "POST",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            405,
            vec![("Allow", "GET, HEAD")],
        ),
        (
            "PUT elsewhere",
            b"PUT /x.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            404,
            vec![],
        ),
        (
            "malformed",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n".to_vec(),
            400,
            vec![],
        ),
        (
            "HTTP/2.0",
            b"GET / HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(),
            505,
            vec![],
        ),
        (
            "long line",
            format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(9000)).into_bytes(),
            414,
            vec![],
        ),
        (
            "big head",
            format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000)).into_bytes(),
            431,
            vec![],
        ),
    ];
    for (what, request, want, fields) in cases {
        let (status, head, _) = http_exchange(addr, &request);
        assert_eq!(status, want, "{what}: {head}");
        if want != 404 && want != 405 {
            assert_closing_answer(what, &head);
        } else {
            assert!(
                header_value(&head, "Content-Length").is_some(),
                "{what}: {head}"
            );
        }
        for (name, value) in fields {
            assert_eq!(header_value(&head, name), Some(value), "{what}: {head}");
        }
    }
}
