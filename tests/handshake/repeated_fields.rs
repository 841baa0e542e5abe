//! Repeated header field lines in an upgrade: list fields
//! split over several lines combine into one list (RFC 9110 section 5.3);
//! fields that may appear only once (RFC 9112 section 3.2 for Host, RFC
//! 6455 section 11.3 for the key and version, RFC 6454 section 7.3 for
//! Origin) are refused with 400 when repeated.

use testkit::*;

use std::net::SocketAddr;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// An upgrade built from `fields` alone (each a full `Name: value` line).
fn request(addr: SocketAddr, fields: &[&str]) -> String {
    let mut r = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
    for f in fields {
        r.push_str(f);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

fn status(addr: SocketAddr, fields: &[&str]) -> (u16, String) {
    let (status, head, _) = http_exchange(addr, request(addr, fields).as_bytes());
    (status, head)
}

const KEY_LINE: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";

#[test]
fn list_fields_on_several_lines_combine() {
    let server = start_server();
    let addr = server.chat_addr();
    for fields in [
        // Connection split over two lines, in either order.
        &[
            "Upgrade: websocket",
            "Connection: keep-alive",
            "Connection: Upgrade",
            KEY_LINE,
            "Sec-WebSocket-Version: 13",
        ][..],
        &[
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Connection: keep-alive",
            KEY_LINE,
            "Sec-WebSocket-Version: 13",
        ],
        // Upgrade split over two lines.
        &[
            "Upgrade: h2c",
            "Upgrade: websocket",
            "Connection: Upgrade",
            KEY_LINE,
            "Sec-WebSocket-Version: 13",
        ],
        // Empty list members and odd spacing.
        &[
            "Upgrade: ,websocket",
            "Connection: ,, upgrade ,",
            KEY_LINE,
            "Sec-WebSocket-Version: 13",
        ],
        // Protocol and extension offers split over lines are fine.
        &[
            "Upgrade: websocket",
            "Connection: Upgrade",
            KEY_LINE,
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: a",
            "Sec-WebSocket-Protocol: b",
            "Sec-WebSocket-Extensions: x-one",
            "Sec-WebSocket-Extensions: x-two",
        ],
    ] {
        let (status, head) = status(addr, fields);
        assert_eq!(status, 101, "{fields:?}: {head}");
        assert_eq!(
            header_value(&head, "Sec-WebSocket-Accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
    }
}

#[test]
fn fields_allowed_once_are_refused_when_repeated() {
    let server = start_server();
    let addr = server.chat_addr();
    let base = [
        "Upgrade: websocket",
        "Connection: Upgrade",
        KEY_LINE,
        "Sec-WebSocket-Version: 13",
    ];
    for extra in [
        format!("Host: {addr}"),
        format!("Sec-WebSocket-Key: {KEY}"),
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==".to_owned(),
        "Sec-WebSocket-Version: 13".to_owned(),
        "Sec-WebSocket-Version: 8".to_owned(),
    ] {
        let mut fields: Vec<&str> = base.to_vec();
        fields.push(&extra);
        let (status, head) = status(addr, &fields);
        assert_eq!(status, 400, "repeated {extra}: {head}");
    }
    let origin = format!("Origin: http://{}", server.page_addr());
    let mut fields: Vec<&str> = base.to_vec();
    fields.push(&origin);
    assert_eq!(status(addr, &fields).0, 101, "one Origin");
    fields.push(&origin);
    let (status, head) = status(addr, &fields);
    assert_eq!(status, 400, "two Origins: {head}");
}
