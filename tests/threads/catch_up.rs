//! A client that falls behind, then catches up: while its socket takes no
//! more, the room queues its lines and a writer thread (`client-N-w`) is
//! started for it; when it reads again it gets every line, in order, and
//! the writer ends. A client that keeps up never has one. And a client that
//! is behind when the server stops does not hold the stop up.

use testkit::*;

use std::io::BufReader;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};

/// Bytes per chat message: a few hundred fill the stalled client's socket
/// buffers (a few MiB on loopback).
const MESSAGE_BYTES: usize = 16 * 1024;
/// Most messages sent before a writer must have appeared.
const MAX_MESSAGES: usize = 2000;

/// Threads of this process named `client-N-w`: the in-process server's
/// writers.
fn writer_threads() -> usize {
    threads_named(|name| name.starts_with("client-") && name.ends_with("-w"))
}

fn message(i: usize) -> String {
    let mut m = format!("{i:06} ");
    m.extend(std::iter::repeat_n('x', MESSAGE_BYTES - m.len()));
    m
}

/// A server, a client that reads nothing (`stalled`, with its nickname)
/// and one that keeps up (`sender`), which has sent `sent` messages: enough
/// that the stalled client is behind and has a writer.
struct Behind {
    server: TestServer,
    stalled: TcpStream,
    stalled_nick: String,
    sender: TestClient,
    sent: usize,
}

fn fall_behind(close_timeout: Duration) -> Behind {
    let server = start_server_with(Config {
        limits: Limits {
            max_message_bytes: 64 * 1024,
            outbox_lines: 100_000,
            write_timeout: Duration::from_secs(30),
            close_timeout,
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    });
    let (stalled, stalled_nick) = raw_join(server.chat_addr());
    let mut sender = TestClient::connect(server.chat_addr());
    assert_eq!(writer_threads(), 0, "a writer before anyone is behind");

    // The sender keeps up (it reads each of its lines back); the stalled
    // client reads nothing, until its socket is full and a writer starts.
    let start = Instant::now();
    let mut sent = 0;
    while writer_threads() == 0 {
        assert!(
            sent < MAX_MESSAGES,
            "{sent} messages of {MESSAGE_BYTES} B and no writer"
        );
        sender.chat(&message(sent));
        sent += 1;
    }
    assert_eq!(writer_threads(), 1, "only the stalled client is behind");
    eprintln!("a writer after {sent} messages ({:?})", start.elapsed());
    Behind {
        server,
        stalled,
        stalled_nick,
        sender,
        sent,
    }
}

#[test]
fn a_client_behind_gets_a_writer_until_it_catches_up() {
    let _turn = crate::serial();
    let Behind {
        server,
        stalled,
        stalled_nick,
        mut sender,
        sent,
    } = fall_behind(Duration::from_secs(2));

    // It reads again: everything, in order, nothing lost or repeated.
    let mut stalled = BufReader::new(stalled);
    let joined = joined(&sender.nick);
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while next < sent {
        assert!(Instant::now() < deadline, "read {next} of {sent} lines");
        let (opcode, payload) = read_frame(&mut stalled).expect("a frame");
        if opcode != 1 {
            continue; // a ping
        }
        let line = String::from_utf8(payload).expect("UTF-8");
        if line == joined {
            assert_eq!(next, 0, "the join notice after a message");
            continue;
        }
        let want = format!("{}: {}", sender.nick, message(next));
        assert!(line == want, "line {next}: got {:.40}...", line);
        next += 1;
    }
    // Caught up: the writer ends, and lines go straight out again.
    assert!(
        wait_until(WAIT, || writer_threads() == 0),
        "{} writer(s) still running",
        writer_threads()
    );
    sender.chat("caught up");
    let (_, payload) = read_frame(&mut stalled).expect("a frame");
    assert_eq!(
        String::from_utf8(payload).expect("UTF-8"),
        format!("{}: caught up", sender.nick)
    );
    assert_eq!(server.clients(), 2, "{stalled_nick} was dropped");
}

#[test]
fn a_client_behind_does_not_hold_up_a_shutdown() {
    let _turn = crate::serial();
    let close_timeout = Duration::from_millis(300);
    let Behind {
        mut server,
        stalled,
        mut sender,
        ..
    } = fall_behind(close_timeout);
    // Its close frame waits behind megabytes it will never read, and its
    // writer blocks (for up to the 30 s write timeout); the server cuts it
    // once the close handshakes have had their time.
    let start = Instant::now();
    server.shutdown();
    let took = start.elapsed();
    assert!(
        took < close_timeout + Duration::from_secs(3),
        "shutdown took {took:?}"
    );
    assert_eq!(sender.recv_close(), 1001);
    assert_eq!(writer_threads(), 0, "a writer outlived the server");
    drop(stalled);
}
