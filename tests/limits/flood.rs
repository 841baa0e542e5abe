//! Flood control: a per-client token bucket (rate 2/s, burst 10). Of 30
//! messages sent at once exactly 10 are broadcast; the sender is told
//! ` .... slow down.` at most once per 10 seconds; nobody else notices,
//! and other clients' own buckets are untouched. Rate 0 turns it off.

use testkit::*;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use chat_server::{Config, Limits};

/// Slow enough that a server thread descheduled mid-burst (a busy machine)
/// would need half a second to earn an extra token.
const RATE: f64 = 2.0;
const BURST: u32 = 10;
const SLOW_DOWN: &str = " .... slow down.";

fn server(rate: f64) -> TestServer {
    start_server_with(Config {
        limits: Limits {
            rate_per_second: rate,
            burst: BURST,
            ..Limits::default()
        },
        ..test_config()
    })
}

/// Send every message in one write, so the server reads them as one burst.
fn send_all(raw: &mut TcpStream, texts: &[String]) {
    let bytes: Vec<u8> = texts
        .iter()
        .flat_map(|t| frame(true, 1, t.as_bytes(), true))
        .collect();
    raw.write_all(&bytes).unwrap();
}

/// Text lines on a raw client until (and without) `last`.
fn raw_lines_until(raw: &mut TcpStream, last: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..1000 {
        let (opcode, payload) = read_frame(raw).expect("frame");
        match opcode {
            1 => {
                let line = String::from_utf8(payload).unwrap();
                if line == last {
                    return lines;
                }
                lines.push(line);
            }
            9 | 10 => {}
            other => panic!("unexpected opcode {other}"),
        }
    }
    panic!("{last:?} never came; got {lines:?}");
}

/// Wait long enough for at least one token to be earned back. A token
/// bucket is about time, so this is a wait for time, not for an event.
fn refill() {
    thread::sleep(Duration::from_secs_f64(1.5 / RATE));
}

#[test]
fn a_flood_is_cut_to_the_burst_and_the_sender_told_once() {
    let server = server(RATE);
    let mut by = TestClient::connect(server.chat_addr());
    let mut other = TestClient::connect(server.chat_addr());
    let (mut flooder, nick) = raw_join(server.chat_addr());
    by.recv_until(&joined(&other.nick));
    by.recv_until(&joined(&nick));
    other.recv_until(&joined(&nick));

    let flood: Vec<String> = (0..30).map(|i| format!("flood {i}")).collect();
    send_all(&mut flooder, &flood);
    // The bystander gets exactly the first BURST, in order...
    for text in &flood[..BURST as usize] {
        assert_eq!(by.recv_text(), format!("{nick}: {text}"));
    }
    // ...and, once a token is back, the marker next: nothing else leaked.
    refill();
    send_all(&mut flooder, &["marker".to_owned()]);
    let marker = format!("{nick}: marker");
    assert_eq!(by.recv_text(), marker, "more than {BURST} got through");

    // The flooder: its BURST echoes in order and one notice, then the marker.
    let seen = raw_lines_until(&mut flooder, &marker);
    let notices = seen.iter().filter(|l| *l == SLOW_DOWN).count();
    assert_eq!(notices, 1, "{seen:?}");
    let echoes: Vec<&String> = seen.iter().filter(|l| *l != SLOW_DOWN).collect();
    let want: Vec<String> = flood[..BURST as usize]
        .iter()
        .map(|t| format!("{nick}: {t}"))
        .collect();
    assert_eq!(echoes, want.iter().collect::<Vec<_>>());

    // The other client has its own bucket: a burst of its own all passes,
    // and it was never told to slow down.
    for i in 0..BURST {
        other.send(&format!("mine {i}"));
    }
    let others_lines = other.recv_until(&format!("{}: mine {}", other.nick, BURST - 1));
    assert!(
        !others_lines.iter().any(|l| l == SLOW_DOWN),
        "{others_lines:?}"
    );
    for i in 0..BURST {
        assert_eq!(by.recv_text(), format!("{}: mine {i}", other.nick));
    }

    // A second burst of excess, within 10 seconds of the first notice: no
    // second notice (at most one per 10 s), and again only
    // a bounded prefix is broadcast.
    let again: Vec<String> = (0..30).map(|i| format!("again {i}")).collect();
    send_all(&mut flooder, &again);
    refill();
    send_all(&mut flooder, &["marker 2".to_owned()]);
    let marker2 = format!("{nick}: marker 2");
    let seen = raw_lines_until(&mut flooder, &marker2);
    let notices = seen.iter().filter(|l| *l == SLOW_DOWN).count();
    assert_eq!(notices, 0, "{seen:?}");
    let by_lines = by.recv_until(&marker2);
    assert!(by_lines.len() < 30, "the whole second flood got through");
    for (i, line) in by_lines.iter().enumerate() {
        assert_eq!(
            *line,
            format!("{nick}: again {i}"),
            "bystander: {by_lines:?}"
        );
    }
    // Nobody else ever saw a notice, and everyone still chats.
    by.chat("still here");
    other.recv_until(&format!("{}: still here", by.nick));
    other.chat("me too");
}

#[test]
fn rate_zero_means_no_limit() {
    let server = server(0.0);
    let mut by = TestClient::connect(server.chat_addr());
    let (mut sender, nick) = raw_join(server.chat_addr());
    by.recv_until(&joined(&nick));
    let many: Vec<String> = (0..300).map(|i| format!("m {i}")).collect();
    send_all(&mut sender, &many);
    for text in &many {
        assert_eq!(by.recv_text(), format!("{nick}: {text}"));
    }
    let seen = raw_lines_until(&mut sender, &format!("{nick}: m 299"));
    assert!(!seen.iter().any(|l| l == SLOW_DOWN));
}
