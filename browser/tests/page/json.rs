//! The page speaks the JSON format (`chat.v1.json`): the socket says so
//! (`WebSocket.protocol`), every room line carries its id, and history
//! lines show their time too, still set apart as "earlier".

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

/// Before the page's own script: remember every WebSocket it opens.
pub const RECORD_SOCKETS: &str = "window.__sockets = []; window.WebSocket = new Proxy(WebSocket, \
     { construct(t, args) { const s = new t(...args); window.__sockets.push(s); return s; } });";

#[test]
fn the_page_speaks_json_with_ids_and_times() {
    let Some(browser) = chromium_or_skip("the_page_speaks_json_with_ids_and_times") else {
        return;
    };
    let server = start_server();
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    bob.send("said before");
    let tab = browser.new_tab().expect("tab");
    add_script(&tab, RECORD_SOCKETS);
    let tab = load_url(tab, &server.page_url("physics"));
    wait_nick(&tab);
    assert_eq!(
        js_string(&tab, "window.__sockets[0].protocol"),
        "chat.v1.json"
    );
    bob.send("said now");
    wait_line(&tab, &format!("{}: said now", bob.nick));
    // History and live lines: each with an id and a time.
    for (what, selector) in [
        ("the history line", "li.earlier"),
        ("the live line", "li.chat:not(.earlier)"),
    ] {
        assert!(
            js_bool(
                &tab,
                &format!(
                    "(() => {{ const li = document.querySelector({selector:?}); \
                     return /^[0-9]+$/.test(li.dataset.id) && li.querySelector('time.t').dataset.hm.length === 5; }})()"
                )
            ),
            "{what} has an id and a time"
        );
    }
    let ids = js_string(
        &tab,
        "Array.from(document.querySelectorAll('li[data-id]'), li => li.dataset.id).join(',')",
    );
    let ids: Vec<u64> = ids.split(',').map(|i| i.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
}
