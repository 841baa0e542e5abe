//! The teacher's page, against the stage (the test plays the server, so
//! the page is checked before the server's teacher commands are merged):
//! the link `#teacher=KEY` sends `/teacher KEY`, leaves the address bar,
//! and is kept for the tab across a reload; the server's answer shows the
//! badge and the controls, each with a name and reachable by keyboard,
//! each sending its command (bar and clear ask first); pin, delete and
//! clear events change the log; a wrong key says so. Contrast of every
//! teacher element, light and dark.

use serde_json::json;

use crate::support::shots::{assert_contrast, review_shot};
use crate::support::stage::{Conn, Stage};
use crate::support::tab::*;

fn click(tab: &headless_chrome::Tab, selector: &str) {
    js(
        tab,
        &format!("document.querySelector({selector:?}).click()"),
    );
}

#[test]
fn the_teacher_link_and_controls() {
    let Some(browser) = crate::support::chromium_or_skip("the_teacher_link_and_controls") else {
        return;
    };
    let stage = Stage::start(None);
    let tab = open(&browser, &stage.url("physics#teacher=s3cret-KEY"));
    let mut conn = stage.accept();
    conn.send(json!({"type": "chat", "id": 3, "time": Conn::now(), "nick": "ann", "text": "earlier one", "history": true}));
    conn.welcome("MrsK", &[("ann", "student"), ("MrsK", "student")]);
    assert_eq!(conn.recv(), "/teacher s3cret-KEY");
    assert_eq!(js_string(&tab, "location.href"), stage.url("physics"));
    assert!(js_bool(&tab, "document.getElementById('badge').hidden"));
    conn.notice("you are a teacher.");
    conn.send(json!({"type": "role", "time": Conn::now(), "nick": "MrsK", "role": "teacher"}));
    wait_js(
        &tab,
        "the badge",
        "!document.getElementById('badge').hidden",
    );
    assert_eq!(text(&tab, "#badge"), "Teacher");

    // The member list: ann has buttons, MrsK (the teacher) none.
    click(&tab, "#people summary");
    wait_js(
        &tab,
        "the buttons",
        "document.querySelectorAll('#members button').length === 4",
    );
    let names = js_string(
        &tab,
        "Array.from(document.querySelectorAll('#members .acts button'), b => b.getAttribute('aria-label')).join('|')",
    );
    assert_eq!(
        names,
        "Mute ann for 10 minutes|Remove ann|Bar ann from this room|Make ann a teaching assistant"
    );
    js(&tab, "window.confirm = () => false");
    for (label, sent) in [
        ("Mute ann for 10 minutes", Some("/mute ann 10")),
        ("Remove ann", Some("/kick ann")),
        ("Bar ann from this room", None), // refused at the confirm
        ("Make ann a teaching assistant", Some("/op ann")),
    ] {
        js(
            &tab,
            &format!("document.querySelector('#members button[aria-label=\"{label}\"]').click()"),
        );
        if let Some(sent) = sent {
            assert_eq!(conn.recv(), sent, "{label}");
        }
    }
    js(&tab, "window.confirm = () => true");
    js(
        &tab,
        "document.querySelector('#members button[aria-label=\"Bar ann from this room\"]').click()",
    );
    assert_eq!(conn.recv(), "/ban ann");

    // Room controls: each with a name, reachable by keyboard, sending its command.
    click(&tab, "#class summary");
    wait_js(
        &tab,
        "the class panel",
        "document.getElementById('class').open",
    );
    let unnamed = js_string(
        &tab,
        "Array.from(document.querySelectorAll('#class-panel button, #class-panel input, #members button')).filter(el => { \
           el.focus(); const named = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent).trim(); \
           return document.activeElement !== el || !named; }).map(el => el.outerHTML).join(' ')",
    );
    assert_eq!(unnamed, "", "controls without a name or the focus");
    for (button, sent) in [
        ("[data-cmd='/lock']", "/lock"),
        ("[data-cmd='/unlock']", "/unlock"),
        ("[data-cmd='/code']", "/code"),
        ("[data-cmd='/quiet']", "/quiet"),
        ("[data-cmd='/quiet off']", "/quiet off"),
        ("[data-cmd='/slow 0']", "/slow 0"),
        ("[data-cmd='/pin off']", "/pin off"),
        ("[data-cmd='/clear']", "/clear"),
    ] {
        click(&tab, &format!("#class-panel button{button}"));
        assert_eq!(conn.recv(), sent);
    }
    js(&tab, "document.getElementById('slow-input').value = '15'");
    click(&tab, "#slow-set");
    assert_eq!(conn.recv(), "/slow 15");
    js(
        &tab,
        "document.getElementById('pin-input').value = 'Read page 12'",
    );
    click(&tab, "#pin-set");
    assert_eq!(conn.recv(), "/pin Read page 12");
    // Keyboard: Enter on a focused control works like a click.
    js(
        &tab,
        "document.querySelector(\"#class-panel [data-cmd='/unlock']\").focus()",
    );
    press_enter(&tab);
    assert_eq!(conn.recv(), "/unlock");
    conn.notice("join code: K7Q2XH.");
    wait_js(
        &tab,
        "the code, large",
        "document.getElementById('code-shown').textContent === 'K7Q2XH'",
    );

    // Pin, delete, clear.
    conn.send(json!({"type": "pin", "time": Conn::now(), "text": "Read page 12"}));
    wait_js(&tab, "the pin", "!document.getElementById('pinned').hidden && document.getElementById('pinned-text').textContent === 'Read page 12'");
    conn.send(json!({"type": "chat", "id": 7, "time": Conn::now(), "nick": "ann", "text": "oops"}));
    wait_line(&tab, "ann: oops");
    js(&tab, "document.querySelector('li[data-id=\"7\"]').focus()");
    assert!(js_bool(
        &tab,
        "getComputedStyle(document.querySelector('li[data-id=\"7\"] .del')).display !== 'none'"
    ));
    assert_eq!(
        js_string(
            &tab,
            "document.querySelector('li[data-id=\"7\"] .del').getAttribute('aria-label')"
        ),
        "Delete this line"
    );
    tab.press_key("Tab").expect("Tab");
    assert!(js_bool(
        &tab,
        "document.activeElement.classList.contains('del')"
    ));
    press_enter(&tab);
    assert_eq!(conn.recv(), "/delete 7");
    js(&tab, "document.getElementById('class').open = true");
    review_shot(&tab, "teacher.png");
    js(&tab, "document.getElementById('class').open = false; document.querySelector('li[data-id=\"7\"]').focus()");
    for verdict in assert_contrast(&tab) {
        println!("{verdict}");
    }
    conn.send(json!({"type": "delete", "time": Conn::now(), "ids": [7]}));
    wait_js(
        &tab,
        "the line gone",
        "document.querySelector('li[data-id=\"7\"]') === null",
    );
    conn.send(json!({"type": "pin", "time": Conn::now(), "text": null}));
    wait_js(&tab, "no pin", "document.getElementById('pinned').hidden");
    conn.send(json!({"type": "clear", "time": Conn::now()}));
    wait_js(
        &tab,
        "an empty log",
        "document.querySelectorAll('#chat-echo-area li').length === 0",
    );

    // A reload stays teacher: the key is the tab's.
    tab.reload(false, None).expect("reload");
    let mut again = stage.accept();
    again.welcome("MrsK", &[("MrsK", "teacher")]);
    assert_eq!(again.recv(), "/teacher s3cret-KEY");
    drop(conn);

    // A wrong key says so.
    let other = open_person(&browser, &stage.url("physics#teacher=wrong"));
    let mut third = stage.accept();
    third.welcome("user-5", &[("user-5", "student")]);
    assert_eq!(third.recv(), "/teacher wrong");
    third.notice("wrong key.");
    wait_js(
        &other,
        "the wrong key said",
        "document.getElementById('hint').textContent.startsWith('Wrong teacher key')",
    );
    assert!(js_bool(&other, "document.getElementById('badge').hidden"));
}
