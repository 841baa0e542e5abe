//! Names and messages are isolated for bidirectional text: a Hebrew name
//! does not reorder `10 20` after it.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

#[test]
fn a_right_to_left_name_never_reorders_the_line() {
    let Some(browser) = chromium_or_skip("a_right_to_left_name_never_reorders_the_line") else {
        return;
    };
    let server = start_server();
    let (tab, _) = join(&browser, &server.page_url("physics"));
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    bob.send("/nick אבג");
    bob.send("10 20");
    wait_line(&tab, "אבג: 10 20");
    // Each name and message is its own isolate (<bdi>) ...
    assert!(js_bool(
        &tab,
        "(() => { const li = Array.from(document.querySelectorAll('li.chat')).pop(); \
           const w = li.querySelector('.who'), m = li.querySelector('.msg'); \
           return w.tagName === 'BDI' && m.tagName === 'BDI' && w.textContent === 'אבג' \
             && getComputedStyle(w).unicodeBidi === 'isolate' && getComputedStyle(m).unicodeBidi === 'isolate'; })()"
    ));
    // ... so on screen 10 comes before 20, and both after the name's colon.
    assert!(js_bool(
        &tab,
        "(() => { const li = Array.from(document.querySelectorAll('li.chat')).pop(); \
           const m = li.querySelector('.msg').firstChild; const r = document.createRange(); \
           const at = (i) => { r.setStart(m, i); r.setEnd(m, i + 2); return r.getBoundingClientRect().left; }; \
           const colon = li.querySelector('.who').getBoundingClientRect(); \
           return at(0) < at(3) && colon.right <= at(0) + 1; })()"
    ));
}
