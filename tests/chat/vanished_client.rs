//! A client that vanishes without a close frame still produces its leave line.

use std::net::Shutdown;
use testkit::*;

#[test]
fn abrupt_tcp_drop_is_a_leave() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    let b = TestClient::connect(server.chat_addr());
    assert_eq!(a.recv_text(), joined(&b.nick));
    // B's socket goes away with no close frame (a killed tab, a crash).
    b.ws.get_ref().shutdown(Shutdown::Both).unwrap();
    drop(b.ws);
    assert_eq!(a.recv_text(), left(&b.nick));
    // The seat is given back when B's thread ends, just after its leave line.
    assert!(
        wait_until(WAIT, || server.clients() == 1),
        "B's seat was not freed"
    );
}

#[test]
fn dropping_in_the_middle_of_a_frame_is_a_leave() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    let mut raw = raw_upgrade(server.chat_addr());
    let nick = a.recv_text();
    let nick = nick
        .strip_prefix(" .... ")
        .and_then(|s| s.strip_suffix(" has joined."))
        .unwrap()
        .to_owned();
    // Half a frame: header says 100 bytes, only 3 follow, then EOF.
    let half = &frame(true, 1, &[b'x'; 100], true)[..9];
    std::io::Write::write_all(&mut raw, half).unwrap();
    drop(raw);
    assert_eq!(a.recv_text(), left(&nick));
}
