//! History: a newcomer gets the room's last
//! `--history` chat and action lines, oldest first and unchanged, before its
//! ` .... you are` line; private and system lines are not kept; `--history 0`
//! keeps nothing.

use testkit::*;

fn server_with_history(lines: usize) -> TestServer {
    start_server_with_limits(|limits| limits.history_lines = lines)
}

#[test]
fn a_newcomer_gets_the_last_lines_oldest_first_then_its_greeting() {
    let server = server_with_history(3);
    let addr = server.chat_addr();
    let mut a = TestClient::connect(addr);
    let mut b = TestClient::connect(addr);
    a.recv_until(&joined(&b.nick));
    a.chat("one");
    b.recv_until(&format!("{}: one", a.nick));
    b.send("/me two");
    a.recv_until(&format!("* {} two", b.nick));
    // Not kept: private lines, system lines.
    a.send(&format!("/msg {} secret", b.nick));
    a.recv_until(&format!("{} -> {}: secret", a.nick, b.nick));
    a.send("/nick Ann");
    a.recv_until(&format!(" .... {} is now Ann.", a.nick));
    a.nick = "Ann".into();
    a.chat("three");
    a.chat("four");
    a.send("/who");
    a.recv_until(&here_now(&["Ann", &b.nick]));

    let c = TestClient::connect(addr);
    // The last three, unchanged (the first line was said as user-N).
    assert_eq!(
        c.history,
        [
            format!("* {} two", b.nick),
            "Ann: three".into(),
            "Ann: four".into()
        ]
    );
    assert_eq!(c.presence, here_now(&["Ann", &b.nick, &c.nick]));
    // After the greeting, live lines.
    a.send("five");
    let mut c = c;
    assert_eq!(c.recv_text(), "Ann: five");
}

#[test]
fn the_history_is_capped_and_survives_an_empty_room() {
    let server = server_with_history(100);
    let addr = server.chat_addr();
    let mut a = TestClient::connect(addr);
    for i in 0..150 {
        a.send(&format!("line {i}"));
    }
    a.recv_until(&format!("{}: line 149", a.nick));
    a.close();
    // The room is empty now; it keeps its history for the next one.
    let b = TestClient::connect(addr);
    let want: Vec<String> = (50..150).map(|i| format!("{}: line {i}", a.nick)).collect();
    assert_eq!(b.history, want);
}

#[test]
fn history_zero_keeps_nothing() {
    let server = server_with_history(0);
    let addr = server.chat_addr();
    let mut a = TestClient::connect(addr);
    a.chat("said before you came");
    a.send("/me waves");
    a.recv_until(&format!("* {} waves", a.nick));
    let b = TestClient::connect(addr);
    assert!(b.history.is_empty(), "{:?}", b.history);
    assert_eq!(b.presence, here_now(&[&a.nick, &b.nick]));
}
