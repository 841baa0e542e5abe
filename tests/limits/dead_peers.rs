//! Dead peers: the reader pings a client quiet for a ping interval; a client silent (no
//! frame, no pong) past the idle timeout is closed with 1001 and the others
//! see it leave, while a client that keeps reading (so answers pings) but
//! never speaks stays through several idle periods.

use testkit::*;

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};
use tungstenite::Message;

const PING: Duration = Duration::from_millis(200);
const IDLE: Duration = Duration::from_millis(800);

fn server() -> TestServer {
    start_server_with(Config {
        limits: Limits {
            ping_interval: PING,
            idle_timeout: IDLE,
            close_timeout: Duration::from_millis(300),
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    })
}

/// A bystander on its own thread (it must keep reading to answer pings):
/// waits for `nick`'s leave line, then chats. Returns the elapsed time.
fn bystander_waits_for_leave(
    mut by: TestClient,
    nick: String,
) -> thread::JoinHandle<(TestClient, Duration)> {
    let start = Instant::now();
    thread::spawn(move || {
        by.recv_until(&left(&nick));
        let took = start.elapsed();
        by.chat("still here");
        (by, took)
    })
}

#[test]
fn a_client_that_answers_nothing_is_dropped() {
    let server = server();
    let by = TestClient::connect(server.chat_addr());
    let (mut raw, nick) = raw_join(server.chat_addr());
    let waiter = bystander_waits_for_leave(by, nick);
    // The raw client neither reads nor writes.
    let (mut by, took) = waiter.join().expect("bystander");
    assert!(
        took >= IDLE / 2,
        "dropped after {took:?}, before the idle timeout"
    );
    assert!(took < IDLE + WAIT, "dropped only after {took:?}");
    assert!(
        wait_until(WAIT, || server.clients() == 1),
        "{} clients",
        server.clients()
    );
    // What was sent meanwhile: pings, then close 1001.
    let mut pings = 0;
    let code = loop {
        let (opcode, payload) = read_frame(&mut raw).expect("frame");
        match opcode {
            9 => pings += 1,
            8 => break u16::from_be_bytes([payload[0], payload[1]]),
            other => panic!("unexpected opcode {other}"),
        }
    };
    assert_eq!(code, 1001);
    assert!(pings >= 1, "no ping before the close");
    assert_eof(&mut raw);
    by.chat("and again");
}

#[test]
fn a_client_that_reads_but_never_answers_pings_is_closed_with_1001() {
    let server = server();
    let by = TestClient::connect(server.chat_addr());
    let (mut raw, nick) = raw_join(server.chat_addr());
    let waiter = bystander_waits_for_leave(by, nick);
    let start = Instant::now();
    let mut ping_times = Vec::new();
    let code = loop {
        let (opcode, payload) = read_frame(&mut raw).expect("frame");
        match opcode {
            9 => {
                assert!(payload.is_empty());
                ping_times.push(start.elapsed());
            }
            8 => break u16::from_be_bytes([payload[0], payload[1]]),
            other => panic!("unexpected opcode {other}"),
        }
        assert!(ping_times.len() < 100, "pinged 100 times, never closed");
    };
    let took = start.elapsed();
    assert_eq!(code, 1001, "pings at {ping_times:?}");
    assert_eof(&mut raw);
    // Several pings, about one per interval, before the idle timeout hit.
    assert!(
        ping_times.len() >= 2,
        "pings at {ping_times:?}, closed at {took:?}"
    );
    assert!(took >= IDLE / 2, "closed after {took:?}");
    let (mut by, _) = waiter.join().expect("bystander");
    assert!(
        wait_until(WAIT, || server.clients() == 1),
        "{} clients",
        server.clients()
    );
    by.chat("and again");
}

/// Read `client` for at most `slice`; pings are answered by tungstenite on
/// the next read. Returns the pings seen; panics on anything but a ping.
fn read_for(client: &mut TestClient, slice: Duration) -> usize {
    client.ws.get_mut().set_read_timeout(Some(slice)).unwrap();
    let mut pings = 0;
    let deadline = Instant::now() + slice;
    while Instant::now() < deadline {
        match client.ws.read() {
            Ok(Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("{}: unexpected {other:?}", client.nick),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => panic!("{}: {e}", client.nick),
        }
    }
    client.ws.get_mut().set_read_timeout(Some(WAIT)).unwrap();
    pings
}

#[test]
fn a_silent_client_that_answers_pings_stays() {
    let server = server();
    let mut quiet = TestClient::connect(server.chat_addr());
    let mut by = TestClient::connect(server.chat_addr());
    quiet.recv_until(&joined(&by.nick));
    // Four idle periods of silence from both, reading (and so answering
    // pings) in turns of 20 ms.
    let start = Instant::now();
    let (mut quiet_pings, mut by_pings) = (0, 0);
    while start.elapsed() < IDLE * 4 {
        quiet_pings += read_for(&mut quiet, Duration::from_millis(20));
        by_pings += read_for(&mut by, Duration::from_millis(20));
    }
    // About one ping per interval each: 16 expected; allow for a busy machine.
    for (who, pings) in [("quiet", quiet_pings), ("bystander", by_pings)] {
        assert!(pings >= 6, "{who}: only {pings} pings in {:?}", IDLE * 4);
    }
    assert_eq!(server.clients(), 2);
    // Both still in the room: each hears the other.
    by.send("hello quiet");
    quiet.recv_until(&format!("{}: hello quiet", by.nick));
    quiet.chat("still here");
    by.recv_until(&format!("{}: still here", quiet.nick));
}
