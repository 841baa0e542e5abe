//! Two tabs chat safely and survive a restart: each tab is greeted with its
//! own name, HTML in a message stays text, an empty input sends nothing, a
//! closed tab leaves the room, a page outlives a server restart (keeping
//! what was typed meanwhile), a phone-sized screen wraps long words, and the
//! page works over IPv6. Checks the contrast of every text in both themes
//! along the way.

use std::net::TcpListener;
use std::time::Instant;

use chat_server::Server;

use crate::support::shots::{assert_contrast, review_shot};
use crate::support::tab::*;
use crate::support::{
    chromium_or_skip, start_on, start_server_with, test_config, wait_for, TestClient, PAGE_WAIT,
    PHONE, RECONNECT_WAIT,
};

#[test]
fn two_tabs_chat_safely_and_survive_a_restart() {
    let Some(browser) = chromium_or_skip("two_tabs_chat_safely_and_survive_a_restart") else {
        return;
    };
    let started = Instant::now();
    let step = |what: &str| println!("{:>7.2?}  {what}", started.elapsed());
    // A closed tab (the browser's 1001) leaves after the resume grace.
    let mut config = test_config();
    config.limits.resume_grace = std::time::Duration::from_millis(500);
    let mut server = start_server_with(config);
    let (chat_addr, page_addr) = (server.chat_addr(), server.page_addr());
    let url = format!("http://{page_addr}/");
    step("chromium is up");

    // Two tabs, each greeted with its own nickname.
    step("two tabs");
    let a = open(&browser, &url);
    let nick_a = wait_nick(&a);
    let b = open(&browser, &url);
    let nick_b = wait_nick(&b);
    assert_ne!(nick_a, nick_b);
    wait_line(&a, &format!(" .... {nick_b} has joined."));
    assert_eq!(state(&a), "connected");
    assert_eq!(text(&a, "#nick"), nick_a, "tab A shows its own nickname");
    check_page_basics(&a);

    // A says hello; both see it under A's nickname, and it is A's own.
    step("hello");
    type_keys(&a, "hello");
    let hello = format!("{nick_a}: hello");
    wait_line(&a, &hello);
    wait_line(&b, &hello);
    assert!(js_bool(
        &a,
        "document.querySelector('#chat-echo-area li:last-child').classList.contains('mine')"
    ));
    assert!(focused_input(&a), "the input keeps focus after sending");
    assert_eq!(input_value(&a), "", "the input is cleared after sending");

    // B sends HTML: shown as text in both tabs, and nothing runs.
    step("HTML stays text");
    for tab in [&a, &b] {
        js(tab, "window.alert = function () { window.__xss = 1; }");
    }
    let payloads = [
        "<img src=x onerror=alert(1)>",
        "<img src=x onerror=\"window.__xss=1\">",
    ];
    for payload in payloads {
        say(&b, payload);
    }
    for tab in [&a, &b] {
        for payload in payloads {
            wait_line(tab, &format!("{nick_b}: {payload}"));
        }
        assert!(
            js_bool(tab, "document.querySelectorAll('img').length === 0"),
            "an <img> element was created"
        );
        assert!(
            js_bool(tab, "typeof window.__xss === 'undefined'"),
            "a payload ran"
        );
    }

    // Empty (and blank) input is not sent: the next line follows directly.
    step("empty input");
    press_enter(&b);
    say(&b, "   ");
    say(&b, "after nothing");
    let after = format!("{nick_b}: after nothing");
    wait_line(&b, &after);
    let seen = lines(&b);
    assert_eq!(
        seen[seen.len() - 2],
        format!("{nick_b}: {}", payloads[1]),
        "an empty message was sent: {seen:?}"
    );
    assert_eq!(input_value(&b), "");

    // Closing tab A: after the resume grace, B is told A has left.
    step("close tab A");
    a.close(false).expect("close tab A");
    wait_line(&b, &format!(" .... {nick_a} has left."));

    // The server stops: B says it is reconnecting, and keeps what is typed
    // meanwhile in the box.
    step("server stops");
    server.shutdown();
    wait_for("tab B to show it is reconnecting", PAGE_WAIT, || {
        (state(&b) == "reconnecting").then_some(())
    });
    wait_for("tab B to note the lost connection", PAGE_WAIT, || {
        lines(&b)
            .iter()
            .any(|l| l.starts_with("connection lost"))
            .then_some(())
    });
    type_keys(&b, "kept");
    assert_eq!(input_value(&b), "kept", "typed while disconnected: kept");
    assert!(
        text(&b, "#hint").contains("Not sent"),
        "{}",
        text(&b, "#hint")
    );
    assert!(focused_input(&b));
    review_shot(&b, "reconnecting.png");

    // A new server on the same ports: B's old page reconnects by itself,
    // gets a new nickname, and the kept line goes out with Enter.
    step("server restarts");
    let mut server = start_on(chat_addr, page_addr);
    let nick_b2 = wait_for("tab B to reconnect", RECONNECT_WAIT, || {
        let greetings: Vec<String> = lines(&b)
            .into_iter()
            .filter(|l| l.starts_with(" .... you are "))
            .collect();
        (greetings.len() == 2 && state(&b) == "connected").then(|| text(&b, "#nick"))
    });
    assert!(
        lines(&b).contains(&format!(" .... you are {nick_b2}.")),
        "{nick_b2}"
    );
    assert_eq!(input_value(&b), "kept");
    press_enter(&b);
    wait_line(&b, &format!("{nick_b2}: kept"));
    assert_eq!(input_value(&b), "");
    assert!(focused_input(&b));

    // Someone else joins and talks, for a screenshot that shows a room.
    step("a third person; contrast");
    let mut carol = TestClient::connect_to(chat_addr, "/");
    wait_line(&b, &format!(" .... {} has joined.", carol.nick));
    carol.send("welcome back! the page reconnected by itself");
    wait_line(
        &b,
        &format!(
            "{}: welcome back! the page reconnected by itself",
            carol.nick
        ),
    );
    say(&b, "and my line was kept while the server was down");
    wait_line(
        &b,
        &format!("{nick_b2}: and my line was kept while the server was down"),
    );
    for verdict in assert_contrast(&b) {
        println!("{verdict}");
    }
    dark(&b, true);
    review_shot(&b, "dark.png");
    dark(&b, false);

    // On a phone: a long word wraps (no sideways scrolling), and the newest
    // line is scrolled into view when lines overflow the screen.
    step("phone layout");
    set_viewport(&b, PHONE, 1.0, true);
    let long_word = "w".repeat(300);
    say(&b, &long_word);
    for i in 0..40 {
        carol.send(&format!("line {i}"));
    }
    carol.recv_until(&format!("{}: line 39", carol.nick));
    wait_line(&b, &format!("{}: line 39", carol.nick));
    wait_line(&b, &format!("{nick_b2}: {long_word}"));
    assert!(js_bool(
        &b,
        "document.documentElement.scrollWidth <= window.innerWidth"
    ));
    assert!(js_bool(
        &b,
        "(() => { const l = document.getElementById('log');
                  return l.scrollWidth <= l.clientWidth && l.scrollHeight > l.clientHeight; })()"
    ));
    wait_for("the newest line to be in view", PAGE_WAIT, || {
        js_bool(
            &b,
            "(() => { const l = document.getElementById('chat-echo-area');
                      const r = l.lastElementChild.getBoundingClientRect();
                      const box = document.getElementById('log').getBoundingClientRect();
                      return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; })()",
        )
        .then_some(())
    });
    set_viewport_default(&b);

    carol.close();
    server.shutdown();

    // Over IPv6 (when this machine has ::1): the page's WebSocket URL keeps
    // the brackets of http://[::1]:port/ and the chat works.
    step("IPv6");
    match (TcpListener::bind("[::1]:0"), TcpListener::bind("[::1]:0")) {
        (Ok(chat), Ok(page)) => {
            let v6 = Server::start(chat, page, &test_config()).expect("start on ::1");
            let tab = open(&browser, &format!("http://{}/", v6.page_addr()));
            let nick = wait_nick(&tab);
            say(&tab, "over IPv6");
            wait_line(&tab, &format!("{nick}: over IPv6"));
            v6.shutdown();
        }
        (Err(e), _) | (_, Err(e)) => println!("IPv6 part skipped: cannot bind [::1]: {e}"),
    }
    step("done");
}
