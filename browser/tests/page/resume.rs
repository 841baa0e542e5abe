//! Coming back as yourself: the tab's connection is cut without a close
//! frame (a TCP relay between the browser and the server drops it, and
//! turns reconnections away for a moment); the tab comes back by itself,
//! with the same name and its ?session= ID, shows the lines sent meanwhile
//! once each, says "reconnected", and the others never saw it leave.

use crate::support::relay::in_front_of;
use crate::support::tab::*;
use crate::support::{
    chromium_or_skip, start_server, wait_for, TestClient, PAGE_WAIT, RECONNECT_WAIT,
};

#[test]
fn a_cut_connection_comes_back_with_the_same_name_and_the_missed_lines() {
    let Some(browser) =
        chromium_or_skip("a_cut_connection_comes_back_with_the_same_name_and_the_missed_lines")
    else {
        return;
    };
    let server = start_server();
    let chat = server.chat_addr();
    let (chat_relay, page_relay) = in_front_of(&server);
    let a = open_person(&browser, &format!("http://{}/blip", page_relay.addr()));
    wait_nick(&a);
    say(&a, "/nick Kim");
    wait_for("the name Kim", PAGE_WAIT, || {
        (text(&a, "#nick") == "Kim").then_some(())
    });
    let mut bob = TestClient::connect_to(chat, "/blip");
    let bob_nick = bob.nick.clone();
    say(&a, "before the blip");
    bob.recv_until("Kim: before the blip");
    bob.send("seen before");
    wait_line(&a, &format!("{bob_nick}: seen before"));

    // The network goes: no close frame either way, and no way back for now.
    chat_relay.refuse(true);
    assert_eq!(chat_relay.cut(), 1, "one connection through the relay");
    wait_for("the tab to notice", PAGE_WAIT, || {
        (state(&a) == "reconnecting").then_some(())
    });
    bob.send("while away 1");
    bob.send("while away 2");
    let meanwhile = bob.recv_until(&format!("{bob_nick}: while away 2"));
    assert!(
        !meanwhile.iter().any(|l| l.contains("Kim")),
        "the others were told: {meanwhile:?}"
    );

    // The network is back: the page comes back by itself, as Kim.
    chat_relay.refuse(false);
    wait_for("the tab to come back", RECONNECT_WAIT, || {
        (state(&a) == "connected" && text(&a, "#nick") == "Kim").then_some(())
    });
    wait_line(&a, &format!("{bob_nick}: while away 2"));
    let seen = lines(&a);
    for line in [
        "Kim: before the blip".to_owned(),
        format!("{bob_nick}: seen before"),
        format!("{bob_nick}: while away 1"),
        format!("{bob_nick}: while away 2"),
    ] {
        assert_eq!(
            seen.iter().filter(|l| **l == line).count(),
            1,
            "{line:?} once: {seen:#?}"
        );
    }
    let back = seen
        .iter()
        .position(|l| l.starts_with("reconnected"))
        .expect("the page says reconnected");
    let away = seen
        .iter()
        .position(|l| *l == format!("{bob_nick}: while away 1"))
        .expect("missed line");
    assert!(back < away, "{seen:#?}");
    assert_eq!(
        seen.iter().filter(|l| l.ends_with(" is now Kim.")).count(),
        1,
        "the first rename only; back as Kim, no second one: {seen:#?}"
    );
    wait_members(&a, 2, &["Kim (you)", &bob_nick]);

    // Both connections asked for the same session, and the others saw
    // neither a leave nor a join.
    let targets = chat_relay.targets();
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert_eq!(targets[0], targets[1]);
    assert!(targets[0].starts_with("/blip?session="), "{targets:?}");
    say(&a, "after the blip");
    let after = bob.recv_until("Kim: after the blip");
    assert!(
        !after
            .iter()
            .any(|l| l.contains("has left") || l.contains("has joined")),
        "{after:?}"
    );
    bob.send("all good");
    wait_line(&a, &format!("{bob_nick}: all good"));
}
