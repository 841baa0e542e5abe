//! The unread count: while the tab is hidden (another tab in front), its
//! title counts the lines that arrived (chat, action and private lines, not
//! joins and leaves); coming back resets it.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

#[test]
fn a_hidden_tab_counts_unread_lines_in_its_title() {
    let Some(browser) = chromium_or_skip("a_hidden_tab_counts_unread_lines_in_its_title") else {
        return;
    };
    let server = start_server();
    let a = open(&browser, &server.page_url("away"));
    let nick = wait_nick(&a);
    let plain_title = title(&a);
    assert_eq!(plain_title, format!("{nick} — #away — chat"));

    // Another tab of the same window comes to the front: A is hidden.
    let other = open(&browser, "about:blank");
    hide(&a, &other);
    let mut bob = TestClient::connect_to(server.chat_addr(), "/away");
    wait_line(&a, &format!(" .... {} has joined.", bob.nick));
    bob.send("one");
    bob.send("/me two");
    bob.send(&format!("/msg {nick} three"));
    wait_line(&a, &format!("{} -> {nick}: three", bob.nick));
    assert_eq!(title(&a), format!("(3) {plain_title}"));
    assert!(js_bool(&a, "document.hidden"), "still hidden");

    // Back to the tab: the count goes.
    show(&a);
    wait_js(
        &a,
        "the title to lose its count",
        &format!("document.title === {plain_title:?}"),
    );
    bob.send("seen at once");
    wait_line(&a, &format!("{}: seen at once", bob.nick));
    assert_eq!(title(&a), plain_title);
}
