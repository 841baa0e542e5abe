//! A ping flood from a client that does not read: the server answers, but
//! keeps at most one pong waiting (RFC 6455 section 5.5.3 lets it answer
//! only the latest ping), so its memory stays flat however fast the pings
//! come; the latest ping gets its pong, and a bystander chats throughout.

use testkit::*;

use std::io::Write;
use std::time::{Duration, Instant};

/// Resident memory of this process (the in-process server's included), KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn pings_from_a_client_that_does_not_read_do_not_pile_up() {
    let server = start_server();
    let mut by = TestClient::connect(server.chat_addr());
    let (mut flooder, nick) = raw_join(server.chat_addr());
    by.recv_until(&joined(&nick));
    let before = rss_kib();

    // 500 000 pings of 125 bytes, 1000 per write, reading nothing. Before
    // the fix each queued its own pong: hundreds of MiB in a few seconds.
    let ping = frame(true, 9, &[b'p'; 125], true);
    let burst: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    let start = Instant::now();
    let mut peak = before;
    for round in 0..500 {
        flooder.write_all(&burst).expect("flood");
        if round % 50 == 0 {
            peak = peak.max(rss_kib());
            by.chat(&format!("chatting through the flood, {round}"));
        }
        assert!(start.elapsed() < Duration::from_secs(30), "flood too slow");
    }
    peak = peak.max(rss_kib());
    let grew_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "500000 pings in {:?}; memory grew {grew_mib} MiB",
        start.elapsed()
    );
    assert!(grew_mib < 32, "500000 pings grew memory by {grew_mib} MiB");

    // The latest ping is answered: its pong comes after whatever pongs are
    // still on the way.
    flooder
        .write_all(&frame(true, 9, b"the last one", true))
        .unwrap();
    let mut pongs = 0usize;
    loop {
        let (opcode, payload) = read_frame(&mut flooder).expect("pong");
        if opcode == 1 {
            continue; // the bystander's lines
        }
        assert_eq!(opcode, 10, "only pongs and lines expected");
        pongs += 1;
        if payload == b"the last one" {
            break;
        }
        assert_eq!(payload, [b'p'; 125], "pong {pongs}");
        assert!(pongs <= 500_000, "more pongs than pings");
    }
    eprintln!("{pongs} pongs for 500001 pings");
    flooder
        .write_all(&frame(true, 8, &close_payload(1000, b""), true))
        .unwrap();
    assert_eq!(read_close_code(&mut flooder), 1000);
    assert_eof(&mut flooder);
    by.recv_until(&left(&nick));
    by.chat("still here");
}
