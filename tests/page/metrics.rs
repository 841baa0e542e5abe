//! `/metrics` on the page port: the real binary's
//! counters and gauges, in the Prometheus text format, follow what clients
//! do: connected clients and rooms, lines and bytes broadcast, a dropped
//! client by reason, a refused handshake and page requests by status.

use testkit::*;

use std::io::Read;
use std::net::SocketAddr;

/// GET `path` on the page port: (status, head, body).
fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    (status, head, body)
}

/// The value of the sample named exactly `name` (labels included), 0 if absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().expect("a number"))
}

fn scrape(page: SocketAddr) -> String {
    let (status, head, body) = get(page, "/metrics");
    assert_eq!(status, 200, "{head}");
    let content_type = header_value(&head, "Content-Type").unwrap_or("");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{head}"
    );
    body
}

/// Scrape until `name` reads `want` (gauges settle after the room's next
/// batch); the last scrape.
fn scrape_until(page: SocketAddr, name: &str, want: f64) -> String {
    let mut text = String::new();
    let settled = wait_until(WAIT, || {
        text = scrape(page);
        sample(&text, name) == want
    });
    assert!(settled, "{name} never read {want}:\n{text}");
    text
}

/// Every labelled family shows every value it knows from the start, at
/// zero, before its first event (Prometheus' instrumentation practice).
#[test]
fn labelled_families_start_at_zero() {
    let server = start_binary!(None, &["--rate", "0"]);
    let text = scrape(server.page_addr);
    let has = |name: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .any(|l| l.strip_prefix(name).is_some_and(|v| v.starts_with(' ')))
    };
    for reason in [
        "aborted",
        "protocol_error",
        "idle_timeout",
        "read_failed",
        "panicked",
        "too_slow",
    ] {
        let name = format!("chat_clients_dropped_total{{reason=\"{reason}\"}}");
        assert!(has(&name), "{name}:\n{text}");
        assert_eq!(sample(&text, &name), 0.0, "{name}");
    }
    for status in [400, 403, 404, 405, 414, 426, 431, 503, 505] {
        let name = format!("chat_handshakes_refused_total{{status=\"{status}\"}}");
        assert!(has(&name), "{name}:\n{text}");
        assert_eq!(sample(&text, &name), 0.0, "{name}");
    }
    for status in [200, 304, 400, 404, 405, 412, 501, 503] {
        let name = format!("chat_page_requests_total{{status=\"{status}\"}}");
        assert!(has(&name), "{name}:\n{text}");
    }
    // This scrape is the first page request: counted after it was answered.
    assert_eq!(
        sample(&text, "chat_page_requests_total{status=\"200\"}"),
        0.0
    );
}

#[test]
fn metrics_follow_the_clients() {
    let server = start_binary!(None, &["--rate", "0"]);
    let page = server.page_addr;
    let before = scrape(page);
    assert_eq!(sample(&before, "chat_clients_connected"), 0.0, "{before}");
    for metric in [
        "chat_messages_broadcast_total",
        "chat_writer_threads",
        "chat_rooms",
    ] {
        assert!(
            before.contains(&format!("# TYPE {metric} ")),
            "{metric} missing:\n{before}"
        );
    }

    let mut a = TestClient::connect(server.chat_addr);
    let mut b = TestClient::connect(server.chat_addr);
    a.recv_until(&joined(&b.nick));
    let text = scrape_until(page, "chat_clients_connected", 2.0);
    assert_eq!(sample(&text, "chat_rooms"), 1.0, "{text}");

    // One chat line: one line broadcast, its frame's bytes counted once
    // (not once per client): a 2-byte header and the text.
    let (lines, bytes) = (
        sample(&text, "chat_messages_broadcast_total"),
        sample(&text, "chat_broadcast_bytes_total"),
    );
    a.chat("counted once");
    b.recv_until(&format!("{}: counted once", a.nick));
    let chat_line = format!("{}: counted once", a.nick);
    let text = scrape(page);
    assert_eq!(
        sample(&text, "chat_messages_broadcast_total"),
        lines + 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "chat_broadcast_bytes_total"),
        bytes + 2.0 + chat_line.len() as f64,
        "{text}"
    );

    // b vanishes without a close frame: a drop, its connection aborted.
    let b_nick = b.nick.clone();
    drop(b);
    a.recv_until(&left(&b_nick));
    let text = scrape_until(page, "chat_clients_connected", 1.0);
    assert_eq!(
        sample(&text, "chat_clients_dropped_total{reason=\"aborted\"}"),
        1.0,
        "{text}"
    );

    // A refused handshake (403) and page requests by status.
    let request = upgrade_request(server.chat_addr, "Origin: https://evil.example\r\n");
    let (status, _, _) = http_exchange(server.chat_addr, request.as_bytes());
    assert_eq!(status, 403);
    assert_eq!(get(page, "/").0, 200);
    // A path that is no room name (a room's page is served at /NAME).
    assert_eq!(get(page, "/no.such.page").0, 404);
    let text = scrape(page);
    assert_eq!(
        sample(&text, "chat_handshakes_refused_total{status=\"403\"}"),
        1.0,
        "{text}"
    );
    assert!(
        sample(&text, "chat_page_requests_total{status=\"200\"}") >= 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "chat_page_requests_total{status=\"404\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(sample(&text, "chat_writer_threads"), 0.0, "{text}");
}
