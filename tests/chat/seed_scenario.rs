//! The seed's scenario end to end: two clients join, one speaks, one leaves.

use testkit::*;

#[test]
fn two_clients_chat_and_one_leaves() {
    let server = start_server();
    // A joins and learns its nickname; then B joins and A hears of it.
    let mut a = TestClient::connect(server.chat_addr());
    let mut b = TestClient::connect(server.chat_addr());
    assert!(a.nick.starts_with("user-") && b.nick.starts_with("user-"));
    assert_ne!(a.nick, b.nick);
    let n: u32 = a.nick["user-".len()..].parse().unwrap();
    assert!(n < 100_000);
    assert_eq!(a.recv_text(), joined(&b.nick));

    // A speaks: both receive `user-N: hello`, sender included.
    a.send("hello");
    assert_eq!(a.recv_text(), format!("{}: hello", a.nick));
    assert_eq!(b.recv_text(), format!("{}: hello", a.nick));

    // A closes: B is told A left, exactly once.
    a.close();
    assert_eq!(b.recv_text(), left(&a.nick));
    b.send("still here");
    assert_eq!(b.recv_text(), format!("{}: still here", b.nick));
}

#[test]
fn a_clients_close_is_answered_and_the_connection_ends() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    a.ws.close(None).unwrap();
    // tungstenite answers our close with the echo and then sees EOF.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        assert!(std::time::Instant::now() < deadline);
        match a.ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

#[test]
fn the_main_rooms_paths_are_accepted() {
    // (Other paths name other rooms, or get 404; see chat::rooms_isolated.)
    let server = start_server();
    for path in ["/", "/chat", "/ws", "/ws/", "/?x=1"] {
        let mut client = TestClient::connect_to(server.chat_addr(), path);
        assert!(client.nick.starts_with("user-"));
        client.close();
    }
}
