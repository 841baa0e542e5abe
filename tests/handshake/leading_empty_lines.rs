//! Empty lines before a request line are skipped (RFC 9112 section 2.2)
//! but count towards the 8 KiB head limit on both ports: a client sending
//! nothing but line ends gets 400 once past it, rather than being read
//! (and, on the chat port, buffered) until the deadline.

use testkit::*;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

/// Send 1 MiB of CRLF (from a thread: the server stops reading) and
/// return the status of the answer.
fn only_line_ends(addr: SocketAddr) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let chunk = b"\r\n".repeat(8 * 1024);
        for _ in 0..64 {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let head = read_http_head(&mut stream);
    assert!(
        ends_within(&mut stream, WAIT, 2 << 20),
        "still open: {head}"
    );
    sender.join().expect("sender");
    (status_of(&head), head)
}

#[test]
fn endless_empty_lines_get_400_on_both_ports() {
    let mut config = test_config();
    // Longer than any wait here: an answer cannot be the deadline's.
    config.limits.handshake_timeout = Duration::from_secs(30);
    config.limits.page_timeout = Duration::from_secs(30);
    let server = start_server_with(config);
    for addr in [server.chat_addr(), server.page_addr()] {
        let (status, head) = only_line_ends(addr);
        assert_eq!(status, 400, "{addr}: {head}");
    }
    // A few empty lines before a request are still fine.
    let (status, head, _) = http_exchange(
        server.page_addr(),
        b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{head}");
    let addr = server.chat_addr();
    let request = format!("\r\n\n{}", upgrade_request(addr, ""));
    let (status, head, _) = http_exchange(addr, request.as_bytes());
    assert_eq!(status, 101, "{head}");
}
