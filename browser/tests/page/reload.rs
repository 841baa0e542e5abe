//! A reload is not a goodbye: the page sends no close of its own, the
//! browser's 1001 keeps its place for the resume grace, so it comes back as
//! the same member and the others see nothing. "Leave" closes with 1000:
//! the others see the leave at once.

use std::time::Duration;

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, TestClient, PAGE_WAIT};

#[test]
fn a_reload_is_silent_and_leave_is_a_goodbye() {
    let Some(browser) = chromium_or_skip("a_reload_is_silent_and_leave_is_a_goodbye") else {
        return;
    };
    let server = start_server();
    let (tab, nick) = join(&browser, &server.page_url("physics"));
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    say(&tab, "before the reload");
    bob.recv_until(&format!("{nick}: before the reload"));

    tab.reload(false, None)
        .and_then(|t| t.wait_until_navigated())
        .expect("reload");
    wait_for("the same name after the reload", PAGE_WAIT, || {
        (state(&tab) == "connected" && text(&tab, "#nick") == nick).then_some(())
    });
    bob.assert_nothing_for(Duration::from_millis(1500));
    say(&tab, "after the reload");
    bob.expect_text(&format!("{nick}: after the reload"));

    // Leave: a close with 1000, the others told at once.
    tab.find_element("#leave")
        .and_then(|b| b.click().map(|_| ()))
        .expect("click Leave");
    bob.expect_text(&format!(" .... {nick} has left."));
    wait_js(
        &tab,
        "the page to say it left",
        "document.getElementById('ended-text').textContent === 'You left the room.'",
    );
}
