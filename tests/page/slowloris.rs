//! The page server under slowloris: 200 half-sent requests do not stop a
//! real page request from being answered 200, the chat carries on, and the
//! server closes the stalled connections after the page timeout. Also: the
//! page timeout's renewal of tiny_http's accept thread loses no request on a
//! keep-alive connection.

use testkit::*;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};

const PAGE_TIMEOUT: Duration = Duration::from_secs(1);
const LORIS: usize = 200;

/// A real page request; returns the status and the body.
fn get_page(addr: SocketAddr) -> (u16, String) {
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    let mut body = String::new();
    stream.read_to_string(&mut body).expect("page body");
    let length: usize = header_value(&head, "Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(body.len());
    assert_eq!(body.len(), length, "{head}");
    (status, body)
}

#[test]
fn half_sent_page_requests_do_not_block_the_page() {
    let server = start_server_with(Config {
        limits: Limits {
            page_timeout: PAGE_TIMEOUT,
            // Room for all of them: this test is about the deadline; past
            // the cap a connection gets 503 (tests/page/slow_head.rs).
            page_connections: LORIS + 16,
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    });
    let mut by = TestClient::connect(server.chat_addr());
    let page = server.page_addr();

    let start = Instant::now();
    let mut loris: Vec<TcpStream> = (0..LORIS)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&page, WAIT)
                .unwrap_or_else(|e| panic!("slowloris {i}: {e}"));
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let opened = start.elapsed();

    // A real request is served meanwhile, and the chat goes on.
    let (status, body) = get_page(page);
    assert_eq!(status, 200);
    assert!(body.contains("WebSocket"), "not the page");
    by.chat("chatting under slowloris");

    // Every stalled connection is closed by the server after the timeout.
    for (i, s) in loris.iter_mut().enumerate() {
        assert!(
            ends_within(s, PAGE_TIMEOUT + WAIT, 64 * 1024),
            "slowloris {i} still open"
        );
    }
    let closed = start.elapsed();
    assert!(
        closed >= PAGE_TIMEOUT / 2,
        "closed after {closed:?}, before the timeout"
    );
    assert!(
        closed < opened + PAGE_TIMEOUT + Duration::from_secs(3),
        "closed only after {closed:?}"
    );

    // And the page is still served afterwards.
    assert_eq!(get_page(page).0, 200);
    by.chat("still here");
}

/// A keep-alive connection whose next request comes after tiny_http's
/// accept thread has been renewed (the page server renews it after every
/// quiet page timeout) still gets its answer.
///
/// Timeline, in page timeouts T from the connection: first request at T/2;
/// the accept thread, idle since our connection, is renewed at T; our
/// connection would time out at 3T/2; second request at 6T/5. Before the fix
/// that request was left in the retired instance's queue and answered 500
/// when the connection later timed out.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(2);

#[test]
fn a_keep_alive_request_across_an_accept_renewal_is_answered() {
    let server = start_server_with(Config {
        limits: Limits {
            page_timeout: KEEP_ALIVE_TIMEOUT,
            ..Limits::default()
        },
        ..test_config()
    });
    let page = server.page_addr();
    let mut stream = TcpStream::connect_timeout(&page, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let request = format!("GET / HTTP/1.1\r\nHost: {page}\r\n\r\n");
    let read_response = |stream: &mut TcpStream| -> u16 {
        let head = read_http_head(stream);
        let length: usize = header_value(&head, "Content-Length")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no length: {head}"));
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).expect("body");
        status_of(&head)
    };
    // First request half way through the page timeout, the second just
    // after the accept thread (idle since our connection) has timed out,
    // and before our connection's own idle timeout.
    std::thread::sleep(KEEP_ALIVE_TIMEOUT / 2);
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream), 200);
    std::thread::sleep(KEEP_ALIVE_TIMEOUT * 7 / 10);
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(
        read_response(&mut stream),
        200,
        "second request on the connection"
    );
}
