//! No log line can be forged: the real binary, sent an `Origin` and
//! request targets carrying CR, LF and C1 controls (a `NEL`, a `CSI`) that
//! spell out a log line of their own, writes each refusal as one line of
//! its own, with every control replaced by U+FFFD, and no forged line.

use testkit::*;

use std::time::Duration;

/// What a forger would like to see on a line of its own.
const FORGED: &str = "2026-01-01T00:00:00.000Z WARN  [chat_server] forged";

/// Send raw `request` bytes to `addr` and read the answer to its end.
fn send(addr: std::net::SocketAddr, request: &[u8]) -> String {
    exchange_to_end(addr, request).0
}

#[test]
fn no_log_line_can_be_forged() {
    let server = start_binary!(None, &["--log-level", "debug"]);
    let chat = server.chat_addr;
    let head = |origin: &[u8], target: &[u8]| -> Vec<u8> {
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(target);
        request.extend_from_slice(
            format!(
                " HTTP/1.1\r\nHost: {chat}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: "
            )
            .as_bytes(),
        );
        request.extend_from_slice(origin);
        request.extend_from_slice(b"\r\n\r\n");
        request
    };
    // C1 controls pass the HTTP parser (they are UTF-8 text): the origin
    // is quoted in the refusal's log line, controls replaced.
    let c1 = format!("http://evil.example\u{85}{FORGED}\u{9b}2J");
    let answer = send(chat, &head(c1.as_bytes(), b"/"));
    assert_eq!(statuses(&answer).first(), Some(&403), "{answer}");
    let refused = server
        .wait_log("403 origin", WAIT)
        .expect("the refusal's line");
    assert!(
        refused.contains(&format!("http://evil.example\u{FFFD}{FORGED}\u{FFFD}2J")),
        "{refused:?}"
    );
    // CR and LF end the field (or break the head): a 400, and no line
    // of the forger's.
    let crlf = format!("http://evil.example\r\n{FORGED}\r\n\r");
    let answer = send(chat, &head(crlf.as_bytes(), b"/"));
    assert_eq!(statuses(&answer).first(), Some(&400), "{answer}");
    let answer = send(chat, &head(b"null", format!("/\r{FORGED}").as_bytes()));
    assert_eq!(statuses(&answer).first(), Some(&400), "{answer}");
    // The page port logs request targets (at debug): controls replaced.
    let page = server.page_addr;
    // (A target has no spaces: the forgery is a NEL and a CSI.)
    let request =
        format!("GET /x\u{85}forged\u{9b}2J HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
    let answer = send(page, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    // Then a last refusal, so every line about the others has been written.
    let _ = send(chat, &head(b"http://last.example", b"/"));
    let mut lines = vec![refused];
    let deadline = std::time::Instant::now() + WAIT;
    while let Ok(line) = server.log.recv_deadline(deadline) {
        let last = line.contains("last.example");
        lines.push(line);
        if last {
            break;
        }
    }
    // Nothing more is coming about them.
    while let Ok(line) = server.log.recv_timeout(Duration::from_millis(300)) {
        lines.push(line);
    }
    assert!(
        lines.iter().any(|l| l.contains("last.example")),
        "{lines:#?}"
    );
    let target = "page: GET /x\u{FFFD}forged\u{FFFD}2J -> 404";
    assert!(lines.iter().any(|l| l.contains(target)), "{lines:#?}");
    for line in &lines {
        assert!(!line.starts_with(FORGED), "forged: {lines:#?}");
        assert!(
            line.as_bytes().first().is_some_and(u8::is_ascii_digit),
            "a line that is no log line: {line:?}"
        );
        assert!(
            !line.contains(|c: char| c != '\t' && c.is_control()),
            "a control in {line:?}"
        );
    }
}
