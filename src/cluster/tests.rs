//! The Redis layer against a real `redis-server`, started here on a free
//! loopback port with persistence off (skipped, with a line saying so,
//! when the program is missing outside CI).

use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::*;

#[path = "../../tests/common/redis.rs"]
mod redis_server;
use redis_server::RedisServer;

const WAIT: Duration = Duration::from_secs(5);
/// The default lease (`--redis-lease`).
const LEASE_15S: Duration = Duration::from_secs(15);

fn config(redis: &RedisServer, lease: Duration) -> ClusterConfig {
    ClusterConfig {
        url: redis.url(),
        lease,
        history: 3,
    }
}

/// Start a cluster whose inbound messages land on the returned channel.
fn start(redis: &RedisServer, lease: Duration) -> (Cluster, Link, Receiver<Inbound>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let deliver: Deliver = Arc::new(move |inbound| {
        let _ = tx.send(inbound);
    });
    let (cluster, link) = Cluster::start(&config(redis, lease), deliver).expect("cluster starts");
    (cluster, link, rx)
}

/// The next inbound message that `pick` accepts, skipping others.
fn next<T>(rx: &Receiver<Inbound>, mut pick: impl FnMut(Inbound) -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let inbound = rx.recv_timeout(left).expect("an inbound message in time");
        if let Some(t) = pick(inbound) {
            return t;
        }
    }
}

fn event(rx: &Receiver<Inbound>) -> Envelope {
    next(rx, |i| match i {
        Inbound::Event(e) => Some(e),
        _ => None,
    })
}

fn snapshot(rx: &Receiver<Inbound>) -> Vec<RoomState> {
    next(rx, |i| match i {
        Inbound::Up(rooms) => Some(rooms),
        _ => None,
    })
}

fn line(text: &str) -> Record {
    Record::Line { text: text.into() }
}

#[test]
fn an_unreachable_redis_is_a_one_line_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClusterConfig {
        url: format!("redis://127.0.0.1:{port}/"),
        lease: LEASE_15S,
        history: 10,
    };
    let err = Cluster::start(&config, Arc::new(|_| {}))
        .err()
        .expect("no Redis there");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("could not reach Redis at 127.0.0.1:{port}: ")),
        "{text}"
    );
    assert!(!text.contains('\n'));
    let bad = ClusterConfig {
        url: "http://nowhere/".into(),
        ..config
    };
    assert!(Cluster::start(&bad, Arc::new(|_| {})).is_err());
}

#[test]
fn lines_come_back_to_every_instance_in_one_order_with_history() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, link_a, rx_a) = start(&redis, LEASE_15S);
    let (b, link_b, rx_b) = start(&redis, LEASE_15S);
    assert!(snapshot(&rx_a).is_empty());
    assert!(snapshot(&rx_b).is_empty());
    assert_ne!(a.instance(), b.instance());
    // Both publish at once; both see the same sequence.
    for i in 0..5 {
        link_a.publish("main", line(&format!("a{i}"))).unwrap();
        link_b.publish("main", line(&format!("b{i}"))).unwrap();
    }
    let seen_a: Vec<_> = (0..10).map(|_| event(&rx_a)).collect();
    let seen_b: Vec<_> = (0..10).map(|_| event(&rx_b)).collect();
    assert_eq!(seen_a, seen_b);
    let seqs: Vec<u64> = seen_a.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    // Private lines travel too, but stay out of the history.
    let private = Record::Private {
        from: "ann".into(),
        to: "bob".into(),
        text: "ann -> bob: psst".into(),
    };
    link_a.publish("main", private.clone()).unwrap();
    assert_eq!(event(&rx_b).record, private);
    // A third instance starts with the last 3 lines (the cap) as history.
    let (c, _link_c, rx_c) = start(&redis, LEASE_15S);
    let rooms = snapshot(&rx_c);
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].seq, 11);
    let texts: Vec<_> = seen_a[7..]
        .iter()
        .map(|e| match &e.record {
            Record::Line { text } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rooms[0].history, texts);
    assert!(a.stats().published.load(Ordering::Relaxed) >= 6);
    assert!(b.stats().received.load(Ordering::Relaxed) >= 11);
    assert!(a.stats().round_trips.load(Ordering::Relaxed) >= 1);
    drop((link_a, link_b));
    for cluster in [a, b, c] {
        cluster.stop();
    }
}

#[test]
fn a_name_is_granted_to_one_instance_and_freed_on_leave() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, link_a, rx_a) = start(&redis, LEASE_15S);
    let (b, link_b, rx_b) = start(&redis, LEASE_15S);
    let _ = (snapshot(&rx_a), snapshot(&rx_b));
    // Both ask for the same name (ignoring case) at once: exactly one wins.
    let (ca, cb) = std::thread::scope(|s| {
        let ta = s.spawn(|| link_a.join("main", "Ann", None));
        let tb = s.spawn(|| link_b.join("main", "aNN", None));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let (winner, loser, winner_nick) = match (ca, cb) {
        (Claim::Granted(_), Claim::Taken) => (&link_a, &link_b, "Ann"),
        (Claim::Taken, Claim::Granted(_)) => (&link_b, &link_a, "aNN"),
        other => panic!("not exactly one winner: {other:?}"),
    };
    assert_eq!(
        event(&rx_a).record,
        Record::Joined {
            nick: winner_nick.into()
        }
    );
    // Claiming again what we hold is a no-op (resync), announced nowhere.
    assert_eq!(winner.join("main", winner_nick, None), Claim::Held);
    // A rename keeps the place; the old name is free, the new one taken.
    assert!(matches!(
        winner.rename("main", winner_nick, "Zed", None),
        Claim::Granted(_)
    ));
    assert_eq!(loser.rename("main", "x", "zed", None), Claim::Taken);
    assert!(matches!(loser.join("main", "ann", None), Claim::Granted(_)));
    winner.leave("main", "Zed").unwrap();
    let records: Vec<_> = (0..4).map(|_| event(&rx_b).record).collect();
    assert_eq!(
        records,
        [
            Record::Joined {
                nick: winner_nick.into()
            },
            Record::Renamed {
                old: winner_nick.into(),
                new: "Zed".into()
            },
            Record::Joined { nick: "ann".into() },
            Record::Left { nick: "Zed".into() },
        ]
    );
    assert!(matches!(loser.join("main", "zed", None), Claim::Granted(_)));
    drop((link_a, link_b));
    a.stop();
    b.stop();
}

#[test]
fn a_dead_instance_is_reaped_once_with_its_members_leaves() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_millis(1500);
    let (mut dead, link_dead, _rx_dead) = start(&redis, lease);
    let survivors: Vec<_> = (0..2).map(|_| start(&redis, lease)).collect();
    for nick in ["ann", "bob"] {
        assert!(matches!(
            link_dead.join("math", nick, None),
            Claim::Granted(_)
        ));
    }
    // Its threads stop without retiring: as if the process died.
    drop(link_dead);
    dead.stop_threads();
    let died = Instant::now();
    // Each survivor sees each leave once (two survivors race to reap).
    for (_, _, rx) in &survivors {
        let mut left = Vec::new();
        while left.len() < 2 {
            let e = event(rx);
            if let Record::Left { nick } = e.record {
                left.push(nick);
            }
        }
        left.sort();
        assert_eq!(left, ["ann", "bob"]);
    }
    assert!(
        died.elapsed() < lease + Duration::from_secs(1),
        "{:?}",
        died.elapsed()
    );
    for (_, _, rx) in &survivors {
        let again = rx.recv_timeout(lease);
        assert!(
            !matches!(again, Ok(Inbound::Event(ref e)) if matches!(e.record, Record::Left { .. })),
            "a second leave: {again:?}"
        );
    }
    // The names are free again.
    let (_, link, _) = &survivors[0];
    assert!(matches!(link.join("math", "ann", None), Claim::Granted(_)));
}

#[test]
fn redis_going_away_is_told_once_and_coming_back_resynchronizes() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (cluster, link, rx) = start(&redis, LEASE_15S);
    let _ = snapshot(&rx);
    assert!(matches!(link.join("main", "ann", None), Claim::Granted(_)));
    let _ = event(&rx);
    redis.kill();
    next(&rx, |i| matches!(i, Inbound::Down).then_some(()));
    assert!(!cluster.is_up());
    // Away: claims and publishes answer at once, for local delivery.
    let started = Instant::now();
    assert_eq!(link.join("main", "bob", None), Claim::Offline);
    assert_eq!(link.publish("main", line("x")), Err(Unsent(line("x"))));
    assert!(started.elapsed() < Duration::from_millis(100));
    redis.restart();
    // Back, empty: the snapshot says so; no second Down came before it.
    let mut downs = 0;
    let rooms = next(&rx, |i| match i {
        Inbound::Down => {
            downs += 1;
            None
        }
        Inbound::Up(rooms) => Some(rooms),
        _ => None,
    });
    assert_eq!(downs, 0);
    assert!(rooms.is_empty());
    assert!(cluster.is_up());
    // And publishing works again (the publisher reconnects on its own).
    let deadline = Instant::now() + WAIT;
    loop {
        match link.publish("main", line("back")) {
            Ok(()) => break,
            Err(_) => assert!(Instant::now() < deadline),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Nothing between: no second Down from a thread's stale connection.
    match rx.recv_timeout(WAIT) {
        Ok(Inbound::Event(e)) => assert_eq!(e.record, line("back")),
        other => panic!("{other:?}"),
    }
    let quiet = rx.recv_timeout(Duration::from_millis(1500));
    assert!(quiet.is_err(), "{quiet:?}");
    // Redis came back empty: our members' names are claimed again in one
    // round trip; a second time, they are already ours.
    let names = vec!["ann".to_owned(), "Zoë".to_owned()];
    let claims = link.reclaim("main", names.clone());
    assert!(
        claims.iter().all(|c| matches!(c, Claim::Granted(_))),
        "{claims:?}"
    );
    assert_eq!(link.reclaim("main", names), [Claim::Held, Claim::Held]);
    drop(link);
    cluster.stop();
}
