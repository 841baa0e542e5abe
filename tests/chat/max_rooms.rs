//! `--max-rooms`: a join that would create one room too
//! many gets 503 at the handshake; a room whose last member left keeps its
//! history until its slot is needed, and then the least recently used empty
//! room goes first.

use testkit::*;

/// Try to open room `target`: the HTTP status (the greeting is read on 101).
fn status_for(server: &TestServer, target: &str) -> u16 {
    let addr = server.chat_addr();
    let request = upgrade_request_to(addr, target, "");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    if status == 101 {
        read_greeting(&mut stream);
    } else {
        assert!(head.contains("Content-Length"), "{head}");
        assert!(ends_within(&mut stream, WAIT, 4096), "{target}: kept open");
    }
    status
}

/// Connect to `target`, say `text` there, and leave with a close frame.
fn say_and_leave(server: &TestServer, target: &str, text: &str) -> String {
    let before = server.clients();
    let mut c = TestClient::connect_to(server.chat_addr(), target);
    c.chat(text);
    c.close();
    assert!(
        wait_until(WAIT, || server.clients() == before),
        "leave not seen"
    );
    format!("{}: {text}", c.nick)
}

#[test]
fn one_room_too_many_is_503_and_the_least_recently_used_empty_room_goes() {
    let server = start_server_with_limits(|limits| limits.max_rooms = 2);
    let addr = server.chat_addr();
    let mut a = TestClient::connect_to(addr, "/one");
    let mut b = TestClient::connect_to(addr, "/two");
    // Both slots hold someone: a third room, the main one included, is 503.
    assert_eq!(status_for(&server, "/three"), 503);
    assert_eq!(status_for(&server, "/"), 503);
    // Existing rooms still take newcomers.
    let (_extra, _) = raw_join_to(addr, "/one");

    // Emptied rooms keep their history.
    a.chat("in one");
    b.chat("in two");
    let line_one = format!("{}: in one", a.nick);
    a.close();
    b.close();
    drop(_extra);
    assert!(
        wait_until(WAIT, || server.clients() == 0),
        "leaves not seen"
    );
    let said = say_and_leave(&server, "/one", "one again");
    // "two" is now the least recently used empty room: "three" takes its
    // slot; "one" keeps its history.
    let mut three = TestClient::connect_to(addr, "/three");
    assert!(three.history.is_empty());
    let one = TestClient::connect_to(addr, "/one");
    assert_eq!(one.history, [line_one, said]);
    // Both slots are held again: a fourth room is refused...
    assert_eq!(status_for(&server, "/four"), 503);
    drop(one);
    assert!(wait_until(WAIT, || server.clients() == 1), "leave not seen");
    // ...until "one" is empty: then it goes, and "two" comes back new.
    let two = TestClient::connect_to(addr, "/two");
    assert!(two.history.is_empty(), "{:?}", two.history);
    assert_eq!(status_for(&server, "/one"), 503);
    three.chat("three is fine");
}
