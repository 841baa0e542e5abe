//! `/healthz` on the page port: 200 and one line while
//! the room thread answers, through a real server; `healthz` and `metrics`
//! are not room names. (A room that does not answer gets 503: unit-tested
//! in `src/health.rs` with a room that never reads its queue, since a live
//! room cannot be made to stall from outside.)

use testkit::*;

use std::io::Read;

#[test]
fn healthy_while_the_room_answers() {
    let server = start_server();
    let page = server.page_addr();
    for _ in 0..3 {
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
        let (status, head, mut stream) = http_exchange(page, request.as_bytes());
        assert_eq!(status, 200, "{head}");
        let mut body = String::new();
        let _ = stream.read_to_string(&mut body);
        assert!(body.starts_with("ok"), "{body:?}");
        assert_eq!(body.lines().count(), 1, "{body:?}");
        // While a client chats, too.
        let mut client = TestClient::connect(server.chat_addr());
        client.chat("still healthy");
    }
}
