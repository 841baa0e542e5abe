//! Raw HTTP on either port: upgrade requests written by hand, response
//! heads read byte by byte, a WebSocket opened without a client library.
//! Every socket here times out after [`WAIT`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::client::you_are;
use crate::frame::read_frame;
use crate::WAIT;

/// Read an HTTP response head, up to and including the blank line (or to
/// EOF). Panics on a read error, or past 16 KiB.
pub fn read_http_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => break,
            Err(e) => panic!(
                "reading HTTP head: {e}; got {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
        assert!(head.len() < 16 * 1024, "HTTP head too long");
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The status code of an HTTP/1.1 response head (0 if there is none).
pub fn status_of(head: &str) -> u16 {
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The value of header `name` (any case) in an HTTP head, if present.
pub fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The status codes of every response in `text`, in order.
pub fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// The upgrade request [`raw_upgrade`] sends to `/`, with `extra` header
/// lines (each ending in `\r\n`) before the blank line.
pub fn upgrade_request(addr: SocketAddr, extra: &str) -> String {
    upgrade_request_to(addr, "/", extra)
}

/// [`upgrade_request`] for this request target.
pub fn upgrade_request_to(addr: SocketAddr, target: &str, extra: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Connect, write `request`, read the HTTP response head: (status, head,
/// the stream for more reading). Status 0 if there was no status line.
/// Panics if the connection or the write fails.
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> (u16, String, TcpStream) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).expect("write request");
    let head = read_http_head(&mut stream);
    (status_of(&head), head, stream)
}

/// Connect, write `request`, and read everything the server sends until it
/// ends the connection (or [`WAIT`] passes, or past 1 MiB): (the bytes as
/// text, whether the server ended the connection).
pub fn exchange_to_end(addr: SocketAddr, request: &[u8]) -> (String, bool) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).expect("write request");
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let ended = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || got.len() > 1 << 20 {
            break false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), ended)
}

/// Read until EOF (or a reset), at most `limit` bytes and `timeout`; return
/// whether the server ended the connection in time. Panics on any other
/// read error.
pub fn ends_within(stream: &mut TcpStream, timeout: Duration, limit: usize) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0usize;
    while total <= limit {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(e) => panic!("reading to EOF: {e}"),
        }
    }
    false
}

/// Read a greeting off a raw socket (history, ` .... you are NICK.`, the
/// presence line); return the nickname. Panics on anything else, or after
/// 10 000 frames.
pub fn read_greeting(stream: &mut TcpStream) -> String {
    for _ in 0..10_000 {
        let (opcode, payload) = read_frame(stream).expect("greeting frame");
        assert_eq!(opcode, 1, "greeting is text");
        let line = String::from_utf8(payload).expect("greeting is UTF-8");
        if let Some(nick) = you_are(&line) {
            let (opcode, presence) = read_frame(stream).expect("presence frame");
            assert_eq!(opcode, 1, "presence is text");
            assert!(presence.starts_with(b" .... here now ("), "{presence:?}");
            return nick.to_owned();
        }
    }
    panic!("no greeting in 10000 frames");
}

/// Open a WebSocket by hand to `/` and return the raw socket, for tests
/// that send bytes no well-behaved client would. The greeting is read and
/// dropped.
pub fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    raw_join(addr).0
}

/// Like [`raw_upgrade`], but also return the nickname from the greeting.
pub fn raw_join(addr: SocketAddr) -> (TcpStream, String) {
    raw_join_to(addr, "/")
}

/// [`raw_join`] with this request target (`/ROOM?session=ID`). Panics
/// unless the answer is 101 and a greeting follows.
pub fn raw_join_to(addr: SocketAddr, target: &str) -> (TcpStream, String) {
    let request = upgrade_request_to(addr, target, "");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    assert_eq!(status, 101, "{head}");
    let nick = read_greeting(&mut stream);
    (stream, nick)
}

/// Connect and send an upgrade request without waiting for the answer (so
/// many handshakes can overlap); [`finish_upgrade`] reads it.
pub fn begin_upgrade(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(upgrade_request(addr, "").as_bytes())
        .expect("write request");
    stream
}

/// Read the 101 and the greeting of a [`begin_upgrade`]; return the
/// nickname. Panics on another status.
pub fn finish_upgrade(stream: &mut TcpStream) -> String {
    let head = read_http_head(stream);
    assert_eq!(status_of(&head), 101, "{head}");
    read_greeting(stream)
}
