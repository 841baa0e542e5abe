//! The opening handshake under abuse: a request not finished within the
//! handshake timeout is dropped (while others connect and chat), and every
//! request that is not a valid upgrade gets an exact HTTP 4xx answer, then
//! the connection closes; a wrong version gets 426 naming version 13.

use testkit::*;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};

const HANDSHAKE: Duration = Duration::from_secs(1);

fn server() -> TestServer {
    start_server_with(Config {
        limits: Limits {
            handshake_timeout: HANDSHAKE,
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    })
}

fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect_timeout(&server.chat_addr(), WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

#[test]
fn a_stalled_handshake_is_dropped_while_others_chat() {
    let server = server();
    let start = Instant::now();
    let mut half = connect(&server);
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut silent = connect(&server);
    // Meanwhile two clients connect and chat.
    let mut a = TestClient::connect(server.chat_addr());
    let mut b = TestClient::connect(server.chat_addr());
    a.recv_until(&joined(&b.nick));
    a.chat("hello");
    b.recv_until(&format!("{}: hello", a.nick));
    // The server ends both stalled connections, without an answer.
    for (name, stream) in [("half request", &mut half), ("nothing sent", &mut silent)] {
        assert!(
            ends_within(stream, HANDSHAKE + WAIT, 0),
            "{name}: still open"
        );
        let took = start.elapsed();
        assert!(took >= HANDSHAKE / 2, "{name}: dropped after {took:?}");
    }
    assert_eq!(server.clients(), 2);
    b.chat("still here");
    a.recv_until(&format!("{}: still here", b.nick));
}

#[test]
fn the_handshake_deadline_is_not_extended_by_trickling() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let mut slow = connect(&server);
    let request = upgrade_request(server.chat_addr(), "");
    let start = Instant::now();
    // One byte every 50 ms: the whole request would take several seconds.
    let mut closed = false;
    for byte in request.as_bytes() {
        if slow.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        if start.elapsed() > HANDSHAKE + WAIT {
            break;
        }
        thread::sleep(Duration::from_millis(50));
        by.chat("tick");
    }
    assert!(
        closed || ends_within(&mut slow, WAIT, 0),
        "trickler never dropped"
    );
    let took = start.elapsed();
    assert!(took < HANDSHAKE * 4, "trickler dropped only after {took:?}");
    assert!(took >= HANDSHAKE / 2, "trickler dropped after {took:?}");
    by.chat("still here");
}

/// Send `request`; expect `status` and then the end of the connection.
fn refused(server: &TestServer, request: &[u8], status: u16) -> String {
    let (got, head, mut stream) = http_exchange(server.chat_addr(), request);
    let shown = String::from_utf8_lossy(&request[..request.len().min(80)]).into_owned();
    assert_eq!(got, status, "{shown:?} -> {head}");
    assert!(
        ends_within(&mut stream, WAIT, 64 * 1024),
        "{shown:?}: connection kept open"
    );
    head
}

#[test]
fn bad_requests_get_4xx_and_the_connection_closes() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let addr = server.chat_addr();
    let good = upgrade_request(addr, "");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "plain GET",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            426,
        ),
        (
            "POST",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            405,
        ),
        (
            "upgrade by POST",
            good.replacen("GET", "POST", 1).into_bytes(),
            405,
        ),
        (
            "no key",
            good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")
                .into_bytes(),
            400,
        ),
        (
            "short key",
            good.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")
                .into_bytes(),
            400,
        ),
        (
            "no Connection: Upgrade",
            good.replace("Connection: Upgrade", "Connection: close")
                .into_bytes(),
            400,
        ),
        (
            "HTTP/1.0",
            good.replace("HTTP/1.1", "HTTP/1.0").into_bytes(),
            400,
        ),
        (
            "no Host",
            good.replace(&format!("Host: {addr}\r\n"), "").into_bytes(),
            400,
        ),
        (
            "TLS hello",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(),
            400,
        ),
        ("garbage", b"hello there\r\n\r\n".to_vec(), 400),
        ("NUL bytes", vec![0u8; 64], 400),
        (
            "huge head",
            upgrade_request(addr, &format!("X-Pad: {}\r\n", "p".repeat(9000))).into_bytes(),
            431,
        ),
        (
            "many headers",
            upgrade_request(
                addr,
                &(0..60).map(|i| format!("X-{i}: y\r\n")).collect::<String>(),
            )
            .into_bytes(),
            431,
        ),
    ];
    for (name, request, status) in &cases {
        let head = refused(&server, request, *status);
        if *status == 426 {
            assert_eq!(
                header_value(&head, "Upgrade"),
                Some("websocket"),
                "{name}: {head}"
            );
        }
        by.chat(&format!("after {name}"));
    }
    assert_eq!(server.clients(), 1);
}

#[test]
fn a_wrong_version_gets_426_naming_13() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let good = upgrade_request(server.chat_addr(), "");
    for version in ["8", "12", "14", "13, 8", ""] {
        let request = good.replace("Version: 13", &format!("Version: {version}"));
        let head = refused(&server, request.as_bytes(), 426);
        assert_eq!(
            header_value(&head, "Sec-WebSocket-Version"),
            Some("13"),
            "{version}: {head}"
        );
        by.chat(&format!("after version {version:?}"));
    }
    let missing = good.replace("Sec-WebSocket-Version: 13\r\n", "");
    let head = refused(&server, missing.as_bytes(), 426);
    assert_eq!(
        header_value(&head, "Sec-WebSocket-Version"),
        Some("13"),
        "{head}"
    );
    by.chat("the end");
}
