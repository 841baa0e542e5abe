//! Keeping strangers out: join codes and the lobby, `?code=`, a teacher
//! through the lobby, the lock (a resume still comes back), and `--rooms
//! teachers`.

use chat_server::{Config, Rooms};
use testkit::*;

use crate::*;

const NEEDS: &str = " .... this room needs a join code: type /code CODE.";

/// `/code`, and the code the teacher is told.
fn new_code(t: &mut TestClient) -> String {
    t.send("/code");
    let line = t.recv_matching(|l| l.starts_with(" .... join code: "));
    line[" .... join code: ".len()..line.len() - 1].to_owned()
}

#[test]
fn a_join_code_keeps_newcomers_in_the_lobby() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut alice = student(&server, "alice");
    let code = new_code(&mut t);
    assert_eq!(code.len(), 6);
    let mut dan = TestClient::connect_quiet(server.chat_addr());
    dan.expect_text(NEEDS);
    dan.send("hello?");
    dan.expect_text(NEEDS);
    dan.send("/code AAAAAA");
    dan.expect_text(" .... wrong code.");
    alice.assert_nothing_for(QUIET);
    dan.send(&format!("/code {code}"));
    dan.read_greeting();
    alice.recv_until(&joined(&dan.nick));
    assert!(dan.presence.contains("@MrsK"), "{}", dan.presence);
    // ?code= admits at once.
    let eve = TestClient::connect_to(server.chat_addr(), &format!("/chat?code={code}"));
    alice.recv_until(&joined(&eve.nick));
    // Five wrong codes close with 1008.
    let mut mallory = TestClient::connect_quiet(server.chat_addr());
    mallory.expect_text(NEEDS);
    for _ in 0..5 {
        mallory.send("/code ZZZZZZ");
        mallory.expect_text(" .... wrong code.");
    }
    assert_eq!(mallory.recv_close(), 1008);
    t.send("/code off");
    t.recv_until(" .... no join code.");
    let _fay = TestClient::connect(server.chat_addr());
}

#[test]
fn a_teacher_comes_in_through_the_lobby() {
    let server = start_server();
    let mut t = teacher(&server);
    new_code(&mut t);
    let mut second = TestClient::connect_quiet(server.chat_addr());
    second.expect_text(NEEDS);
    second.send(&format!("/teacher {}", key_of(&server)));
    second.read_greeting();
    assert!(second.presence.contains(&format!("@{}", second.nick)));
    second.recv_until(" .... you are a teacher.");
    t.recv_until(&format!(" .... {} is a teacher here.", second.nick));
}

#[test]
fn a_locked_room_turns_newcomers_away_but_not_a_resume() {
    let server = start_server();
    let mut t = teacher(&server);
    let target = "/chat?session=resume-me-please-0001";
    let ann = TestClient::connect_to(server.chat_addr(), target);
    let nick = ann.nick.clone();
    t.send("/lock");
    t.recv_until(" .... MrsK locked the room.");
    ann.vanish();
    let mut newbie = TestClient::connect_quiet(server.chat_addr());
    newbie.expect_text(" .... this room is locked.");
    assert_eq!(newbie.recv_close(), 1008);
    let back = TestClient::connect_to(server.chat_addr(), target);
    assert_eq!(back.nick, nick);
    t.send("/unlock");
    t.recv_until(" .... MrsK unlocked the room.");
    let _in = TestClient::connect(server.chat_addr());
}

#[test]
fn with_rooms_teachers_a_room_waits_for_its_teacher() {
    let server = start_server_with(Config {
        rooms: Rooms::Teachers,
        ..test_config()
    });
    let _main = TestClient::connect(server.chat_addr());
    let wait = " .... waiting for a teacher to open this room.";
    let mut ann = TestClient::connect_quiet_to(server.chat_addr(), "/maths");
    ann.expect_text(wait);
    let mut ben = TestClient::connect_quiet_to(server.chat_addr(), "/maths");
    ben.expect_text(wait);
    let mut t = TestClient::connect_quiet_to(server.chat_addr(), "/maths");
    t.expect_text(wait);
    t.send(&format!("/teacher {}", key_of(&server)));
    t.read_greeting();
    ann.read_greeting();
    ben.read_greeting();
    assert!(ben.presence.contains(&ann.nick) && ben.presence.contains('@'));
    let _cat = TestClient::connect_to(server.chat_addr(), "/maths");
}
