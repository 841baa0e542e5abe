//! The page port's connection cap: however many slow clients hold half a
//! request head, the page gets no more threads than the cap; past it a new
//! connection gets 503 at once, and once they are gone the page is served
//! again. (Here because it counts this process's threads.)

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use testkit::*;

const PAGE_TIMEOUT: Duration = Duration::from_secs(1);

fn server(page_connections: usize) -> TestServer {
    start_server_with_limits(|limits| {
        limits.page_timeout = PAGE_TIMEOUT;
        limits.page_connections = page_connections;
    })
}

#[test]
fn page_threads_are_capped_and_the_next_connection_gets_503() {
    let _turn = crate::serial();
    const CAP: usize = 4;
    let server = server(CAP);
    let addr = server.page_addr();
    let before = thread_count();
    // CAP + 40 slow clients, each with half a head.
    let loris: Vec<TcpStream> = (0..CAP + 40)
        .map(|_| {
            let mut s = TcpStream::connect_timeout(&addr, WAIT).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    // The server holds CAP of them; the rest, and this one, get 503 at once.
    let (status, head, _) = http_exchange(
        addr,
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let grown = thread_count().saturating_sub(before);
    assert_eq!(status, 503, "{head}");
    assert!(header_value(&head, "Retry-After").is_some(), "{head}");
    assert!(grown <= CAP + 2, "{grown} more threads for {CAP} allowed");
    drop(loris);
    // Once they are gone (or timed out), the page is served again.
    let served = wait_until(PAGE_TIMEOUT * 3, || {
        let (status, _, _) = http_exchange(
            addr,
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        status == 200
    });
    assert!(served, "the page was not served again");
}
