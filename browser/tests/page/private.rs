//! Private and action lines: `/msg NICK TEXT` reaches its target and its
//! sender only, styled apart and unmistakable in the target's tab; `/me`
//! shows as `* NICK action` to everyone; `/msg` to no one is refused next
//! to the input.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, PAGE_WAIT};

#[test]
fn a_private_message_reaches_only_its_target() {
    let Some(browser) = chromium_or_skip("a_private_message_reaches_only_its_target") else {
        return;
    };
    let server = start_server();
    let (a, nick_a) = join(&browser, &server.page_url("quiet"));
    let (b, nick_b) = join(&browser, &server.page_url("quiet"));
    let (c, nick_c) = join(&browser, &server.page_url("quiet"));

    say(&a, &format!("/msg {nick_b} the answer is 42"));
    let private = format!("{nick_a} -> {nick_b}: the answer is 42");
    wait_line(&a, &private);
    wait_line(&b, &private);
    // Then a public line: once C has it, C would have had the private one.
    say(&a, "/me stretches");
    let action = format!("* {nick_a} stretches");
    for tab in [&a, &b, &c] {
        wait_line(tab, &action);
    }
    assert!(
        !lines(&c).iter().any(|l| l.contains("the answer")),
        "C saw the private line: {:?}",
        lines(&c)
    );
    let _ = nick_c;

    // Styled apart: in B the line is private and to B, with a badge that
    // says so; in A it is A's own private line.
    let class_of = |tab: &headless_chrome::Tab, line: &str| {
        js_string(
            tab,
            &format!(
                "Array.from(document.querySelectorAll('#chat-echo-area li')).find(li => li.textContent === {line:?}).className"
            ),
        )
    };
    assert_eq!(class_of(&b, &private), "private to-me");
    assert_eq!(class_of(&a, &private), "private mine");
    assert_eq!(class_of(&c, &action), "action");
    assert_eq!(class_of(&a, &action), "action mine");
    assert!(js_bool(
        &b,
        "(() => { const li = document.querySelector('li.to-me');
                  const tag = li.querySelector('.tag');
                  const mine = getComputedStyle(li), plain = getComputedStyle(document.querySelector('li.system'));
                  return getComputedStyle(tag, '::before').content === '\"private, to you\"'
                      && mine.backgroundColor !== plain.backgroundColor
                      && mine.boxShadow !== 'none'; })()"
    ));
    assert!(js_bool(
        &c,
        "getComputedStyle(document.querySelector('li.action .body')).fontStyle === 'italic'"
    ));

    // /msg to someone not here: the server's answer shows next to the input.
    say(&a, "/msg nobody hello?");
    wait_line(&a, " .... no nobody here.");
    wait_for("the refusal next to the input", PAGE_WAIT, || {
        (text(&a, "#hint") == "no nobody here.").then_some(())
    });
}
