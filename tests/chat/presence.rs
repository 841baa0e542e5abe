//! The presence line: a newcomer gets
//! ` .... here now (N): A, B, C.` after its ` .... you are` line, everyone in
//! order of arrival, itself included; past 50 names, the first 50 then
//! `, and K more.`; `/who` gives the same line.

use testkit::*;

#[test]
fn presence_lists_everyone_in_order_of_arrival() {
    let server = start_server();
    let addr = server.chat_addr();
    let a = TestClient::connect(addr);
    assert_eq!(a.presence, format!(" .... here now (1): {}.", a.nick));
    let b = TestClient::connect(addr);
    assert_eq!(
        b.presence,
        format!(" .... here now (2): {}, {}.", a.nick, b.nick)
    );
    let mut c = TestClient::connect(addr);
    assert_eq!(c.presence, here_now(&[&a.nick, &b.nick, &c.nick]));
    // A renamed member keeps its place; one that left is gone from it.
    let mut a = a;
    a.send("/nick zed");
    c.recv_until(&format!(" .... {} is now zed.", a.nick));
    let mut b = b;
    b.close();
    c.recv_until(&left(&b.nick));
    c.send("/who");
    assert_eq!(c.recv_text(), here_now(&["zed", &c.nick]));
}

#[test]
fn past_fifty_names_the_rest_are_counted() {
    let server = start_server();
    let addr = server.chat_addr();
    let mut nicks = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..73 {
        let (stream, nick) = raw_join(addr);
        clients.push(stream);
        nicks.push(nick);
    }
    let last = TestClient::connect(addr);
    nicks.push(last.nick.clone());
    let names: Vec<&str> = nicks.iter().map(String::as_str).collect();
    let want = format!(
        " .... here now (74): {}, and 24 more.",
        names[..50].join(", ")
    );
    assert_eq!(last.presence, want);
    assert_eq!(last.presence, here_now(&names));
}
