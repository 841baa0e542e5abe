//! Slow consumers: a client that never reads while others exchange several
//! MiB. The others get every line, in order, with no gap; the stalled client
//! is dropped (close 1008 when its outbox fills and the close can be written,
//! or cut when a write stalls past the write timeout), the others see its
//! leave line once, and server.clients() drops.

use testkit::*;

use std::io::{BufReader, Read};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};

/// Bytes per chat message: a few hundred fill the stalled client's socket
/// buffers (a few MiB on loopback).
const MESSAGE_BYTES: usize = 16 * 1024;
/// Most messages the sender may send before the stalled client must be gone.
const MAX_MESSAGES: usize = 4000;
/// The others exchange at least this much in every run (each line reaches
/// both of them), whenever the stalled client goes.
const MIN_BYTES: usize = 4 << 20;

fn config(outbox_lines: usize, write_timeout: Duration) -> Config {
    Config {
        limits: Limits {
            outbox_lines,
            write_timeout,
            max_message_bytes: 64 * 1024,
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    }
}

/// Message `i`: its number, then padding up to MESSAGE_BYTES.
fn message(i: usize) -> String {
    let mut m = format!("{i:06} ");
    let pad = char::from(b'a' + (i % 26) as u8);
    m.extend(std::iter::repeat_n(pad, MESSAGE_BYTES - m.len()));
    m
}

/// The parts of one run: `a` sends, `b` only reads (on its own thread), `s`
/// never reads.
/// Fields drop in order: the clients go before the server, so its shutdown
/// does not wait for their close handshakes.
struct Run {
    a: TestClient,
    b: Option<thread::JoinHandle<(TestClient, Vec<String>)>>,
    /// B, back from its reader thread.
    b_done: Option<TestClient>,
    /// How many lines B has read so far, sent by B after each line.
    b_progress: crossbeam_channel::Receiver<usize>,
    s: TcpStream,
    s_nick: String,
    server: TestServer,
}

const STOP: &str = "stop";

fn setup(config: Config) -> Run {
    let server = start_server_with(config);
    let mut a = TestClient::connect(server.chat_addr());
    let mut b = TestClient::connect(server.chat_addr());
    a.recv_until(&joined(&b.nick));
    let (s, s_nick) = raw_join(server.chat_addr());
    a.recv_until(&joined(&s_nick));
    b.recv_until(&joined(&s_nick));
    let a_stop = format!("{}: {STOP}", a.nick);
    // B reads every line until A's stop and says how far it got, so A can
    // keep B's backlog to one line however the threads are scheduled.
    let (progress, b_progress) = crossbeam_channel::unbounded();
    let reader = thread::spawn(move || {
        let mut lines = Vec::new();
        for _ in 0..MAX_MESSAGES + 10 {
            let line = b.recv_text();
            if line == a_stop {
                return (b, lines);
            }
            lines.push(line);
            let _ = progress.send(lines.len());
        }
        panic!("B never saw A's stop");
    });
    Run {
        server,
        a,
        b: Some(reader),
        b_done: None,
        b_progress,
        s,
        s_nick,
    }
}

impl Run {
    /// A sends numbered messages, each waited for (its echo, and B having
    /// read it) and `pace` apart, until it has seen the stalled client's
    /// leave line and sent at least MIN_BYTES; then a stop line. Returns how
    /// many were sent. Every line A sees is checked.
    fn send_until_s_leaves(&mut self, pace: Duration) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        let gone = left(&self.s_nick);
        let mut seen_leave = false;
        let mut sent = 0;
        let mut b_read = 0;
        while !seen_leave || sent * MESSAGE_BYTES < MIN_BYTES {
            assert!(
                sent < MAX_MESSAGES,
                "stalled client still there after {sent} messages"
            );
            assert!(
                Instant::now() < deadline,
                "stalled client still there after 30 s"
            );
            let text = message(sent);
            self.a.send(&text);
            for line in self.a.recv_until(&format!("{}: {text}", self.a.nick)) {
                assert_eq!(line, gone, "A got an unexpected line before message {sent}");
                assert!(!seen_leave, "leave line twice");
                seen_leave = true;
            }
            sent += 1;
            // B has read A's message too (plus the leave line, if it came).
            while b_read < sent {
                b_read = self.b_progress.recv_timeout(WAIT).unwrap_or_else(|_| {
                    panic!("B read only {b_read} lines of {sent} within {WAIT:?}")
                });
            }
            // Pacing, not synchronisation: A alone can outrun a write timeout.
            thread::sleep(pace);
        }
        self.a.send(STOP);
        self.a.recv_until(&format!("{}: {STOP}", self.a.nick));
        sent
    }

    /// B's lines: exactly A's messages 0..sent in order, and the stalled
    /// client's leave line once, anywhere.
    fn check_b(&mut self, sent: usize) {
        let (b, lines) = self.b.take().unwrap().join().expect("B's reader");
        self.b_done = Some(b);
        let gone = left(&self.s_nick);
        let mut next = 0;
        let mut leaves = 0;
        for line in &lines {
            if *line == gone {
                leaves += 1;
                continue;
            }
            let want = format!("{}: {}", self.a.nick, message(next));
            assert!(
                *line == want,
                "B: line {next} missing or out of order: {:.40}",
                line
            );
            next += 1;
        }
        assert_eq!(next, sent, "B got {next} of {sent} messages");
        assert_eq!(leaves, 1, "B saw the leave line {leaves} times");
    }

    /// The stalled client finally reads: a gap-free prefix of A's messages,
    /// then whatever ends the stream. Returns (lines, close code if any).
    fn drain_s(&mut self) -> (usize, Option<u16>) {
        self.s.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = BufReader::with_capacity(256 * 1024, &self.s);
        let mut next = 0;
        for _ in 0..MAX_MESSAGES + 10 {
            let (opcode, payload) = match read_frame(&mut reader) {
                Ok(frame) => frame,
                Err(e) if is_end(&e) => return (next, None),
                Err(e) => panic!("stalled client: {e} after {next} lines"),
            };
            match opcode {
                1 => {
                    let want = format!("{}: {}", self.a.nick, message(next));
                    assert!(
                        payload == want.as_bytes(),
                        "stalled client: line {next} wrong"
                    );
                    next += 1;
                }
                8 => {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    // After the close frame the server ends the connection.
                    let mut rest = Vec::new();
                    match reader.read_to_end(&mut rest) {
                        Ok(_) => assert!(rest.is_empty(), "data after the close frame"),
                        Err(e) => assert!(is_end(&e), "after the close frame: {e}"),
                    }
                    return (next, Some(code));
                }
                other => panic!("stalled client: unexpected opcode {other}"),
            }
        }
        panic!("stalled client: stream never ended");
    }
}

impl Run {
    fn b_client(&mut self) -> &mut TestClient {
        self.b_done.as_mut().expect("check_b first")
    }
}

fn is_end(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
    )
}

/// A full outbox drops the client at once: the others get its leave line
/// while it is still connected, and once it reads it finds a gap-free prefix
/// of the chat, then close 1008, then EOF.
#[test]
fn a_full_outbox_is_closed_with_1008() {
    let mut run = setup(config(32, Duration::from_secs(10)));
    let sent = run.send_until_s_leaves(Duration::ZERO);
    run.check_b(sent);
    let (lines, code) = run.drain_s();
    assert_eq!(code, Some(1008), "after {lines} lines");
    assert!(lines < sent, "the stalled client got every line ({lines})");
    assert!(
        wait_until(WAIT, || run.server.clients() == 2),
        "stalled client's seat not freed: {} clients",
        run.server.clients()
    );
    run.a.chat("A still here");
    run.b_client().chat("B still here");
}

/// Kicked for a full outbox and still never reading: the close cannot be
/// written, so the write timeout ends it; its seat is freed within that.
#[test]
fn a_kicked_client_that_never_reads_is_gone_within_the_write_timeout() {
    let write_timeout = Duration::from_millis(500);
    let mut run = setup(config(32, write_timeout));
    let sent = run.send_until_s_leaves(Duration::ZERO);
    let within = write_timeout * 4 + Duration::from_secs(1);
    let server = &run.server;
    let freed = wait_until(within, || server.clients() == 2);
    assert!(
        freed,
        "stalled client's seat not freed: {} clients",
        server.clients()
    );
    run.check_b(sent);
    run.a.chat("A still here");
    run.b_client().chat("B still here");
}

/// A write that makes no progress for the write timeout drops the client,
/// even with room left in its outbox: the others see it leave, its seat is
/// freed, and its stream ends (no close frame: nothing can be written).
#[test]
fn a_write_stalled_past_the_write_timeout_drops_the_client() {
    let mut run = setup(config(1_000_000, Duration::from_millis(500)));
    // About 16 MiB a second: the stalled socket fills in a fraction of a
    // second, then the write timeout runs.
    let sent = run.send_until_s_leaves(Duration::from_millis(1));
    run.check_b(sent);
    assert!(
        wait_until(WAIT, || run.server.clients() == 2),
        "stalled client's seat not freed: {} clients",
        run.server.clients()
    );
    let (lines, code) = run.drain_s();
    assert_eq!(code, None, "a close frame got through a stalled socket");
    assert!(lines < sent, "the stalled client got every line ({lines})");
    run.a.chat("A still here");
    run.b_client().chat("B still here");
}
