//! A page request's content is read on its own connection's thread: a
//! client that announces content and sends it slowly (or never) holds up
//! no other client's page. It used to stall every page answer for the
//! whole page timeout.

use testkit::*;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn slow_content_holds_up_no_other_request() {
    let mut config = test_config();
    config.limits.page_timeout = Duration::from_secs(20);
    let server = start_server_with(config);
    let addr = server.page_addr();
    let mut slow = Vec::new();
    for length in [100, 5000, 60_000] {
        let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        let head = format!("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\nab");
        stream.write_all(head.as_bytes()).expect("write");
        slow.push(stream);
    }
    let chunked = b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab";
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.write_all(chunked).expect("write");
    slow.push(stream);
    // Each slow request has been parsed (its head is complete) before the
    // others come: give the server a moment by asking twice.
    for _ in 0..2 {
        let started = Instant::now();
        let (status, head, _) = http_exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(status, 200, "{head}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the page took {:?} while others sent slow content",
            started.elapsed()
        );
    }
    drop(slow);
}
