//! A teacher's rules across instances: a teacher on A kicks, mutes and
//! bars students held on B, and locks the room; B carries each out as it
//! comes back through Redis, with the same lines and close frames as the
//! instance where it was given.

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{joined, left, start_instance, TestClient, TestServer};
use tungstenite::Message;

/// A short look for "nothing else came".
const QUIET: Duration = Duration::from_millis(300);

/// The server's close frame: its code and reason (text on the way skipped).
fn close_of(c: &mut TestClient) -> (u16, String) {
    loop {
        match c.ws.read() {
            Ok(Message::Close(Some(frame))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned())
            }
            Ok(Message::Close(None)) => return (1005, String::new()),
            Ok(_) => {}
            Err(e) => panic!("expected a close frame, got error {e}"),
        }
    }
}

/// `/nick name` on `c`, read until it is so.
fn rename(c: &mut TestClient, name: &str) {
    let old = c.nick.clone();
    c.send(&format!("/nick {name}"));
    c.recv_until(&format!(" .... {old} is now {name}."));
    c.nick = name.to_owned();
}

/// A connection to `server` at `target` refused at the door with `line`
/// and close 1008 `reason`.
fn refused(server: &TestServer, target: &str, line: &str, reason: &str) {
    let mut c = TestClient::connect_quiet_to(server.chat_addr(), target);
    c.expect_text(line);
    assert_eq!(close_of(&mut c), (1008, reason.to_owned()));
}

#[test]
fn a_teacher_on_one_instance_rules_the_members_of_another() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_secs(15);
    let a = start_instance(&redis.url(), lease);
    let b = start_instance(&redis.url(), lease);
    let mut t = TestClient::connect(a.chat_addr());
    t.send(&format!("/teacher {}", a.teacher_key()));
    t.recv_until(" .... you are a teacher.");
    rename(&mut t, "MrsK");
    let mut ann = TestClient::connect(b.chat_addr());
    rename(&mut ann, "ann");
    let kicked_at = "/chat?session=kicked-on-b-session-01";
    let mut kim = TestClient::connect_to(b.chat_addr(), kicked_at);
    rename(&mut kim, "kim");
    let barred_at = "/chat?session=barred-on-b-session-01";
    let mut bob = TestClient::connect_to(b.chat_addr(), barred_at);
    rename(&mut bob, "bob");
    let mut mo = TestClient::connect(b.chat_addr());
    let first = mo.nick.clone();
    rename(&mut mo, "mo");
    // A has seen every one of them.
    t.recv_until(&format!(" .... {first} is now mo."));

    // A kick on A removes kim on B: its notice, then close 1008 `removed`.
    t.send("/kick kim");
    kim.recv_until(" .... you were removed by MrsK.");
    assert_eq!(close_of(&mut kim), (1008, "removed".to_owned()));
    ann.recv_until(" .... kim was removed by MrsK.");
    t.recv_until(" .... kim was removed by MrsK.");
    // Its name is free everywhere: gone from the presence, and a kick is
    // no bar, so it may come in again.
    ann.send("/who");
    let who = ann.recv_matching(|l| l.contains("here now"));
    assert!(!who.contains("kim"), "{who}");
    let again = TestClient::connect_to(b.chat_addr(), kicked_at);
    t.recv_until(&joined(&again.nick));

    // A mute on A silences mo on B: its lines reach no one.
    t.send("/mute mo 5");
    mo.recv_until(" .... mo was muted by MrsK.");
    ann.recv_until(" .... mo was muted by MrsK.");
    mo.send("can I talk?");
    mo.expect_text(" .... you are muted (5 min left).");
    let heard = ann.chat("after");
    let seen = t.recv_until("ann: after");
    for lines in [heard, seen] {
        assert!(!lines.iter().any(|l| l.contains("can I talk")), "{lines:?}");
    }
    for c in [&mut t, &mut ann] {
        c.assert_nothing_for(QUIET);
    }

    // A lock on A closes B's door too.
    t.send("/lock");
    ann.recv_until(" .... MrsK locked the room.");
    refused(&b, "/chat", " .... this room is locked.", "locked");
    t.send("/unlock");
    ann.recv_until(" .... MrsK unlocked the room.");

    // A bar on A removes bob on B and bars its session there.
    t.send("/ban bob 5");
    bob.recv_until(" .... you are barred from this room by MrsK.");
    assert_eq!(close_of(&mut bob), (1008, "barred".to_owned()));
    ann.recv_until(" .... bob was barred by MrsK.");
    t.recv_until(" .... bob was barred by MrsK.");
    refused(
        &b,
        barred_at,
        " .... you are barred from this room.",
        "barred",
    );
    // No leave line follows a removal, here or there.
    ann.chat("still here");
    let seen = t.recv_until("ann: still here");
    assert!(!seen.iter().any(|l| *l == left("bob")), "{seen:?}");
}
