//! A room's history lives in Redis: it survives the restart of the
//! instance it was said on, and a newcomer on any instance gets it, oldest
//! first, before its greeting.

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{start_instance, TestClient};

const LEASE: Duration = Duration::from_secs(15);

#[test]
fn history_outlives_the_instance_it_was_said_on() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut a = start_instance(&redis.url(), LEASE);
    let mut ann = TestClient::connect_to(a.chat_addr(), "/math");
    let mut said = Vec::new();
    for text in ["one", "two", "/me waves", "three"] {
        ann.send(text);
        let line = ann.recv_text();
        said.push(line);
    }
    assert_eq!(said[2], format!("* {} waves", ann.nick));
    ann.send("/msg nobody private");
    let _ = ann.recv_text();
    // A stops (every client told 1001); nothing of the room is left in it.
    a.shutdown();

    // A newcomer on a fresh instance, and one on the restarted A.
    let b = start_instance(&redis.url(), LEASE);
    let bob = TestClient::connect_to(b.chat_addr(), "/math");
    assert_eq!(bob.history, said);
    assert_eq!(bob.presence, testkit::here_now(&[&bob.nick]));
    let a = start_instance(&redis.url(), LEASE);
    let mut cat = TestClient::connect_to(a.chat_addr(), "/math");
    assert_eq!(cat.history, said);

    // Lines said after that join the same history, wherever said.
    cat.send("four");
    cat.recv_text();
    let dan = TestClient::connect_to(b.chat_addr(), "/math");
    assert_eq!(dan.history.len(), said.len() + 1);
    assert_eq!(dan.history.last().unwrap(), &format!("{}: four", cat.nick));
    // Another room's history is its own.
    let eve = TestClient::connect_to(b.chat_addr(), "/art");
    assert!(eve.history.is_empty());
}
