//! Code and text: Shift+Enter starts a new line and Enter sends; a
//! two-line message shows as two lines in the other tab, indentation kept,
//! in monospace; the size limit counts UTF-8 bytes, as the server does.

use headless_chrome::browser::tab::ModifierKey;

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server};

#[test]
fn shift_enter_sends_a_two_line_message() {
    let Some(browser) = chromium_or_skip("shift_enter_sends_a_two_line_message") else {
        return;
    };
    let server = start_server();
    let (a, nick_a) = join(&browser, &server.page_url("code"));
    let b = open_person(&browser, &server.page_url("code"));
    wait_nick(&b);

    click_input(&a);
    a.type_str("fn main() {").expect("type");
    a.press_key_with_modifiers("Enter", Some(&[ModifierKey::Shift]))
        .expect("Shift+Enter");
    assert_eq!(
        input_value(&a),
        "fn main() {\n",
        "Shift+Enter is a new line, not a send"
    );
    a.type_str("    go();").expect("type");
    press_enter(&a);
    let sent = format!("{nick_a}: fn main() {{\n    go();");
    wait_line(&b, &sent);
    assert_eq!(input_value(&a), "");

    // In B: one line of the list, shown on two lines, in monospace.
    let shown = |tab: &headless_chrome::Tab| {
        js_bool(
            tab,
            "(() => { const li = document.querySelector('#chat-echo-area li:last-child');
                      const code = li.querySelector('.code');
                      const lineHeight = parseFloat(getComputedStyle(code).lineHeight);
                      return code.textContent === 'fn main() {\\n    go();'
                          && /mono/i.test(getComputedStyle(code).fontFamily)
                          && code.getBoundingClientRect().height >= 2 * lineHeight
                          && code.getBoundingClientRect().height < 3 * lineHeight
                          && getComputedStyle(code).whiteSpace === 'pre-wrap'; })()",
        )
    };
    assert!(shown(&b), "two lines in monospace in B");
    wait_line(&a, &sent);
    assert!(shown(&a), "and in A");

    // A one-line message is plain text, not code.
    say(&a, "one line");
    wait_line(&b, &format!("{nick_a}: one line"));
    assert!(js_bool(
        &b,
        "!document.querySelector('#chat-echo-area li:last-child .code')"
    ));

    // The limit is in bytes: 2048 two-byte letters (4096 bytes) go out,
    // one more is refused on the page with the byte count.
    let fits = "é".repeat(2048);
    say(&a, &fits);
    wait_line(&b, &format!("{nick_a}: {fits}"));
    let over = "é".repeat(2049);
    say(&a, &over);
    assert_eq!(
        text(&a, "#hint"),
        "Too long: 4098 bytes, the limit is 4096."
    );
    assert_eq!(input_value(&a), over, "kept in the box to shorten");
    assert_eq!(state(&a), "connected");
}
