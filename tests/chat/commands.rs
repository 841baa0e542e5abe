//! Each command and its refusals: `/nick`, `/who`,
//! `/me`, `/msg`, `/help`, unknown commands, `//` and other lines that only
//! look like commands. Answers marked "sender only" reach no one else.

use testkit::*;

use std::time::Duration;

/// How long "no one else got it" is watched, after the positive checks.
const QUIET: Duration = Duration::from_millis(200);

/// A, B and C in the main room, each past the others' join lines.
fn three() -> (TestServer, TestClient, TestClient, TestClient) {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    let mut b = TestClient::connect(server.chat_addr());
    let c = TestClient::connect(server.chat_addr());
    a.recv_until(&joined(&c.nick));
    b.recv_until(&joined(&c.nick));
    (server, a, b, c)
}

#[test]
fn nick_renames_for_everyone_and_refuses_what_breaks_the_rule() {
    let (_server, mut a, mut b, mut c) = three();
    let old = a.nick.clone();
    a.send("/nick Zoë_1");
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.recv_text(), format!(" .... {old} is now Zoë_1."));
    }
    a.nick = "Zoë_1".into();
    a.chat("hello"); // chat lines carry the new name
    assert_eq!(b.recv_text(), "Zoë_1: hello");
    assert_eq!(c.recv_text(), "Zoë_1: hello");

    // Taken, ignoring case: sender only.
    b.send("/nick zOË_1");
    assert_eq!(b.recv_text(), " .... zOË_1 is taken.");
    // Not allowed: the rule, sender only.
    let rule =
        " .... a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits.";
    for bad in [
        "/nick user-12",
        "/nick a b",
        "/nick <script>",
        "/nick abcdefghijklmnopqrstu",
        &format!("/nick {}", "x".repeat(3000)),
    ] {
        b.send(bad);
        assert_eq!(b.recv_text(), rule, "{bad}");
    }
    // No NEW at all is 0 characters: the rule too ("Not
    // allowed: sender only, one ` .... ` line saying the rule").
    for empty in ["/nick", "/nick ", "/nick \t  "] {
        b.send(empty);
        assert_eq!(b.recv_text(), rule, "{empty:?}");
    }
    // Its own name again: told who it is, no one else hears.
    a.send("/nick Zoë_1");
    assert_eq!(a.recv_text(), " .... you are Zoë_1.");
    // A change of case only is a change.
    a.send("/nick ZOË_1");
    assert_eq!(a.recv_text(), " .... Zoë_1 is now ZOË_1.");
    // The others' next line is that change: no refusal reached them.
    assert_eq!(c.recv_text(), " .... Zoë_1 is now ZOË_1.");
    assert_eq!(b.recv_text(), " .... Zoë_1 is now ZOË_1.");
    // None of the refusals reached anyone else.
    c.assert_nothing_for(QUIET);
    b.assert_nothing_for(QUIET);
}

#[test]
fn who_is_the_presence_line_to_the_sender_only() {
    let (_server, mut a, mut b, mut c) = three();
    let names = [a.nick.clone(), b.nick.clone(), c.nick.clone()];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    b.send("/who");
    assert_eq!(b.recv_text(), here_now(&names));
    b.send("/WHO");
    assert_eq!(b.recv_text(), here_now(&names));
    a.assert_nothing_for(QUIET);
    c.assert_nothing_for(QUIET);
}

#[test]
fn me_is_an_action_for_everyone() {
    let (_server, mut a, mut b, mut c) = three();
    a.send("/me waves at everyone");
    let line = format!("* {} waves at everyone", a.nick);
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.recv_text(), line);
    }
    a.send("/me");
    assert_eq!(a.recv_text(), " .... usage: /me ACTION");
    b.assert_nothing_for(QUIET);
}

#[test]
fn msg_reaches_the_addressee_and_the_sender_only() {
    let (_server, mut a, mut b, mut c) = three();
    // Addressed ignoring case; the line shows the member's own spelling.
    b.send("/nick Bob");
    let renamed = format!(" .... {} is now Bob.", b.nick);
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.recv_text(), renamed);
    }
    a.send("/msg bob psst, over here");
    let line = format!("{} -> Bob: psst, over here", a.nick);
    assert_eq!(a.recv_text(), line);
    assert_eq!(b.recv_text(), line);
    // To oneself: once.
    a.send(&format!("/msg {} note to self", a.nick));
    assert_eq!(a.recv_text(), format!("{0} -> {0}: note to self", a.nick));
    // No such member, and a missing text: sender only.
    a.send("/msg nobody hello?");
    assert_eq!(a.recv_text(), " .... no nobody here.");
    a.send("/msg Bob");
    assert_eq!(a.recv_text(), " .... usage: /msg NICK TEXT");
    a.chat("public again");
    // C heard none of it: its next line is A's public one.
    assert_eq!(c.recv_text(), format!("{}: public again", a.nick));
    assert_eq!(b.recv_text(), format!("{}: public again", a.nick));
}

#[test]
fn help_lists_the_commands_and_unknown_ones_point_to_it() {
    let (_server, mut a, mut b, _c) = three();
    a.send("/help");
    let help: Vec<String> = (0..7).map(|_| a.recv_text()).collect();
    assert!(help.iter().all(|l| l.starts_with(" .... ")), "{help:?}");
    for command in ["/nick", "/who", "/me", "/msg", "/help", "//"] {
        assert!(
            help.iter().any(|l| l.contains(command)),
            "{command} missing from {help:?}"
        );
    }
    a.send("/dance wildly");
    assert_eq!(a.recv_text(), " .... unknown command /dance (try /help).");
    // An over-long one is cut in the answer, not echoed whole.
    a.send(&format!("/{}", "z".repeat(3000)));
    let answer = a.recv_text();
    assert!(
        answer.starts_with(" .... unknown command /zzz") && answer.len() < 100,
        "{answer}"
    );
    b.assert_nothing_for(QUIET);
}

#[test]
fn slash_slash_and_slash_non_letter_are_chat() {
    let (_server, mut a, mut b, _c) = three();
    a.send("//who");
    assert_eq!(a.recv_text(), format!("{}: /who", a.nick));
    assert_eq!(b.recv_text(), format!("{}: /who", a.nick));
    for text in ["/", "/ who", "/42 is the answer", ":-/"] {
        a.send(text);
        assert_eq!(b.recv_text(), format!("{}: {text}", a.nick));
    }
}

#[test]
fn a_flood_of_who_is_rate_limited_like_chat() {
    let server = start_server_with_limits(|limits| {
        limits.rate_per_second = 1.0;
        limits.burst = 3;
    });
    let mut a = TestClient::connect(server.chat_addr());
    for _ in 0..50 {
        a.send("/who");
    }
    a.send("//marker");
    // Three answers (the burst) and the slow-down notice once (the reader
    // sends it straight away, so it may come first), nothing else: the
    // marker was dropped too.
    let mut lines: Vec<String> = (0..4).map(|_| a.recv_text()).collect();
    lines.sort();
    let who = here_now(&[a.nick.as_str()]);
    assert_eq!(
        lines,
        [who.clone(), who.clone(), who, " .... slow down.".into()]
    );
    a.assert_nothing_for(Duration::from_millis(300));
}
