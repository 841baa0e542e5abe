//! Coming back as yourself: a member that gave `?session=ID` and
//! dropped without a close frame is kept for `--resume-grace`; coming back
//! with the ID in time gives the same name and the missed lines, and the
//! others see neither a leave nor a join. After the grace, the others see
//! the usual leave. A close frame leaves at once; an ID in use, or a bad
//! one, is treated as none.

use testkit::*;

use std::time::{Duration, Instant};

const ID: &str = "tab-0123456789abcdef";

fn server_with_grace(grace: Duration) -> TestServer {
    start_server_with_limits(|limits| limits.resume_grace = grace)
}

/// A (with the session, renamed to `ann`) and B in room `/maths`.
fn ann_and_bob(server: &TestServer) -> (TestClient, TestClient) {
    let addr = server.chat_addr();
    let mut a = TestClient::connect_to(addr, &format!("/maths?session={ID}"));
    let mut b = TestClient::connect_to(addr, "/maths");
    a.recv_until(&joined(&b.nick));
    a.send("/nick ann");
    b.recv_until(&format!(" .... {} is now ann.", a.nick));
    a.recv_until(&format!(" .... {} is now ann.", a.nick));
    a.nick = "ann".into();
    (a, b)
}

/// Drop A's connection without a close frame, and wait until the room has
/// heard (A's reader thread is gone once its Leave is sent).
fn vanish(server: &TestServer, a: TestClient, left_behind: usize) {
    a.vanish();
    assert!(
        wait_until(WAIT, || server.clients() == left_behind),
        "the drop was not noticed"
    );
}

#[test]
fn back_within_the_grace_with_the_same_name_and_the_missed_lines() {
    let server = server_with_grace(Duration::from_secs(30));
    let (a, mut b) = ann_and_bob(&server);
    vanish(&server, a, 1);
    // Said while A was away: a chat line, an action, a private line to A.
    b.chat("are you there?");
    b.send("/me waits");
    b.recv_until(&format!("* {} waits", b.nick));
    b.send("/msg ann call me");
    b.recv_until(&format!("{} -> ann: call me", b.nick));
    // A is still listed, and its name still taken.
    b.send("/who");
    assert_eq!(b.recv_text(), here_now(&["ann", &b.nick]));
    b.send("/nick ANN");
    assert_eq!(b.recv_text(), " .... ANN is taken.");

    let mut a = TestClient::connect_to(server.chat_addr(), &format!("/maths?session={ID}"));
    assert_eq!(a.nick, "ann");
    assert_eq!(
        a.history,
        [
            format!("{}: are you there?", b.nick),
            format!("* {} waits", b.nick),
            format!("{} -> ann: call me", b.nick),
        ]
    );
    assert_eq!(a.presence, here_now(&["ann", &b.nick]));
    // B saw neither a leave nor a join: its next line is A's.
    a.chat("back");
    assert_eq!(b.recv_text(), "ann: back");
    // And A is a full member again: it can drop and come back once more.
    vanish(&server, a, 1);
    b.chat("again?");
    let a = TestClient::connect_to(server.chat_addr(), &format!("/ws/maths?session={ID}"));
    assert_eq!((a.nick.as_str(), a.history.len()), ("ann", 1));
}

#[test]
fn after_the_grace_the_others_see_the_leave() {
    let grace = Duration::from_millis(400);
    let server = server_with_grace(grace);
    let (a, mut b) = ann_and_bob(&server);
    let dropped = Instant::now();
    vanish(&server, a, 1);
    assert_eq!(b.recv_text(), left("ann"));
    assert!(dropped.elapsed() >= grace, "left before the grace ended");
    // Too late: the ID gets a fresh name, and B sees a join.
    let a = TestClient::connect_to(server.chat_addr(), &format!("/maths?session={ID}"));
    assert!(a.nick.starts_with("user-"), "{}", a.nick);
    assert_eq!(b.recv_text(), joined(&a.nick));
}

#[test]
fn a_close_frame_leaves_at_once() {
    let server = server_with_grace(Duration::from_secs(30));
    let (mut a, mut b) = ann_and_bob(&server);
    a.close();
    assert_eq!(b.recv_text(), left("ann"));
    let a = TestClient::connect_to(server.chat_addr(), &format!("/maths?session={ID}"));
    assert!(a.nick.starts_with("user-"), "{}", a.nick);
}

#[test]
fn an_id_in_use_or_a_bad_id_is_treated_as_none() {
    let server = server_with_grace(Duration::from_secs(30));
    let (mut a, mut b) = ann_and_bob(&server);
    let addr = server.chat_addr();
    // Same ID while A is connected: a fresh name, and A is untouched.
    let c = TestClient::connect_to(addr, &format!("/maths?session={ID}"));
    let c_nick = c.nick.clone();
    assert!(c_nick.starts_with("user-"), "{c_nick}");
    assert_eq!(b.recv_text(), joined(&c_nick));
    assert_eq!(a.recv_text(), joined(&c_nick));
    // C (which gave the ID in use) dropping is an ordinary leave, at once.
    vanish(&server, c, 2);
    assert_eq!(b.recv_text(), left(&c_nick));
    assert_eq!(a.recv_text(), left(&c_nick));
    // A bad ID is none: a drop is an ordinary leave, at once.
    let bad = TestClient::connect_to(addr, "/maths?session=short");
    let bad_nick = bad.nick.clone();
    b.recv_until(&joined(&bad_nick));
    vanish(&server, bad, 2);
    b.recv_until(&left(&bad_nick));
    a.chat("still me");
}
