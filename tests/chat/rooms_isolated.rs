//! Rooms are separate: the request path picks the room,
//! lines never cross rooms, nicknames are unique within a room only, the
//! proxy paths `/ws/NAME` reach the same room as `/NAME`, and any other path
//! gets 404 at the handshake.

use testkit::*;

use std::time::Duration;

#[test]
fn lines_and_names_stay_in_their_room() {
    let server = start_server();
    let addr = server.chat_addr();
    let mut main = TestClient::connect_to(addr, "/");
    let mut maths = TestClient::connect_to(addr, "/Maths");
    // Through a proxy that keeps the prefix: the same room, lowercase.
    let mut maths2 = TestClient::connect_to(addr, "/ws/maths");
    let mut art = TestClient::connect_to(addr, "/art");
    assert_eq!(maths.recv_text(), joined(&maths2.nick));
    assert_eq!(maths2.presence, here_now(&[&maths.nick, &maths2.nick]));
    assert_eq!(art.presence, here_now(&[&art.nick]));

    // The same chosen name in two rooms is fine.
    maths.send("/nick sam");
    art.send("/nick Sam");
    assert_eq!(
        maths.recv_text(),
        format!(" .... {} is now sam.", maths.nick)
    );
    assert_eq!(art.recv_text(), format!(" .... {} is now Sam.", art.nick));
    assert_eq!(
        maths2.recv_text(),
        format!(" .... {} is now sam.", maths.nick)
    );
    maths.nick = "sam".into();
    art.nick = "Sam".into();

    maths.chat("in maths");
    assert_eq!(maths2.recv_text(), "sam: in maths");
    art.chat("in art");
    main.chat("in main");
    // /msg finds only members of one's own room: in art, "sam" is Sam.
    art.send("/msg sam hello?");
    assert_eq!(art.recv_text(), "Sam -> Sam: hello?");
    main.send(&format!("/msg {} hi", maths2.nick));
    assert_eq!(main.recv_text(), format!(" .... no {} here.", maths2.nick));

    // Nothing crossed: each room's next line is its own.
    maths2.chat("still maths");
    assert_eq!(maths.recv_text(), format!("{}: still maths", maths2.nick));
    main.assert_nothing_for(Duration::from_millis(200));
    // A newcomer to art gets art's history only.
    let late = TestClient::connect_to(addr, "/ws/art");
    assert_eq!(late.history, ["Sam: in art"]);
}

#[test]
fn other_paths_get_404_at_the_handshake() {
    let server = start_server();
    let addr = server.chat_addr();
    let long = "a".repeat(33);
    for target in [
        "/a/b",
        "/maths/",
        "/ws/ws",
        "/healthz",
        "/metrics",
        "/café",
        "/a.b",
        "/%61",
        &format!("/{long}"),
        &format!("/{long}?session=0123456789abcdef"),
    ] {
        let request = upgrade_request_to(addr, target, "");
        let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
        assert_eq!(status, 404, "{target}: {head}");
        assert!(ends_within(&mut stream, WAIT, 4096), "{target}: kept open");
    }
    // The server is unharmed.
    let mut a = TestClient::connect(addr);
    a.chat("fine");
}
