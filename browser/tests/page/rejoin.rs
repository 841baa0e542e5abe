//! Back too late to resume: after `--resume-grace` the page is greeted as
//! someone new; it says so, asks for the chosen name again, and of the
//! room's history shows only what it did not already show, once each.

use std::time::Duration;

use crate::support::relay::in_front_of;
use crate::support::tab::*;
use crate::support::{
    chromium_or_skip, start_server_with, test_config, wait_for, TestClient, PAGE_WAIT,
    RECONNECT_WAIT,
};

#[test]
fn back_after_the_grace_the_page_asks_for_its_name_again() {
    let Some(browser) = chromium_or_skip("back_after_the_grace_the_page_asks_for_its_name_again")
    else {
        return;
    };
    let mut config = test_config();
    config.limits.resume_grace = Duration::from_millis(500);
    let server = start_server_with(config);
    let chat = server.chat_addr();
    let (chat_relay, page_relay) = in_front_of(&server);
    let a = open_person(&browser, &format!("http://{}/late", page_relay.addr()));
    wait_nick(&a);
    say(&a, "/nick Kim");
    wait_for("the name Kim", PAGE_WAIT, || {
        (text(&a, "#nick") == "Kim").then_some(())
    });
    let mut bob = TestClient::connect_to(chat, "/late");
    let bob_nick = bob.nick.clone();
    say(&a, "one");
    bob.recv_until("Kim: one");
    bob.send("two");
    wait_line(&a, &format!("{bob_nick}: two"));

    // Away for longer than the grace: the room lets Kim go.
    chat_relay.refuse(true);
    assert_eq!(chat_relay.cut(), 1);
    bob.recv_until(" .... Kim has left.");
    bob.send("while you were gone");
    bob.recv_until(&format!("{bob_nick}: while you were gone"));

    // Back: a new name at first, then Kim again, asked for by the page.
    chat_relay.refuse(false);
    let joined = bob.recv_matching(|l| l.ends_with(" has joined."));
    let fresh = joined
        .strip_prefix(" .... ")
        .and_then(|l| l.strip_suffix(" has joined."))
        .expect("a join line")
        .to_owned();
    bob.recv_until(&format!(" .... {fresh} is now Kim."));
    wait_for("the page to be Kim again", RECONNECT_WAIT, || {
        (text(&a, "#nick") == "Kim" && state(&a) == "connected").then_some(())
    });

    let seen = lines(&a);
    for line in ["Kim: one".to_owned(), format!("{bob_nick}: two")] {
        assert_eq!(
            seen.iter().filter(|l| **l == line).count(),
            1,
            "{line:?} once: {seen:#?}"
        );
    }
    let missed = format!("{bob_nick}: while you were gone");
    assert_eq!(
        seen.iter().filter(|l| **l == missed).count(),
        1,
        "{seen:#?}"
    );
    let at = seen
        .iter()
        .position(|l| *l == missed)
        .expect("the missed line");
    assert_eq!(seen[at - 1], "earlier, while you were away", "{seen:#?}");
    assert!(
        seen.iter()
            .any(|l| *l == format!("reconnected as {fresh} (the old connection had ended)")),
        "{seen:#?}"
    );
    assert!(js_bool(
        &a,
        &format!(
            "Array.from(document.querySelectorAll('li.earlier')).some(li => li.textContent === {missed:?})"
        )
    ));
}
