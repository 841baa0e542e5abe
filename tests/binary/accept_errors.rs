//! Accept errors: the real binary under a low open-file limit is pushed into
//! EMFILE by idle connections; a client already in keeps chatting, and once
//! the connections go a new client joins and chats: the acceptor kept serving.

use testkit::*;

use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Soft and hard open-file limit for the child: room for about 300 sockets
/// (the server keeps 256 for itself before counting clients, so this still
/// allows a few dozen clients).
const FD_LIMIT: u64 = 320;

#[test]
fn emfile_does_not_stop_the_acceptor() {
    let mut server = start_binary!(
        Some(FD_LIMIT),
        &[
            "--handshake-timeout",
            "60",
            "--rate",
            "0",
            "--log-level",
            "info",
        ],
    );
    let mut a = TestClient::connect(server.chat_addr);

    // Idle connections (no request) each hold a descriptor in the server
    // until the handshake timeout. Open them until the server says accept
    // failed; connections past that wait in the listen backlog.
    let start = Instant::now();
    let mut idle: Vec<TcpStream> = Vec::new();
    let mut emfile = None;
    while emfile.is_none() {
        assert!(
            idle.len() < 2 * FD_LIMIT as usize,
            "no accept error after {} connections",
            idle.len()
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no accept error after 30 s"
        );
        let mut backlog_full = false;
        for _ in 0..50 {
            match TcpStream::connect_timeout(&server.chat_addr, Duration::from_secs(1)) {
                Ok(stream) => idle.push(stream),
                Err(_) => {
                    backlog_full = true;
                    break;
                }
            }
        }
        // The acceptor takes a moment to catch up with the last batch; once
        // the backlog is full too, give it the time it needs.
        let wait = if backlog_full {
            WAIT
        } else {
            Duration::from_millis(20)
        };
        emfile = server.wait_log("accept failed", wait);
    }
    let emfile = emfile.unwrap();
    assert!(emfile.contains("Too many open files"), "{emfile}");

    // While the server is out of descriptors, the client already in chats.
    a.chat("still chatting at EMFILE");

    // The idle connections go; their descriptors come back.
    drop(idle);
    let mut c = TestClient::connect(server.chat_addr);
    a.recv_until(&joined(&c.nick));
    c.chat("I got in");
    a.recv_until(&format!("{}: I got in", c.nick));
    a.chat("welcome");
    c.recv_until(&format!("{}: welcome", a.nick));

    // And it still stops cleanly.
    server.sigterm();
    assert_eq!(a.recv_close(), 1001);
    assert_eq!(c.recv_close(), 1001);
    a.close(); // sends tungstenite's queued reply to the server's close
    c.close();
    let status = server.wait_exit(WAIT).expect("exit after SIGTERM");
    assert_eq!(status.code(), Some(0));
}
