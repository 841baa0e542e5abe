//! Each leave is logged with its real cause: a message
//! over the size limit is "message too big", not a protocol error.

use testkit::*;

use std::io::Write;

/// Join by hand, send `frame_bytes`, return the room's log line for the leave.
fn leave_line(server: &ChildServer, frame_bytes: &[u8]) -> String {
    let (mut stream, nick) = raw_join(server.chat_addr);
    stream.write_all(frame_bytes).expect("send");
    let _ = read_close_code(&mut stream);
    server
        .wait_log(&format!("room: {nick} left"), WAIT)
        .unwrap_or_else(|| panic!("no leave line for {nick}"))
}

#[test]
fn leave_lines_name_the_real_cause() {
    let server = start_binary!(None, &["--max-message-bytes", "100"]);
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "too big",
            frame(true, 1, &[b'a'; 101], true),
            "message too big, closed with 1009",
        ),
        (
            "bad UTF-8",
            frame(true, 1, b"\xff\xfe", true),
            "invalid UTF-8, closed with 1007",
        ),
        (
            "binary",
            frame(true, 2, b"hi", true),
            "binary message, closed with 1003",
        ),
        (
            "unmasked",
            frame(true, 1, b"hi", false),
            "protocol error, closed with 1002",
        ),
        (
            "normal close",
            frame(true, 8, &close_payload(1000, b""), true),
            "closed with 1000",
        ),
    ];
    for (what, bytes, want) in cases {
        let line = leave_line(&server, &bytes);
        assert!(line.ends_with(want), "{what}: {line}");
        if !want.starts_with("protocol error") {
            assert!(!line.contains("protocol error"), "{what}: {line}");
        }
    }
}
