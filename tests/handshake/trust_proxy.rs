//! `--trust-proxy ADDR`: a connection from a trusted
//! proxy is logged, and seen by the room, as the address in
//! `X-Forwarded-For` (the rightmost one not itself a trusted proxy) or, with
//! none, in `Forwarded`; from any other peer those headers are ignored.

use testkit::*;

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};

use socket2::{Domain, Socket, Type};

/// Connect to `addr` from the loopback address `from` and upgrade with
/// `extra` header lines; returns the nickname the greeting gives.
fn join_from(from: IpAddr, addr: SocketAddr, extra: &str) -> (TcpStream, String) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::new(from, 0).into())
        .expect("bind source address");
    socket.connect_timeout(&addr.into(), WAIT).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(upgrade_request(addr, extra).as_bytes())
        .expect("write");
    let head = read_http_head(&mut stream);
    assert_eq!(status_of(&head), 101, "{head}");
    let nick = read_greeting(&mut stream);
    (stream, nick)
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[test]
fn a_trusted_proxy_gives_the_client_address() {
    let server = start_binary!(
        None,
        &["--trust-proxy", "127.0.0.2", "--trust-proxy", "10.0.0.1"],
    );

    // Through two proxies: the client claims 198.51.100.1; the first
    // proxy saw 203.0.113.9; the second (10.0.0.1, trusted) appended it.
    let xff = "X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\nX-Forwarded-For: 10.0.0.1\r\n";
    let (_a, a) = join_from(loopback(2), server.chat_addr, xff);
    let line = server
        .wait_log(&format!("{a} joined from"), WAIT)
        .expect("a's join");
    assert!(line.contains("joined from 203.0.113.9"), "{line}");

    // RFC 7239 Forwarded when there is no X-Forwarded-For.
    let fwd = "Forwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n";
    let (_b, b) = join_from(loopback(2), server.chat_addr, fwd);
    let line = server
        .wait_log(&format!("{b} joined from"), WAIT)
        .expect("b's join");
    assert!(line.contains("joined from [2001:db8::7]:4711"), "{line}");
}

#[test]
fn forwarding_headers_from_anyone_else_are_ignored() {
    let server = start_binary!(None, &["--trust-proxy", "127.0.0.2"]);
    let xff = "X-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n";
    let (_a, a) = join_from(loopback(3), server.chat_addr, xff);
    let line = server
        .wait_log(&format!("{a} joined from"), WAIT)
        .expect("a's join");
    assert!(line.contains("joined from 127.0.0.3:"), "{line}");

    // No --trust-proxy at all (the default): ignored from loopback too.
    let plain = start_binary!(None, &[]);
    let (_b, b) = join_from(loopback(1), plain.chat_addr, xff);
    let line = plain
        .wait_log(&format!("{b} joined from"), WAIT)
        .expect("b's join");
    assert!(line.contains("joined from 127.0.0.1:"), "{line}");
    assert!(!line.contains("203.0.113.9"), "{line}");
}
