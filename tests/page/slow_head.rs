//! The page port's head deadline: a head trickled one line at a time is
//! cut at the page timeout however often a byte arrives, and an idle
//! keep-alive connection is closed after it. (The page's connection cap
//! counts threads, so it is `threads::page_connection_cap`.)

use testkit::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PAGE_TIMEOUT: Duration = Duration::from_secs(1);

fn server(page_connections: usize) -> TestServer {
    start_server_with_limits(|limits| {
        limits.page_timeout = PAGE_TIMEOUT;
        limits.page_connections = page_connections;
    })
}

#[test]
fn a_trickled_head_is_cut_at_the_page_timeout() {
    let server = server(64);
    let mut stream = TcpStream::connect_timeout(&server.page_addr(), WAIT).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    // One more header line every 200 ms: each read is quick, the head never
    // ends. The server answers 408 at the deadline and closes.
    stream
        .set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let mut answer = Vec::new();
    let mut closed = false;
    for i in 0..40 {
        std::thread::sleep(PAGE_TIMEOUT / 5);
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => closed = true,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => closed = true,
        }
        if closed
            || stream
                .write_all(format!("X-Line-{i}: y\r\n").as_bytes())
                .is_err()
        {
            closed = true;
            break;
        }
    }
    let after = start.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed, "still open after {after:?}");
    assert!(after < PAGE_TIMEOUT * 3, "closed only after {after:?}");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_page_timeout() {
    let server = server(64);
    let addr = server.page_addr();
    let (status, head, mut stream) = http_exchange(
        addr,
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 200, "{head}");
    let start = Instant::now();
    // The page body, then EOF once idle past the timeout.
    assert!(ends_within(&mut stream, PAGE_TIMEOUT * 3, 1 << 20));
    assert!(start.elapsed() >= PAGE_TIMEOUT / 2, "closed too early");
}
