//! On the page port, `Connection` is a list of tokens over all its lines
//! (RFC 9110 sections 5.3 and 7.6.1): a `close` on any line ends the
//! connection after the answer, which says `Connection: close` (RFC 9112
//! section 9.6), and a token that merely contains the letters `close` does
//! not.

use testkit::*;

#[test]
fn close_on_any_connection_line_ends_the_connection() {
    let server = start_server();
    let addr = server.page_addr();
    for fields in [
        "Connection: keep-alive\r\nConnection: close\r\n",
        "Connection: keep-alive, Close\r\n",
        "Connection: x-foo\r\nconnection: ,close,\r\n",
    ] {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\nGET /after-close HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let (text, ended) = exchange_to_end(addr, request.as_bytes());
        assert_eq!(statuses(&text), [200], "{fields:?}: {text}");
        assert!(ended, "{fields:?}: the connection stayed open");
        // And the answer says so (RFC 9112 section 9.6).
        assert_eq!(header_value(&text, "Connection"), Some("close"), "{text}");
    }
}

#[test]
fn a_token_that_only_contains_close_keeps_the_connection() {
    let server = start_server();
    let request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: x-closed-caption\r\n\r\n\
                   GET /second.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (text, ended) = exchange_to_end(server.page_addr(), request.as_bytes());
    assert_eq!(statuses(&text), [200, 404], "{text}");
    assert!(ended);
}
