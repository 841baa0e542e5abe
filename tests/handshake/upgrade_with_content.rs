//! A WebSocket handshake carries no content: an upgrade with
//! `Transfer-Encoding` or a non-zero `Content-Length` gets 400 rather than
//! a 101 after which its content would be read as frames (a smuggling
//! shape, RFC 9112 section 6.3). `Content-Length: 0` is fine.

use testkit::*;

#[test]
fn an_upgrade_with_content_gets_400() {
    let server = start_server();
    let addr = server.chat_addr();
    for (fields, content) in [
        ("Content-Length: 5\r\n", "hello"),
        ("Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        ("Content-Length: 0\r\nContent-Length: 5\r\n", "hello"),
    ] {
        let request = format!("{}{content}", upgrade_request(addr, fields));
        let (status, head, _) = http_exchange(addr, request.as_bytes());
        assert_eq!(status, 400, "{fields:?}: {head}");
    }
    let request = upgrade_request(addr, "Content-Length: 0\r\n");
    assert_eq!(http_exchange(addr, request.as_bytes()).0, 101);
}
