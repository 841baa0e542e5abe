//! An instance killed with SIGKILL: once its lease lapses, one surviving
//! instance announces its members' leaves; every client elsewhere sees
//! each leave exactly once, within the lease (and a reap round) of the
//! death, and the names are free again.

use std::time::{Duration, Instant};

use testkit::redis::RedisServer;
use testkit::{doomed_instance, left, start_instance, TestClient};

/// `--redis-lease` for the killed child: short, so the test is too.
const LEASE: Duration = Duration::from_secs(2);

#[test]
fn a_killed_instances_members_leave_once_everywhere() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let mut doomed = doomed_instance!(&url);
    let b = start_instance(&url, LEASE);
    let c = start_instance(&url, LEASE);

    let mut ann = TestClient::connect(doomed.chat_addr);
    let first = ann.nick.clone();
    ann.send("/nick Ann");
    ann.recv_until(&format!(" .... {first} is now Ann."));
    ann.nick = "Ann".into();
    let mut bob = TestClient::connect(b.chat_addr());
    let mut cat = TestClient::connect(c.chat_addr());
    let amy = TestClient::connect(doomed.chat_addr);
    for watcher in [&mut bob, &mut cat] {
        watcher.recv_until(&testkit::joined(&amy.nick));
    }
    assert!(cat.presence.contains(&ann.nick), "{}", cat.presence);

    doomed.child.kill().expect("SIGKILL");
    let killed = Instant::now();
    doomed.child.wait().expect("reaped");
    let gone = [left(&ann.nick), left(&amy.nick)];
    for watcher in [&mut bob, &mut cat] {
        let mut seen: Vec<String> = Vec::new();
        while seen.len() < 2 {
            let line = watcher.recv_text();
            assert!(gone.contains(&line), "unexpected {line:?}");
            assert!(!seen.contains(&line), "{line:?} twice");
            seen.push(line);
        }
    }
    let took = killed.elapsed();
    assert!(
        took < LEASE + Duration::from_secs(2),
        "leaves after {took:?}"
    );
    // Nothing more: no second leave from a second reaper.
    bob.assert_nothing_for(LEASE);
    cat.assert_nothing_for(Duration::from_millis(200));

    // The presence no longer lists them, and their names are free.
    bob.send("/who");
    assert_eq!(bob.recv_text(), testkit::here_now(&[&bob.nick, &cat.nick]));
    bob.send("/nick ann");
    bob.recv_until(&format!(" .... {} is now ann.", bob.nick));
}
