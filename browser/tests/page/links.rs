//! Links: http:// and https:// URLs in a line become links that open in a
//! new tab without an opener or a referrer, built as DOM nodes; a
//! javascript: URL (any case) and other schemes stay text.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server};

#[test]
fn a_url_is_a_link_and_javascript_is_not() {
    let Some(browser) = chromium_or_skip("a_url_is_a_link_and_javascript_is_not") else {
        return;
    };
    let server = start_server();
    let a = open_person(&browser, &server.page_url("links"));
    let (b, nick_b) = join(&browser, &server.page_url("links"));
    wait_nick(&a);
    for tab in [&a, &b] {
        js(
            tab,
            "window.__xss = undefined; window.alert = () => { window.__xss = 1; }",
        );
    }

    let message = "notes (see https://example.org/a_(b)?q=1&r=2#s). \
                   javascript:alert(1) JaVaScRiPt:window.__xss=1 \
                   <a href=\"javascript:alert(1)\">x</a> data:text/html,hi ftp://example.org/f http://[::1]:8080/";
    say(&b, message);
    wait_line(&a, &format!("{nick_b}: {message}"));

    let links = js_string(
        &a,
        "JSON.stringify(Array.from(document.querySelectorAll('#chat-echo-area li:last-child a'),
            a => [a.getAttribute('href'), a.textContent, a.target, a.rel]))",
    );
    assert_eq!(
        links,
        r#"[["https://example.org/a_(b)?q=1&r=2#s","https://example.org/a_(b)?q=1&r=2#s","_blank","noopener noreferrer"],["http://[::1]:8080/","http://[::1]:8080/","_blank","noopener noreferrer"]]"#
    );
    // The text is unchanged (the sentence's ")." is not part of the link).
    assert!(js_bool(
        &a,
        "document.querySelector('#chat-echo-area li:last-child .body').textContent.endsWith(' http://[::1]:8080/')"
    ));
    assert!(js_bool(&a, "document.querySelectorAll('a[href^=\"javascript\" i], a[href^=\"data\" i], a[href^=\"ftp\" i]').length === 0"));
    assert!(js_bool(
        &a,
        "document.querySelectorAll('#chat-echo-area li:last-child a').length === 2"
    ));

    // Clicking the javascript: text runs nothing.
    js(
        &a,
        "(() => { const body = document.querySelector('#chat-echo-area li:last-child .body');
                  body.dispatchEvent(new MouseEvent('click', { bubbles: true })); })()",
    );
    assert!(js_bool(&a, "typeof window.__xss === 'undefined'"));

    // A link is reachable by keyboard: Tab from the list lands on it.
    assert!(js_bool(
        &a,
        "document.querySelector('#chat-echo-area a').tabIndex === 0"
    ));
}
