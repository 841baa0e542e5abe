//! Redis killed and restarted (empty) while clients chat: each instance
//! tells its clients once that it is reconnecting, keeps serving them
//! locally meanwhile, and when Redis is back claims its members' names
//! again, so chat, presence and name rules span the instances once more,
//! with no thread left over.

use std::time::{Duration, Instant};

use testkit::redis::RedisServer;
use testkit::{start_instance, TestClient, WAIT};

const LEASE: Duration = Duration::from_secs(15);
const RECONNECTING: &str = " .... the server is reconnecting to its peers.";

#[test]
fn an_outage_is_told_once_served_locally_and_healed() {
    let _turn = crate::serial();
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let a = start_instance(&redis.url(), LEASE);
    let b = start_instance(&redis.url(), LEASE);
    let mut ann = TestClient::connect(a.chat_addr());
    ann.send("/nick Ann");
    let mut bob = TestClient::connect(b.chat_addr());
    let mut cat = TestClient::connect(a.chat_addr());
    for c in [&mut ann, &mut bob] {
        c.recv_until(&testkit::joined(&cat.nick));
    }
    ann.nick = "Ann".into();

    redis.kill();
    for c in [&mut ann, &mut bob, &mut cat] {
        c.recv_until(RECONNECTING);
    }
    // Meanwhile each instance serves its own clients.
    ann.send("while away");
    let line = "Ann: while away";
    assert_eq!(ann.recv_text(), line);
    assert_eq!(cat.recv_text(), line);
    bob.send("alone on B");
    assert_eq!(bob.recv_text(), format!("{}: alone on B", bob.nick));

    redis.restart();
    // Chat spans the instances again once both are back (bounded wait).
    let deadline = Instant::now() + 4 * WAIT;
    let mut n = 0;
    'healed: loop {
        assert!(
            Instant::now() < deadline,
            "instances did not come back together"
        );
        n += 1;
        let probe = format!("probe {n}");
        ann.send(&probe);
        let want = format!("Ann: {probe}");
        bob.ws
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        while let Ok(msg) = bob.ws.read() {
            assert_ne!(msg.to_text().unwrap_or(""), RECONNECTING, "told twice");
            if msg.to_text().ok() == Some(want.as_str()) {
                break 'healed;
            }
        }
    }
    bob.ws.get_ref().set_read_timeout(Some(WAIT)).unwrap();
    // The names were claimed again: Ann's is still hers across instances,
    // and the presence on B lists everyone.
    bob.send("/nick ANN");
    bob.recv_until(" .... ANN is taken.");
    bob.send("/who");
    let who = bob.recv_matching(|l| l.starts_with(" .... here now ("));
    assert!(who.starts_with(" .... here now (3): "), "{who}");
    for nick in ["Ann", &bob.nick, &cat.nick] {
        assert!(who.contains(nick), "{nick} missing from {who}");
    }
    // No thread was left behind by the reconnection: three per instance.
    assert_eq!(testkit::threads_named(|n| n.starts_with("redis-")), 6);
    // And no client was told twice.
    for c in [&mut ann, &mut cat] {
        let lines = c.recv_until(&format!("Ann: probe {n}"));
        assert!(!lines.iter().any(|l| l == RECONNECTING), "{lines:?}");
    }
}
