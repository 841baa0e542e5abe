//! A request head cut short by the client's end of stream (a half-close,
//! `shutdown(SHUT_WR)`) gets `400` on both ports, not a silent close
//! (every request gets a status line). A client that
//! sent nothing at all is closed without a word.

use testkit::*;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};

fn half_closed(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).expect("write");
    stream.shutdown(Shutdown::Write).expect("half-close");
    let head = read_http_head(&mut stream);
    assert!(ends_within(&mut stream, WAIT, 64 * 1024), "still open");
    head
}

#[test]
fn a_head_cut_short_gets_400_on_both_ports() {
    let server = start_server();
    for addr in [server.chat_addr(), server.page_addr()] {
        for partial in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nUpg"[..],
            b"GET / HTTP/1.1\r\n",
            b"GET /ch",
        ] {
            let head = half_closed(addr, partial);
            assert_eq!(status_of(&head), 400, "{addr} {partial:?}: {head}");
        }
        assert_eq!(half_closed(addr, b""), "", "{addr}: answered nothing");
    }
}
