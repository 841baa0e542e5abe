//! History: a late tab shows the lines from before it came, set apart
//! (a divider "earlier", dimmed, each with the time it was said), then its greeting and the live
//! lines, each with the local time it arrived (HH:MM, the full time on
//! hover and on focus).

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

#[test]
fn a_late_tab_shows_history_as_earlier() {
    let Some(browser) = chromium_or_skip("a_late_tab_shows_history_as_earlier") else {
        return;
    };
    let server = start_server();
    let mut ann = TestClient::connect_to(server.chat_addr(), "/hist");
    ann.send("/nick ann");
    ann.send("first");
    ann.send("/me waves");
    ann.send("second https://example.org/");
    ann.recv_until("ann: second https://example.org/");

    let (late, nick) = join(&browser, &server.page_url("hist"));
    ann.send("now live");
    wait_line(&late, "ann: now live");

    let seen = lines(&late);
    let greeting = format!(" .... you are {nick}.");
    let at = seen.iter().position(|l| *l == greeting).expect("greeting");
    assert_eq!(
        seen[..at],
        [
            "earlier",
            "ann: first",
            "* ann waves",
            "ann: second https://example.org/",
            "now"
        ],
        "{seen:?}"
    );
    assert!(seen[at + 1].starts_with(" .... here now (2): "), "{seen:?}");

    // The history lines are marked, and carry their time as the live ones do.
    let classes = |selector: &str| {
        js_string(
            &late,
            &format!(
                "Array.from(document.querySelectorAll('#chat-echo-area li'), li => li.className + (li.querySelector('time') ? '+t' : '')).slice({selector}).join(' ')"
            ),
        )
    };
    assert_eq!(
        classes("1, 4"),
        "chat earlier+t action earlier+t chat earlier+t",
        "{seen:?}"
    );
    assert_eq!(classes("0, 1"), "divider");
    assert!(classes("-1").ends_with("+t"), "{}", classes("-1"));
    assert!(js_bool(
        &late,
        "(() => { const t = document.querySelector('#chat-echo-area li:last-child time');
                  return /^[0-9]{2}:[0-9]{2}$/.test(t.dataset.hm)
                      && getComputedStyle(t, '::before').content === JSON.stringify(t.dataset.hm)
                      && t.parentElement.title === t.dataset.full
                      && !Number.isNaN(Date.parse(t.dateTime)); })()"
    ));
    // Dimmed: the history's text colour is the muted one, not the normal one.
    assert!(js_bool(
        &late,
        "getComputedStyle(document.querySelector('li.earlier')).color === getComputedStyle(document.querySelector('li.system')).color
         && getComputedStyle(document.querySelector('li.earlier')).color !== getComputedStyle(document.body).color"
    ));

    // Focus on a line (arrow keys in the list) shows its full time.
    js(&late, "document.getElementById('log').focus()");
    late.press_key("End").expect("End");
    assert!(js_bool(
        &late,
        "(() => { const li = document.activeElement, t = li.querySelector('time');
                  return li.parentElement.id === 'chat-echo-area'
                      && getComputedStyle(t, '::before').content === JSON.stringify(t.dataset.full); })()"
    ));
    late.press_key("ArrowUp").expect("ArrowUp");
    assert!(js_bool(
        &late,
        "document.activeElement === document.querySelector('#chat-echo-area li:last-child').previousElementSibling"
    ));

    // An earlier tab does not get the history again as new lines.
    let first_tab_lines = lines(&late);
    assert_eq!(
        first_tab_lines
            .iter()
            .filter(|l| *l == "ann: first")
            .count(),
        1
    );
}
