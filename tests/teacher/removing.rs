//! Removing: `/kick` (its session dead), `/ban` by session and by address,
//! `/bans`, `/unban`, and `/rename`.

use testkit::*;

use crate::*;

#[test]
fn kick_removes_and_its_session_comes_back_a_stranger() {
    let server = start_server();
    let mut t = teacher(&server);
    let target = "/chat?session=kicked-session-000001";
    let mut bob = TestClient::connect_to(server.chat_addr(), target);
    rename(&mut bob, "bob");
    t.send("/kick bob");
    bob.recv_until(" .... you were removed by MrsK.");
    assert_eq!(bob.recv_close(), 1008);
    t.recv_until(" .... bob was removed by MrsK.");
    let again = TestClient::connect_to(server.chat_addr(), target);
    assert!(again.nick.starts_with("user-"), "{}", again.nick);
}

#[test]
fn ban_bars_the_session_and_the_address_until_unbanned() {
    let server = start_server();
    let mut t = teacher(&server);
    let target = "/chat?session=barred-session-000001";
    let mut bob = TestClient::connect_to(server.chat_addr(), target);
    rename(&mut bob, "bob");
    t.send("/ban bob 5");
    bob.recv_until(" .... you are barred from this room by MrsK.");
    assert_eq!(bob.recv_close(), 1008);
    t.recv_until(" .... bob was barred by MrsK.");
    // By session, and (all of us being 127.0.0.1) by address.
    for target in [target, "/chat"] {
        let mut again = TestClient::connect_quiet_to(server.chat_addr(), target);
        again.expect_text(" .... you are barred from this room.");
        assert_eq!(again.recv_close(), 1008);
    }
    // Another room is not barred.
    let _elsewhere = TestClient::connect_to(server.chat_addr(), "/art");
    t.send("/bans");
    t.recv_until(" .... barred: bob (127.0.0.1, 5 min left).");
    t.send("/unban bob");
    t.recv_until(" .... bob may come back.");
    t.send("/bans");
    t.recv_until(" .... nobody is barred.");
    let _back = TestClient::connect_to(server.chat_addr(), target);
}

#[test]
fn rename_and_names_no_one_can_fake() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut bob = student(&server, "bob");
    t.send("/rename bob robert");
    bob.recv_until(" .... bob is now robert.");
    t.recv_until(" .... bob is now robert.");
    // Greek Kappa for K, Cyrillic е for e: taken.
    bob.send("/nick Mrs\u{39A}");
    bob.expect_text(" .... Mrs\u{39A} is taken.");
    bob.send("/nick us\u{435}r-42");
    bob.expect_text(" .... us\u{435}r-42 is taken.");
    t.send("/rename robert \u{41C}rsK");
    t.recv_until(" .... \u{41C}rsK is taken.");
    // A name that draws nothing breaks the rule.
    bob.send("/nick \u{3164}");
    bob.expect_text(
        " .... a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits.",
    );
    bob.send("/nick a\u{200B}b");
    bob.recv_matching(|l| l.starts_with(" .... a nickname is"));
}

#[test]
fn under_trust_proxy_the_forwarded_address_is_barred_however_written() {
    let server = start_server_with(chat_server::Config {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..test_config()
    });
    let mut t = teacher(&server);
    let mut bob = connect_forwarded(server.chat_addr(), "/chat", "203.0.113.9");
    bob.read_greeting();
    rename(&mut bob, "bob");
    t.send("/ban bob 10");
    t.recv_until(" .... bob was barred by MrsK.");
    t.send("/bans");
    t.recv_until(" .... barred: bob (203.0.113.9, 10 min left).");
    // The same host written as IPv4-mapped IPv6: barred.
    let mut again = connect_forwarded(server.chat_addr(), "/chat", "::ffff:203.0.113.9");
    again.expect_text(" .... you are barred from this room.");
    assert_eq!(again.recv_close(), 1008);
    // Another address behind the same proxy: welcome.
    let mut other = connect_forwarded(server.chat_addr(), "/chat", "203.0.113.10");
    other.read_greeting();
}
