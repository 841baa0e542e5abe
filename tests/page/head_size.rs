//! The page port bounds the request head: a request line
//! over 8 KiB gets 414, a head over 8 KiB gets 431, and the connection is
//! closed at once: the server stops reading, so 16 MiB sent without a line
//! end costs it no more than the limit.

use testkit::*;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;

/// Send `prefix`, then `filler` bytes of `a` and no line end, from a thread;
/// return the status the server answers and how many bytes the sender got
/// through before the server closed the connection.
fn flood(addr: SocketAddr, prefix: &[u8], filler: usize) -> (u16, String, usize) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let prefix = prefix.to_vec();
    let sender = thread::spawn(move || {
        let mut sent = 0usize;
        if writer.write_all(&prefix).is_err() {
            return sent;
        }
        let chunk = vec![b'a'; 64 * 1024];
        while sent < filler {
            match writer.write(&chunk[..chunk.len().min(filler - sent)]) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    let head = read_http_head(&mut stream);
    assert!(
        ends_within(&mut stream, WAIT, 64 * 1024),
        "still open: {head}"
    );
    let sent = sender.join().expect("sender");
    (status_of(&head), head, sent)
}

const SIXTEEN_MIB: usize = 16 << 20;

#[test]
fn an_endless_request_line_gets_414_and_is_not_read() {
    let server = start_server();
    let (status, head, sent) = flood(server.page_addr(), b"GET /", SIXTEEN_MIB);
    assert_eq!(status, 414, "{head}");
    assert_eq!(header_value(&head, "Connection"), Some("close"), "{head}");
    // The server closed after the limit: the sender could not get 16 MiB in
    // (what it did get in sits in kernel buffers, not in the server).
    assert!(sent < SIXTEEN_MIB, "the server read all {sent} bytes");
}

#[test]
fn an_endless_header_line_gets_431_and_is_not_read() {
    let server = start_server();
    let (status, head, sent) = flood(
        server.page_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ",
        SIXTEEN_MIB,
    );
    assert_eq!(status, 431, "{head}");
    assert!(sent < SIXTEEN_MIB, "the server read all {sent} bytes");
}

#[test]
fn many_small_header_lines_over_8_kib_get_431() {
    let server = start_server();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        request.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "b".repeat(40)).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    assert!(request.len() > 8 * 1024);
    let (status, head, mut stream) = http_exchange(server.page_addr(), &request);
    assert_eq!(status, 431, "{head}");
    assert!(ends_within(&mut stream, WAIT, 64 * 1024), "still open");
}

#[test]
fn a_head_just_under_8_kib_is_served() {
    let server = start_server();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
    let pad = 8 * 1024 - request.len() - "X-Pad: \r\n\r\n".len() - 16;
    request.extend_from_slice(format!("X-Pad: {}\r\n\r\n", "p".repeat(pad)).as_bytes());
    let (status, head, _) = http_exchange(server.page_addr(), &request);
    assert_eq!(status, 200, "{head}");
}
