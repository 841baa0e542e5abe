//! What a student's page does with the room's rules, against the stage
//! (the test plays the server): a join code asked for, sent, refused and
//! tried again, and `?code=` passed on; muted, quiet and slow mode say why
//! in the box (slow mode counts down) and come back by themselves; removed,
//! barred and locked say so and do not reconnect.

use std::time::Duration;

use crate::support::shots::assert_contrast;
use crate::support::stage::Stage;
use crate::support::tab::*;
use crate::support::{chromium_or_skip, wait_for, PAGE_WAIT};

fn limit(tab: &headless_chrome::Tab) -> String {
    text(tab, "#limit")
}

#[test]
fn join_code_and_the_rooms_rules() {
    let Some(browser) = chromium_or_skip("join_code_and_the_rooms_rules") else {
        return;
    };
    let stage = Stage::start(None);
    let tab = open(&browser, &stage.url("physics"));
    let mut conn = stage.accept();
    assert!(
        conn.protocols.contains("chat.v1.json"),
        "{}",
        conn.protocols
    );
    conn.notice("this room needs a join code: type /code CODE.");
    wait_js(&tab, "the code field", "!document.getElementById('code-form').hidden && document.activeElement.id === 'code-input'");
    tab.type_str("wrong1").expect("type");
    press_enter(&tab);
    assert_eq!(conn.recv(), "/code WRONG1");
    conn.notice("wrong code.");
    wait_js(
        &tab,
        "wrong code",
        "document.getElementById('code-hint').textContent === 'Wrong code. Try again.'",
    );
    js(
        &tab,
        "document.getElementById('code-input').value = 'k7q2xh'",
    );
    press_enter(&tab);
    assert_eq!(conn.recv(), "/code K7Q2XH");
    conn.welcome("user-1", &[("user-1", "student")]);
    wait_js(
        &tab,
        "the field gone",
        "document.getElementById('code-form').hidden",
    );

    // Muted: the box says why and for how long.
    conn.notice("you are muted (10 min left).");
    wait_for("the mute said", PAGE_WAIT, || {
        (limit(&tab) == "You are muted (10 min left).").then_some(())
    });
    assert!(js_bool(&tab, "document.getElementById('chat-input').readOnly && document.getElementById('send').disabled"));
    assert_eq!(
        js_string(&tab, "document.getElementById('chat-input').placeholder"),
        "You are muted (10 min left)."
    );
    conn.notice("user-1 can speak again.");
    wait_for("the box back", PAGE_WAIT, || {
        limit(&tab).is_empty().then_some(())
    });
    assert!(!js_bool(
        &tab,
        "document.getElementById('chat-input').readOnly"
    ));
    conn.notice("user-1 was muted by MrsK.");
    wait_for("muted by", PAGE_WAIT, || {
        (limit(&tab) == "You were muted by MrsK.").then_some(())
    });
    conn.notice("user-1 can speak again.");
    wait_for("the box back", PAGE_WAIT, || {
        limit(&tab).is_empty().then_some(())
    });

    // Quiet: until everyone can speak again.
    conn.notice("only teachers can speak now.");
    wait_for("quiet said", PAGE_WAIT, || {
        (limit(&tab) == "Only teachers can speak now.").then_some(())
    });
    conn.notice("everyone can speak again.");
    wait_for("the box back", PAGE_WAIT, || {
        limit(&tab).is_empty().then_some(())
    });

    // Slow mode: a countdown after each line, that ends by itself.
    conn.notice("slow mode: one line every 2 s.");
    say(&tab, "first");
    assert_eq!(conn.recv(), "first");
    wait_for("the countdown", PAGE_WAIT, || {
        limit(&tab).starts_with("Slow mode: wait ").then_some(())
    });
    wait_for("the box back by itself", PAGE_WAIT, || {
        limit(&tab).is_empty().then_some(())
    });
    say(&tab, "second");
    assert_eq!(conn.recv(), "second");
    conn.notice("slow mode: wait 3 s.");
    wait_for("wait 3 s", PAGE_WAIT, || {
        (limit(&tab) == "Slow mode: wait 3 s.").then_some(())
    });
    conn.notice("slow mode is off.");
    wait_for("the box back", PAGE_WAIT, || {
        limit(&tab).is_empty().then_some(())
    });

    // Removed: said, and no reconnecting.
    conn.notice("you were removed by MrsK.");
    conn.close(1008, "removed");
    wait_js(
        &tab,
        "removed said",
        "document.getElementById('ended-text').textContent === 'You were removed by MrsK.'",
    );
    assert!(
        stage.accepts_within(Duration::from_secs(3)).is_none(),
        "the page reconnected"
    );
    assert_eq!(state(&tab), "ended");
    for verdict in assert_contrast(&tab) {
        println!("removed, {verdict}");
    }

    // ?code= is passed on; barred: said, no reconnecting.
    let b = open_person(&browser, &stage.url("physics?code=K7Q2XH"));
    let mut conn = stage.accept();
    assert!(
        conn.target.contains("session=") && conn.target.ends_with("&code=K7Q2XH"),
        "{}",
        conn.target
    );
    conn.notice("you are barred from this room by MrsK.");
    conn.close(1008, "barred");
    wait_js(&b, "barred said", "document.getElementById('ended-text').textContent === 'You are barred from this room by MrsK.'");
    assert!(
        stage.accepts_within(Duration::from_secs(3)).is_none(),
        "the page reconnected"
    );

    // Locked.
    let c = open_person(&browser, &stage.url("physics"));
    let mut conn = stage.accept();
    conn.notice("this room is locked.");
    conn.close(1008, "locked");
    wait_js(
        &c,
        "locked said",
        "document.getElementById('ended-text').textContent === 'This room is locked.'",
    );
    assert!(
        stage.accepts_within(Duration::from_secs(3)).is_none(),
        "the page reconnected"
    );
}
