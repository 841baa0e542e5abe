//! Keyboard and screen reader: Tab walks the header's controls, the list of
//! lines, the message box and Send, in that order, and each stop has the
//! role and the name a screen reader announces (read from Chromium's own
//! accessibility tree); the name box opens with Enter and closes with
//! Escape, giving the focus back.

use headless_chrome::protocol::cdp::Accessibility;
use headless_chrome::Tab;

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server};

#[test]
fn tab_reaches_every_control_and_each_has_a_name() {
    let Some(browser) = chromium_or_skip("tab_reaches_every_control_and_each_has_a_name") else {
        return;
    };
    let server = start_server();
    let (a, nick) = join(&browser, &server.page_url("keys"));
    assert!(focused_input(&a), "the message box has the focus on load");
    wait_members(&a, 1, &[&format!("{nick} (you)")]);

    // Start where a person would: a click on the heading, then Tab.
    a.find_element("h1")
        .and_then(|h1| h1.click().map(|_| ()))
        .expect("click the heading");
    let stops = [
        ("DisclosureTriangle", "rooms".to_owned()),
        ("DisclosureTriangle", "1 here".to_owned()),
        ("button", nick.clone()),
        ("button", "Leave".to_owned()),
        ("log", "Messages".to_owned()),
        ("textbox", "Message".to_owned()),
        ("button", "Send".to_owned()),
    ];
    for (role, name) in &stops {
        a.press_key("Tab").expect("Tab");
        assert_eq!(&announced(&a), &(role.to_string(), name.clone()));
    }
    // The name button says what it does; the box says how to send.
    js(&a, "document.getElementById('nick').focus()");
    assert_eq!(description(&a), "(change your name)");
    js(&a, "document.getElementById('chat-input').focus()");
    assert!(description(&a).starts_with("Enter sends; Shift+Enter starts a new line."));

    // The name box: Enter opens it with the name selected, Escape closes it
    // and gives the focus back to the name.
    js(&a, "document.getElementById('nick').focus()");
    press_enter(&a);
    wait_js(
        &a,
        "the name box",
        "document.activeElement.id === 'nick-input'",
    );
    assert_eq!(announced(&a), ("textbox".to_owned(), "New name".to_owned()));
    a.press_key("Escape").expect("Escape");
    wait_js(&a, "the name again", "document.activeElement.id === 'nick'");
    assert!(js_bool(&a, "document.getElementById('nick-form').hidden"));
}

/// The focused element's role and name, as Chromium's accessibility tree
/// has them (what a screen reader announces).
fn announced(tab: &Tab) -> (String, String) {
    let node = focused_node(tab);
    let text = |v: Option<Accessibility::AXValue>| {
        v.and_then(|v| v.value)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    (text(node.role), text(node.name))
}

fn description(tab: &Tab) -> String {
    focused_node(tab)
        .description
        .and_then(|v| v.value)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn focused_node(tab: &Tab) -> Accessibility::AXNode {
    let object_id = js(tab, "document.activeElement")
        .object_id
        .expect("the focused element");
    tab.call_method(Accessibility::GetPartialAXTree {
        node_id: None,
        backend_node_id: None,
        object_id: Some(object_id),
        fetch_relatives: Some(false),
    })
    .expect("the accessibility tree")
    .nodes
    .into_iter()
    .next()
    .expect("a node for the focused element")
}
