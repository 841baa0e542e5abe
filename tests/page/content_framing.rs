//! The page port refuses a request whose content length it cannot know for
//! sure (RFC 9112 section 6.3): a repeated, listed, signed or non-numeric
//! `Content-Length`, `Transfer-Encoding` with `Content-Length`, in HTTP/1.0,
//! or not ending in `chunked`, get 400 (another coding 501, a length over
//! 64 KiB 413) and the connection is closed: what follows is never read as
//! a second request (request smuggling). A huge length does not take the
//! server down (it used to abort the process).

use testkit::*;

/// What follows every request below: were it served, it was smuggled.
const SMUGGLED: &str = "GET /smuggled.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

#[test]
fn ambiguous_content_lengths_are_refused_and_closed() {
    let server = start_server();
    let addr = server.page_addr();
    for (fields, version, want) in [
        ("Content-Length: 4\r\nContent-Length: 40\r\n", "1.1", 400),
        ("Content-Length: 4\r\nContent-Length: 4\r\n", "1.1", 400),
        ("Content-Length: 4, 40\r\n", "1.1", 400),
        ("Content-Length: +4\r\n", "1.1", 400),
        ("Content-Length: -1\r\n", "1.1", 400),
        ("Content-Length: 0x4\r\n", "1.1", 400),
        ("Content-Length: \r\n", "1.1", 400),
        (
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
            "1.1",
            400,
        ),
        ("Transfer-Encoding: gzip\r\n", "1.1", 400),
        ("Transfer-Encoding: chunked, gzip\r\n", "1.1", 400),
        ("Transfer-Encoding: xchunked\r\n", "1.1", 400),
        ("Transfer-Encoding: chunked\r\n", "1.0", 400),
        (
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            "1.1",
            501,
        ),
        ("Content-Length: 100000000000\r\n", "1.1", 413),
        ("Content-Length: 99999999999999999999999\r\n", "1.1", 413),
    ] {
        let request =
            format!("POST / HTTP/{version}\r\nHost: x\r\n{fields}\r\n0\r\n\r\n{SMUGGLED}");
        let (text, ended) = exchange_to_end(addr, request.as_bytes());
        assert_eq!(statuses(&text), [want], "{fields:?}: {text}");
        assert!(ended, "{fields:?}: the connection stayed open");
        assert_eq!(
            header_value(&text, "Connection"),
            Some("close"),
            "{fields:?}: {text}"
        );
    }
    // The server is still up, and well-framed content is read, not served.
    for fields in [
        "Content-Length: 4\r\n\r\nabcd",
        "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    ] {
        let request = format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}{SMUGGLED}");
        let (text, _) = exchange_to_end(addr, request.as_bytes());
        let got = statuses(&text);
        assert_eq!(got.first(), Some(&200), "{fields:?}: {text}");
        // A second request after length-framed content is a real one (404);
        // after chunked content the connection ends first.
        assert!(got.len() == 1 || got == [200, 404], "{fields:?}: {got:?}");
    }
}
