//! Who is here: the header's count and the member list follow the presence
//! line, joins, leaves and a rename, in order of arrival, with your own name
//! marked; the list opens from the count, by mouse or keyboard.

use crate::support::tab::*;
use std::time::Duration;

use crate::support::{chromium_or_skip, start_server_with, test_config, TestClient};

#[test]
fn member_list_follows_joins_leaves_and_a_rename() {
    let Some(browser) = chromium_or_skip("member_list_follows_joins_leaves_and_a_rename") else {
        return;
    };
    // A closed tab (the browser's 1001) leaves after the resume grace.
    let mut config = test_config();
    config.limits.resume_grace = Duration::from_millis(500);
    let server = start_server_with(config);
    let (a, nick_a) = join(&browser, &server.page_url("lab"));
    let me_a = format!("{nick_a} (you)");
    wait_members(&a, 1, &[&me_a]);
    assert!(js_bool(&a, "document.querySelector('#members li.me').dataset.name === document.getElementById('nick').textContent"));

    // A second tab: both lists, in order of arrival, each marking its own.
    let (b, nick_b) = join(&browser, &server.page_url("lab"));
    wait_members(&a, 2, &[&me_a, &nick_b]);
    wait_members(&b, 2, &[&nick_a, &format!("{nick_b} (you)")]);

    // A terminal client joins, renames itself, and leaves.
    let mut carol = TestClient::connect_to(server.chat_addr(), "/lab");
    wait_members(&a, 3, &[&me_a, &nick_b, &carol.nick]);
    carol.send("/nick carol");
    carol.recv_until(&format!(" .... {} is now carol.", carol.nick));
    wait_members(&a, 3, &[&me_a, &nick_b, "carol"]);
    wait_members(&b, 3, &[&nick_a, &format!("{nick_b} (you)"), "carol"]);
    carol.close();
    wait_line(&a, " .... carol has left.");
    wait_members(&a, 2, &[&me_a, &nick_b]);

    // Someone in another room does not count here.
    let mut elsewhere = TestClient::connect_to(server.chat_addr(), "/other");
    say(&b, "still two");
    wait_line(&a, &format!("{nick_b}: still two"));
    wait_members(&a, 2, &[&me_a, &nick_b]);
    elsewhere.close();

    // B closes its tab: after the grace, A's count goes down.
    b.close(false).expect("close tab B");
    wait_members(&a, 1, &[&me_a]);

    // The count opens the list: keyboard (focus, Enter) and Escape.
    assert_eq!(text(&a, "#people summary"), "1 here");
    assert!(js_bool(&a, "!document.getElementById('people').open"));
    js(&a, "document.querySelector('#people summary').focus()");
    press_enter(&a);
    wait_js(
        &a,
        "the list to open",
        "document.getElementById('people').open",
    );
    assert!(js_bool(
        &a,
        "document.getElementById('members').getClientRects().length > 0"
    ));
    a.press_key("Escape").expect("press Escape");
    wait_js(
        &a,
        "the list to close",
        "!document.getElementById('people').open",
    );
    assert!(js_bool(
        &a,
        "document.activeElement === document.querySelector('#people summary')"
    ));
}
