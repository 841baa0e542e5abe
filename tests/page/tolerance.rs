//! Any request head the chat port parses, the page port parses too, and whatever the page port cannot serve gets a status line,
//! never a silent close.

use testkit::*;

use std::net::SocketAddr;

/// Variants of a request head, each as (what it shows, request line,
/// header lines). Every one is a valid upgrade on the chat port.
fn variants(host: &str) -> Vec<(&'static str, String, String)> {
    let plain = format!("Host: {host}\r\n");
    vec![
        (
            "bare LF line ends",
            "GET / HTTP/1.1\n".into(),
            format!("Host: {host}\n"),
        ),
        (
            "a tab before a value",
            "GET / HTTP/1.1\r\n".into(),
            format!("Host:\t{host}\r\n"),
        ),
        (
            "a tab inside a value",
            "GET / HTTP/1.1\r\n".into(),
            format!("{plain}X-Tab: a\tb\r\n"),
        ),
        (
            "no space after the colon",
            "GET / HTTP/1.1\r\n".into(),
            format!("Host:{host}\r\n"),
        ),
        (
            "trailing spaces",
            "GET / HTTP/1.1\r\n".into(),
            format!("Host: {host}   \r\n"),
        ),
        (
            "UTF-8 in a value",
            "GET / HTTP/1.1\r\n".into(),
            format!("{plain}User-Agent: caf\u{e9} \u{2603}\r\n"),
        ),
        (
            "obs-text bytes",
            "GET / HTTP/1.1\r\n".into(),
            format!("{plain}X-Latin1: \u{ff}\r\n"),
        ),
        (
            "every tchar in a name",
            "GET / HTTP/1.1\r\n".into(),
            format!("{plain}X-!#$%&'*+.^_`|~09: v\r\n"),
        ),
        (
            "an empty value",
            "GET / HTTP/1.1\r\n".into(),
            format!("{plain}X-Empty:\r\n"),
        ),
        (
            "a leading empty line",
            "\r\nGET / HTTP/1.1\r\n".into(),
            plain.clone(),
        ),
        (
            "absolute-form target",
            format!("GET http://{host}/ HTTP/1.1\r\n"),
            plain.clone(),
        ),
        (
            "a query",
            "GET /?from=mail HTTP/1.1\r\n".into(),
            plain.clone(),
        ),
        (
            "lower-case names",
            "GET / HTTP/1.1\r\n".into(),
            format!("host: {host}\r\n"),
        ),
    ]
}

fn upgrade_fields(line_end: &str) -> String {
    [
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    .iter()
    .map(|f| format!("{f}{line_end}"))
    .collect()
}

fn status(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let (status, head, _) = http_exchange(addr, request);
    (status, head)
}

#[test]
fn every_head_the_chat_port_parses_is_served_on_the_page_port() {
    let server = start_server();
    for (what, line, fields) in variants("127.0.0.1") {
        let end = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        let upgrade = format!("{line}{fields}{}{end}", upgrade_fields(end));
        let (chat, head) = status(server.chat_addr(), upgrade.as_bytes());
        assert_eq!(chat, 101, "chat port, {what}: {head}");

        let page = format!("{line}{fields}Connection: close{end}{end}");
        let (page_status, head) = status(server.page_addr(), page.as_bytes());
        assert_eq!(page_status, 200, "page port, {what}: {head}");
    }
}

#[test]
fn what_the_page_port_cannot_serve_gets_a_status_line() {
    let server = start_server();
    let addr = server.page_addr();
    for (what, request, want) in [
        (
            "garbage",
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
            400,
        ),
        ("no target", b"GET HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            "a space before the colon",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            400,
        ),
        (
            "a control byte in a value",
            b"GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n",
            400,
        ),
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n b\r\n\r\n",
            400,
        ),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("HTTP/3", b"GET / HTTP/3\r\nHost: x\r\n\r\n", 505),
        (
            "a NUL in the target",
            b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n",
            400,
        ),
        (
            "an unknown method",
            b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
            501,
        ),
        ("a missing Host", b"GET / HTTP/1.1\r\n\r\n", 400),
        (
            "two Hosts",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            400,
        ),
    ] {
        let (got, head) = status(addr, request);
        assert_eq!(got, want, "{what}: {head:?}");
        assert!(
            header_value(&head, "Content-Length").is_some(),
            "{what}: no Content-Length: {head}"
        );
    }
}
