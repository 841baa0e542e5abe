//! The page answers an HTTP/1.0 request as an HTTP/1.1 server (RFC 9112
//! section 2.3: the status line carries our own version, `HTTP/1.1`), says
//! `Connection: close` when it will close (no `keep-alive` asked), keeps
//! the connection when `keep-alive` is asked, and ignores a 1.0 client's
//! `Expect: 100-continue` (RFC 9110 section 10.1.1).

use testkit::*;

#[test]
fn http_10_requests_get_http_11_answers_that_say_when_they_close() {
    let server = start_server();
    let addr = server.page_addr();
    let (text, ended) = exchange_to_end(addr, b"GET / HTTP/1.0\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert_eq!(header_value(&text, "Connection"), Some("close"), "{text}");
    assert!(ended);

    let (text, ended) = exchange_to_end(
        addr,
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /none.html HTTP/1.0\r\n\r\n",
    );
    assert_eq!(statuses(&text), [200, 404], "{text}");
    assert!(ended);

    let (text, _) = exchange_to_end(
        addr,
        b"POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    );
    assert_eq!(statuses(&text), [405], "{text}");
}
