//! A message of more than 12 lines is shown folded, with a "Show all N
//! lines" button that unfolds it.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

#[test]
fn a_long_message_is_folded() {
    let Some(browser) = chromium_or_skip("a_long_message_is_folded") else {
        return;
    };
    let server = start_server();
    let (tab, _) = join(&browser, &server.page_url("physics"));
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    let rows: Vec<String> = (1..=20).map(|i| format!("row {i}")).collect();
    bob.send(&rows.join("\n"));
    bob.send(&rows[..12].join("\n"));
    wait_js(
        &tab,
        "the folded line",
        "document.querySelector('li .fold') !== null",
    );
    wait_line(&tab, &format!("{}: {}", bob.nick, rows[..12].join("\n")));
    assert_eq!(
        js_string(&tab, "document.querySelector('li .fold').textContent"),
        "Show all 20 lines"
    );
    assert_eq!(
        js(&tab, "document.querySelectorAll('li .fold').length").value,
        Some(1.into()),
        "12 lines are not folded"
    );
    assert!(!js_bool(
        &tab,
        "document.querySelector('li .msg.folded').textContent.includes('row 13')"
    ));
    tab.find_element("li .fold")
        .and_then(|b| b.click().map(|_| ()))
        .expect("click Show all");
    wait_line(&tab, &format!("{}: {}", bob.nick, rows.join("\n")));
}
