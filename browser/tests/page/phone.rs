//! On a phone (390 x 844, and 320 wide): the member list opens wholly on
//! screen and closes; the rooms menu, the message box and Send are wholly
//! visible and at least 44 px tall; nothing scrolls sideways.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

fn inside(tab: &headless_chrome::Tab, selector: &str, min_height: f64) {
    let ok = js_bool(
        tab,
        &format!(
            "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); \
             return r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight \
               && r.height >= {min_height} && r.width > 0; }})()"
        ),
    );
    let rect = js_string(
        tab,
        &format!("JSON.stringify(document.querySelector({selector:?}).getBoundingClientRect()) + ' in ' + innerWidth + 'x' + innerHeight"),
    );
    assert!(ok, "{selector} on screen, {min_height} px tall: {rect}");
}

#[test]
fn a_phone_shows_every_control_whole() {
    let Some(browser) = chromium_or_skip("a_phone_shows_every_control_whole") else {
        return;
    };
    let server = start_server();
    let mut clients: Vec<TestClient> = (0..6)
        .map(|_| TestClient::connect_to(server.chat_addr(), "/physics"))
        .collect();
    clients[0].send("/nick Benedict_Cumberbatch");
    let (tab, _) = join(&browser, &server.page_url("physics"));
    for size in [(390, 844), (320, 568)] {
        set_viewport(&tab, size, 2.0, true);
        for control in ["#rooms summary", "#chat-input", "#send", "#people summary"] {
            inside(&tab, control, 44.0);
        }
        assert!(js_bool(
            &tab,
            "document.documentElement.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth"
        ));
        tab.find_element("#people summary")
            .and_then(|s| s.click().map(|_| ()))
            .expect("open the member list");
        wait_js(
            &tab,
            "the list open",
            "document.getElementById('people').open",
        );
        inside(&tab, "#people .panel", 0.0);
        inside(&tab, "#people .panel-close", 44.0);
        tab.find_element("#people .panel-close")
            .and_then(|s| s.click().map(|_| ()))
            .expect("close the member list");
        wait_js(
            &tab,
            "the list closed",
            "!document.getElementById('people').open",
        );
        tab.find_element("#rooms summary")
            .and_then(|s| s.click().map(|_| ()))
            .expect("open the rooms menu");
        inside(&tab, "#room-form", 0.0);
        inside(&tab, "#room-input", 44.0);
        js(&tab, "document.getElementById('rooms').open = false");
    }
    drop(clients.pop());
}
