//! Conditional requests for the page (RFC 9110 section 13): the page has
//! an `ETag`; `If-None-Match` naming it (weakly) or `*` gets 304 with the
//! 200's fields and length but no content, and the connection goes on;
//! `If-Match` naming neither it nor `*` gets 412. `Range` is ignored
//! (section 14.2): the whole page, 200.

use testkit::*;

#[test]
fn preconditions_on_the_page_are_evaluated() {
    let server = start_server();
    let addr = server.page_addr();
    let get = |fields: &str| {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\nGET /no.page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        exchange_to_end(addr, request.as_bytes()).0
    };
    let plain = get("");
    let etag = header_value(&plain, "ETag").expect("an ETag").to_owned();
    let length = header_value(&plain, "Content-Length")
        .expect("a length")
        .to_owned();
    for fields in [
        "If-None-Match: *\r\n".to_owned(),
        format!("If-None-Match: {etag}\r\n"),
        format!("If-None-Match: W/{etag}\r\n"),
        format!("If-None-Match: \"other\"\r\nIf-None-Match: {etag}\r\n"),
    ] {
        let text = get(&fields);
        // The 304 has no content: the next answer follows its head at once.
        assert_eq!(statuses(&text), [304, 404], "{fields:?}: {text}");
        assert_eq!(header_value(&text, "ETag"), Some(etag.as_str()));
        assert_eq!(header_value(&text, "Content-Length"), Some(length.as_str()));
        assert!(text.contains("\r\n\r\nHTTP/1.1 404"), "{text}");
    }
    for (fields, want) in [
        ("If-None-Match: \"other\"\r\n".to_owned(), 200),
        ("If-Match: \"other\"\r\n".to_owned(), 412),
        ("If-Match: *\r\n".to_owned(), 200),
        (format!("If-Match: {etag}\r\n"), 200),
        (format!("If-Match: W/{etag}\r\n"), 412),
        ("Range: bytes=0-3\r\n".to_owned(), 200),
        (
            "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n".to_owned(),
            200,
        ),
    ] {
        let text = get(&fields);
        assert_eq!(statuses(&text).first(), Some(&want), "{fields:?}: {text}");
    }
}
