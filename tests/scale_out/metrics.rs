//! `/metrics` of an instance started with `--redis`:
//! `chat_redis_published_total`, `chat_redis_received_total` and the
//! `chat_redis_round_trip_seconds` histogram are there at start and move
//! with the lines its clients send; `chat_redis_in_step` and
//! `chat_redis_outages_total{kind}` show an outage (a stall, a refusal)
//! while it lasts and after; an instance without `--redis` shows none of
//! them. The real binary against a real `redis-server`.

use testkit::redis::RedisServer;
use testkit::*;

use std::io::Read;
use std::net::SocketAddr;

const LINES: usize = 5;

fn scrape(page: SocketAddr) -> String {
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
    let (status, head, mut stream) = http_exchange(page, request.as_bytes());
    assert_eq!(status, 200, "{head}");
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    body
}

/// The value of the sample named exactly `name` (labels included).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}

#[test]
fn redis_counters_move_with_the_lines() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let server = start_binary!(None, &["--rate", "0", "--redis", &url]);
    let before = scrape(server.page_addr);
    let published0 = sample(&before, "chat_redis_published_total").expect(&before);
    let received0 = sample(&before, "chat_redis_received_total").expect(&before);
    assert!(
        before.contains("# TYPE chat_redis_round_trip_seconds histogram"),
        "{before}"
    );

    // A join and LINES lines: each published once and received back once
    // from the subscription before it reaches anyone.
    let mut ann = TestClient::connect(server.chat_addr);
    for i in 0..LINES {
        ann.send(&format!("line {i}"));
    }
    for i in 0..LINES {
        ann.recv_until(&format!("{}: line {i}", ann.nick));
    }
    let moved = |text: &str| {
        sample(text, "chat_redis_published_total").unwrap_or(0.0) >= published0 + LINES as f64 + 1.0
            && sample(text, "chat_redis_received_total").unwrap_or(0.0)
                >= received0 + LINES as f64 + 1.0
    };
    let mut text = String::new();
    assert!(
        wait_until(WAIT, || {
            text = scrape(server.page_addr);
            moved(&text)
        }),
        "counters did not move by {} (join and lines):\n{text}",
        LINES + 1
    );
    let trips = sample(&text, "chat_redis_round_trip_seconds_count").expect(&text);
    assert!(trips >= 1.0, "{text}");
    let sum = sample(&text, "chat_redis_round_trip_seconds_sum").expect(&text);
    assert!(
        sum > 0.0 && sum < trips * 5.0,
        "seconds, not micros: {text}"
    );
    assert_eq!(
        sample(&text, "chat_redis_round_trip_seconds_bucket{le=\"+Inf\"}"),
        Some(trips),
        "{text}"
    );

    // An outage shows, by kind, and so does the end of it.
    assert_eq!(sample(&text, "chat_redis_in_step"), Some(1.0), "{text}");
    for (kind, fault, heal) in [
        (
            "unanswered",
            &["CLIENT", "PAUSE", "1500", "ALL"][..],
            &["SET", "test:unpaused", "1"][..],
        ),
        (
            "refused",
            &["CONFIG", "SET", "maxmemory", "1"][..],
            &["CONFIG", "SET", "maxmemory", "0"][..],
        ),
    ] {
        let name = format!("chat_redis_outages_total{{kind=\"{kind}\"}}");
        assert!(redis.command(fault).starts_with('+'));
        let mut i = 0;
        assert!(
            wait_until(WAIT, || {
                // A line meets the failure (one every 100 ms at most).
                i += 1;
                if i % 20 == 1 {
                    ann.send(&format!("during {kind} {i}"));
                }
                text = scrape(server.page_addr);
                sample(&text, "chat_redis_in_step") == Some(0.0)
                    && sample(&text, &name).is_some_and(|n| n >= 1.0)
            }),
            "{kind}: no outage shown:\n{text}"
        );
        assert!(redis.command(heal).starts_with('+'));
        assert!(
            wait_until(WAIT, || {
                text = scrape(server.page_addr);
                sample(&text, "chat_redis_in_step") == Some(1.0)
            }),
            "{kind}: not back in step:\n{text}"
        );
    }

    // Without --redis, nothing Redis-related, not even at zero.
    let plain = start_binary!(None, &["--rate", "0"]);
    let text = scrape(plain.page_addr);
    assert!(!text.contains("chat_redis"), "{text}");
}
