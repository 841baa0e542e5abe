//! Two instances sharing Redis: clients on either chat as on one server,
//! and every client of the room sees the same lines in the same order.

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{joined, two_instances, TestClient};

const LINES: usize = 50;

#[test]
fn clients_on_two_instances_see_one_order() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Bob's arrival on B reaches Ann on A, and Bob sees Ann already here.
    let (a, b, mut ann, mut bob) = two_instances(&redis);
    assert!(bob.presence.contains(&ann.nick), "{}", bob.presence);
    let mut cat = TestClient::connect(a.chat_addr());
    ann.recv_until(&joined(&cat.nick));
    bob.recv_until(&joined(&cat.nick));

    // Ann (A) and Bob (B) send at once; each line goes through Redis.
    std::thread::scope(|s| {
        s.spawn(|| (0..LINES).for_each(|i| ann.send(&format!("a{i}"))));
        s.spawn(|| (0..LINES).for_each(|i| bob.send(&format!("b{i}"))));
    });
    let mut seen = Vec::new();
    for client in [&mut ann, &mut bob, &mut cat] {
        let lines: Vec<String> = (0..2 * LINES).map(|_| client.recv_text()).collect();
        seen.push(lines);
    }
    // Same lines, same order, for the sender on A, the sender on B and
    // the reader on A; each sender's own lines in the order it sent them.
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    let from = |nick: &str| -> Vec<String> {
        seen[0]
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("{nick}: ")).map(str::to_owned))
            .collect()
    };
    assert_eq!(
        from(&ann.nick),
        (0..LINES).map(|i| format!("a{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        from(&bob.nick),
        (0..LINES).map(|i| format!("b{i}")).collect::<Vec<_>>()
    );

    // Rooms stay apart across instances too.
    let mut dan = TestClient::connect_to(b.chat_addr(), "/math");
    dan.send("only math");
    assert_eq!(dan.recv_text(), format!("{}: only math", dan.nick));
    cat.send("main again");
    assert_eq!(ann.recv_text(), format!("{}: main again", cat.nick));
    assert_eq!(bob.recv_text(), format!("{}: main again", cat.nick));
    dan.assert_nothing_for(Duration::from_millis(300));
}
