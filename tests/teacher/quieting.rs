//! Quieting: `/mute` (and `/unmute`), `/quiet`, slow mode; teachers are
//! exempt.

use testkit::*;

use crate::*;

#[test]
fn mute_stops_chat_me_and_msg_until_unmuted() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut bob = student(&server, "bob");
    t.send("/mute bob 3");
    bob.recv_until(" .... bob was muted by MrsK.");
    t.recv_until(" .... bob was muted by MrsK.");
    for line in ["hi", "/me waves", "/msg MrsK psst"] {
        bob.send(line);
        bob.expect_text(" .... you are muted (3 min left).");
    }
    t.assert_nothing_for(QUIET);
    t.send("/unmute bob");
    bob.recv_until(" .... bob can speak again.");
    bob.chat("back");
}

#[test]
fn quiet_lets_only_teachers_speak() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut bob = student(&server, "bob");
    t.send("/quiet");
    bob.recv_until(" .... only teachers can speak now.");
    bob.send("hi");
    bob.expect_text(" .... only teachers can speak now.");
    t.chat("listen");
    bob.recv_until("MrsK: listen");
    t.send("/quiet off");
    bob.recv_until(" .... everyone can speak again.");
    bob.chat("ok");
}

#[test]
fn slow_mode_spaces_a_students_lines() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut bob = student(&server, "bob");
    t.send("/slow 30");
    bob.recv_until(" .... slow mode: one line every 30 s.");
    bob.chat("one");
    bob.send("two");
    let wait = bob.recv_matching(|l| l.starts_with(" .... slow mode: wait "));
    assert!(
        wait == " .... slow mode: wait 30 s." || wait == " .... slow mode: wait 29 s.",
        "{wait}"
    );
    t.chat("a");
    t.chat("b");
    t.send("/slow 0");
    bob.recv_until(" .... slow mode is off.");
    bob.chat("three");
    t.send("/slow 601");
    t.recv_until(" .... usage: /slow SECONDS (1-600, 0: off).");
}
