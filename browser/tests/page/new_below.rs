//! Never losing your place: scrolled up to read, the list stays put when
//! lines arrive and a "new messages below" button appears; Enter on it (or
//! a click) jumps down and hides it, as does scrolling down by hand.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, TestClient};

#[test]
fn new_messages_below_appears_when_scrolled_up_and_works() {
    let Some(browser) = chromium_or_skip("new_messages_below_appears_when_scrolled_up_and_works")
    else {
        return;
    };
    let server = start_server();
    let a = open_person(&browser, &server.page_url("long"));
    wait_nick(&a);
    let mut bob = TestClient::connect_to(server.chat_addr(), "/long");
    for i in 0..60 {
        bob.send(&format!("line {i}"));
    }
    wait_line(&a, &format!("{}: line 59", bob.nick));
    // Following the conversation: at the bottom, no button.
    assert!(js_bool(&a, "document.getElementById('below').hidden"));
    let at_bottom = "(() => { const l = document.getElementById('log');
                              return l.scrollHeight - l.scrollTop - l.clientHeight < 2; })()";
    wait_js(&a, "the list to follow the lines", at_bottom);

    // Scrolled up: new lines leave the view where it is, and the button
    // says how many wait below.
    js(&a, "document.getElementById('log').scrollTop = 0");
    bob.send("are you there?");
    bob.send("hello?");
    wait_line(&a, &format!("{}: hello?", bob.nick));
    wait_js(&a, "the button", "!document.getElementById('below').hidden");
    assert_eq!(text(&a, "#below"), "new messages below (2) ↓");
    assert!(js_bool(
        &a,
        "document.getElementById('log').scrollTop === 0"
    ));
    assert!(js_bool(
        &a,
        "(() => { const r = document.getElementById('below').getBoundingClientRect();
                  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                  return r.width > 0 && hit === document.getElementById('below'); })()"
    ));

    // Keyboard: focus the button, Enter: down to the newest line, the
    // button gone, the focus in the message box.
    js(&a, "document.getElementById('below').focus()");
    press_enter(&a);
    wait_js(&a, "the list to jump down", at_bottom);
    assert!(js_bool(&a, "document.getElementById('below').hidden"));
    assert!(focused_input(&a));

    // Scrolling down by hand also clears it.
    js(&a, "document.getElementById('log').scrollTop = 0");
    bob.send("one more");
    wait_line(&a, &format!("{}: one more", bob.nick));
    wait_js(
        &a,
        "the button again",
        "!document.getElementById('below').hidden",
    );
    assert_eq!(text(&a, "#below"), "new messages below (1) ↓");
    js(&a, "document.getElementById('log').scrollTop = 1e9");
    wait_js(
        &a,
        "the button to go",
        "document.getElementById('below').hidden",
    );

    // A mouse click works too.
    js(&a, "document.getElementById('log').scrollTop = 0");
    bob.send("and another");
    wait_line(&a, &format!("{}: and another", bob.nick));
    wait_js(
        &a,
        "the button again",
        "!document.getElementById('below').hidden",
    );
    a.find_element("#below")
        .and_then(|b| b.click().map(|_| ()))
        .expect("click the button");
    wait_js(&a, "the list to jump down", at_bottom);
    assert!(js_bool(&a, "document.getElementById('below').hidden"));
}
