//! A line that names you is highlighted, and counts in the title even
//! while you have scrolled up to read (the tab in front).

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, TestClient, PAGE_WAIT};

#[test]
fn a_line_that_names_you_is_highlighted_and_counted() {
    let Some(browser) = chromium_or_skip("a_line_that_names_you_is_highlighted_and_counted") else {
        return;
    };
    let server = start_server();
    let (tab, _) = join(&browser, &server.page_url("physics"));
    say(&tab, "/nick Ada");
    wait_for("Ada", PAGE_WAIT, || {
        (text(&tab, "#nick") == "Ada").then_some(())
    });
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    for i in 0..40 {
        bob.send(&format!("filler {i}"));
    }
    wait_line(&tab, &format!("{}: filler 39", bob.nick));
    bob.send("nothing for adam here");
    wait_line(&tab, &format!("{}: nothing for adam here", bob.nick));
    js(&tab, "document.getElementById('log').scrollTop = 0");
    bob.send("ada, can you read this?");
    wait_line(&tab, &format!("{}: ada, can you read this?", bob.nick));
    let line = "Array.from(document.querySelectorAll('#chat-echo-area li')).find(li => li.textContent.endsWith(TEXT))";
    assert!(js_bool(
        &tab,
        &format!(
            "{}.classList.contains('mention')",
            line.replace("TEXT", "'ada, can you read this?'")
        )
    ));
    assert!(!js_bool(
        &tab,
        &format!(
            "{}.classList.contains('mention')",
            line.replace("TEXT", "'nothing for adam here'")
        )
    ));
    wait_for("the title to count it", PAGE_WAIT, || {
        title(&tab).starts_with("@1 ").then_some(())
    });
    js(&tab, "document.getElementById('log').scrollTop = 1e9");
    wait_for("the count to go once seen", PAGE_WAIT, || {
        (!title(&tab).starts_with('@')).then_some(())
    });
}
