//! A tab's first visit asks for a name (the rule, and "Skip"): the name is
//! the tab's (sessionStorage), offered to the next tab (localStorage) but
//! not forced; two tabs keep two names across a reload; a taken name asks
//! again once, with the server's answer.

use crate::support::shots::assert_contrast;
use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, TestClient, PAGE_WAIT};

fn dialog_open(tab: &headless_chrome::Tab) -> bool {
    js_bool(tab, "document.getElementById('name-dialog').open")
}

fn answer(tab: &headless_chrome::Tab, name: &str) {
    wait_js(
        tab,
        "the name dialog",
        "document.getElementById('name-dialog').open && document.activeElement.id === 'name-input'",
    );
    js(tab, "document.getElementById('name-input').select()");
    tab.type_str(name).expect("type the name");
    press_enter(tab);
}

fn wait_name(tab: &headless_chrome::Tab, name: &str) {
    wait_for(&format!("the name {name}"), PAGE_WAIT, || {
        (text(tab, "#nick") == name && state(tab) == "connected").then_some(())
    });
}

#[test]
fn first_visit_asks_a_name_kept_per_tab() {
    let Some(browser) = chromium_or_skip("first_visit_asks_a_name_kept_per_tab") else {
        return;
    };
    let server = start_server();
    let url = server.page_url("physics");
    let a = open_asking(&browser, &url);
    // A name against the rule is refused in the dialog, with the rule.
    answer(&a, "no spaces");
    wait_js(
        &a,
        "the rule",
        "document.getElementById('name-hint').classList.contains('alert')",
    );
    assert!(dialog_open(&a));
    for verdict in assert_contrast(&a) {
        println!("the dialog, {verdict}");
    }
    answer(&a, "Ann");
    wait_name(&a, "Ann");

    // The next tab is offered Ann, and takes Bea.
    let b = open_asking(&browser, &url);
    wait_js(
        &b,
        "the dialog",
        "document.getElementById('name-dialog').open",
    );
    assert_eq!(
        js_string(&b, "document.getElementById('name-input').value"),
        "Ann"
    );
    answer(&b, "Bea");
    wait_name(&b, "Bea");

    // A reload keeps each tab's name and does not ask again.
    for (tab, name) in [(&a, "Ann"), (&b, "Bea")] {
        tab.reload(false, None)
            .and_then(|t| t.wait_until_navigated())
            .expect("reload");
        wait_name(tab, name);
        assert!(!dialog_open(tab), "{name}'s tab asked again");
    }

    // Skip keeps user-N.
    let c = open_person_asking(&browser, &url);
    wait_js(
        &c,
        "the dialog",
        "document.getElementById('name-dialog').open",
    );
    c.find_element("#name-skip")
        .and_then(|s| s.click().map(|_| ()))
        .expect("Skip");
    let n = wait_nick(&c);
    assert!(n.starts_with("user-"), "{n}");
    assert!(!dialog_open(&c));

    // A taken name asks again, once, with the server's answer.
    let mut zed = TestClient::connect_to(server.chat_addr(), "/physics");
    zed.send("/nick Zed");
    let old = zed.nick.clone();
    zed.recv_until(&format!(" .... {old} is now Zed."));
    let d = open_person_asking(&browser, &url);
    answer(&d, "Zed");
    wait_js(
        &d,
        "the dialog again, with the answer",
        "document.getElementById('name-dialog').open && document.getElementById('name-hint').textContent.startsWith('Zed is taken.')",
    );
    answer(&d, "Zoe");
    wait_name(&d, "Zoe");
}
