//! The Redis layer against a real `redis-server`, started here on a free
//! loopback port with persistence off (skipped, with a line saying so,
//! when the program is missing outside CI).

// `next`'s picker hands back, whole, what it does not take.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::publisher::Unsent;
use super::*;
use crate::event::{Time, What};

use testkit::redis::RedisServer;

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
fn start(redis: &RedisServer, lease: Duration) -> (Cluster, Link, Inbox) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let deliver: Deliver = Arc::new(move |inbound| {
        let _ = tx.send(inbound);
    });
    let (cluster, link) = Cluster::start(&config(redis, lease), deliver).expect("cluster starts");
    let inbox = Inbox {
        rx,
        kept: RefCell::default(),
    };
    (cluster, link, inbox)
}

/// What a test's instance was handed, with what a test skipped kept for
/// later (an event may come before the claim's answer it waits for).
struct Inbox {
    rx: Receiver<Inbound>,
    kept: RefCell<VecDeque<Inbound>>,
}

impl Inbox {
    fn recv_timeout(&self, timeout: Duration) -> Result<Inbound, RecvTimeoutError> {
        match self.kept.borrow_mut().pop_front() {
            Some(inbound) => Ok(inbound),
            None => self.rx.recv_timeout(timeout),
        }
    }
}

/// The next inbound message that `pick` accepts; the others stay for later.
fn next<T>(rx: &Inbox, mut pick: impl FnMut(Inbound) -> Result<T, Inbound>) -> T {
    let deadline = Instant::now() + WAIT;
    let mut skipped = VecDeque::new();
    let kept: Vec<Inbound> = rx.kept.borrow_mut().drain(..).collect();
    let mut kept = kept.into_iter();
    let found = loop {
        let inbound = match kept.next() {
            Some(inbound) => inbound,
            None => {
                let left = deadline.saturating_duration_since(Instant::now());
                rx.rx
                    .recv_timeout(left)
                    .expect("an inbound message in time")
            }
        };
        match pick(inbound) {
            Ok(t) => break t,
            Err(other) => skipped.push_back(other),
        }
    };
    skipped.extend(kept);
    *rx.kept.borrow_mut() = skipped;
    found
}

fn event(rx: &Inbox) -> Envelope {
    next(rx, |i| match i {
        Inbound::Event(e) => Ok(e),
        other => Err(other),
    })
}

fn snapshot(rx: &Inbox) -> Vec<RoomState> {
    next(rx, |i| match i {
        Inbound::Up(rooms) => Ok(rooms),
        other => Err(other),
    })
}

fn chat(text: &str) -> Event {
    Event {
        id: 0,
        time: Time(1_700_000_000_123),
        what: What::Chat {
            nick: "ann".into(),
            text: text.into(),
        },
    }
}

fn what(rx: &Inbox) -> What {
    event(rx).event.what
}

/// The answer to the claim with `ticket`.
fn claimed(rx: &Inbox, ticket: u64) -> Claim {
    next(rx, |i| match i {
        Inbound::Claimed {
            ticket: t, claim, ..
        } if t == ticket => Ok(claim),
        other => Err(other),
    })
}

/// Join and wait for the answer (a test's shortcut: the core never waits).
fn join(link: &Link, rx: &Inbox, room: &str, nick: &str) -> Claim {
    let ticket = rand::random();
    assert_eq!(link.join(room, ticket, nick, None, Time(5)), None);
    claimed(rx, ticket)
}

fn rename(link: &Link, rx: &Inbox, old: &str, new: &str) -> Claim {
    let ticket = rand::random();
    assert_eq!(link.rename("main", ticket, old, new, None, Time(6)), None);
    claimed(rx, ticket)
}

fn reclaim(link: &Link, rx: &Inbox, nicks: Vec<String>) -> Vec<Claim> {
    let ticket = rand::random();
    assert_eq!(link.reclaim("main", ticket, nicks, Time(7)), None);
    next(rx, |i| match i {
        Inbound::Reclaimed {
            ticket: t, claims, ..
        } if t == ticket => Ok(claims),
        other => Err(other),
    })
}

/// `redis-server` paused (SIGSTOP) until dropped (SIGCONT), so a test that
/// fails midway does not leave it stopped.
struct Paused(String);

impl Paused {
    fn pause(redis: &RedisServer) -> Paused {
        let mut con = ::redis::Client::open(redis.url())
            .and_then(|c| c.get_connection())
            .expect("a connection");
        let info: String = ::redis::cmd("INFO")
            .arg("server")
            .query(&mut con)
            .expect("INFO");
        let pid = info
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .expect("a pid")
            .trim()
            .to_owned();
        signal("-STOP", &pid);
        Paused(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal("-CONT", &self.0);
    }
}

fn signal(which: &str, pid: &str) {
    let ok = std::process::Command::new("kill")
        .args([which, pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {which} {pid}");
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
        link_a.publish("main", &chat(&format!("a{i}"))).unwrap();
        link_b.publish("main", &chat(&format!("b{i}"))).unwrap();
    }
    let seen_a: Vec<_> = (0..10).map(|_| event(&rx_a)).collect();
    let seen_b: Vec<_> = (0..10).map(|_| event(&rx_b)).collect();
    let events = |seen: &[Envelope]| seen.iter().map(|e| e.event.clone()).collect::<Vec<_>>();
    assert_eq!(events(&seen_a), events(&seen_b));
    let seqs: Vec<u64> = seen_a.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    for (ea, eb) in seen_a.iter().zip(&seen_b) {
        assert_eq!(ea.event.id, ea.seq);
        assert_eq!(ea.event.time, chat("").time);
        // Each instance knows its own lines.
        let from_a = matches!(&ea.event.what, What::Chat { text, .. } if text.starts_with('a'));
        assert_eq!((ea.mine, eb.mine), (from_a, !from_a));
    }
    // Private lines and notices travel too, but stay out of the history.
    let private = What::Private {
        from: "ann".into(),
        to: "bob".into(),
        text: "psst\twith a tab".into(),
    };
    let notice = What::Notice {
        text: "the room closes at noon".into(),
    };
    for what in [&private, &notice] {
        let event = Event {
            what: what.clone(),
            ..chat("")
        };
        link_a.publish("main", &event).unwrap();
    }
    assert_eq!(what(&rx_b), private);
    assert_eq!(what(&rx_b), notice);
    // What is for one member only never travels.
    let welcome = Event {
        what: What::Welcome {
            nick: "ann".into(),
            room: "main".into(),
        },
        ..chat("")
    };
    assert_eq!(
        link_a.publish("main", &welcome),
        Err(Unsent(welcome.clone()))
    );
    // A third instance starts with the last 3 lines (the cap) as history,
    // typed, with their ids.
    let (c, link_c, rx_c) = start(&redis, LEASE_15S);
    let rooms = snapshot(&rx_c);
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].seq, 12);
    let kept: Vec<Event> = seen_a[7..].iter().map(|e| e.event.clone()).collect();
    assert_eq!(rooms[0].history, kept);
    // Opening a room reads it; a room Redis never saw is empty.
    assert!(link_c.open("main"));
    assert!(link_c.open("nowhere"));
    let opened: Vec<RoomState> = (0..2)
        .map(|_| {
            next(&rx_c, |i| match i {
                Inbound::Opened(state) => Ok(state),
                other => Err(other),
            })
        })
        .collect();
    assert_eq!(opened[0], rooms[0]);
    assert_eq!(
        opened[1],
        RoomState {
            room: "nowhere".into(),
            ..RoomState::default()
        }
    );
    // (Counted once the publisher reads its answers, which may come after
    // the lines came back through the subscription.)
    let deadline = Instant::now() + WAIT;
    while a.stats().published.load(Ordering::Relaxed) < 7 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(a.stats().published.load(Ordering::Relaxed) >= 7);
    assert!(b.stats().received.load(Ordering::Relaxed) >= 12);
    assert!(a.stats().round_trips.load(Ordering::Relaxed) >= 1);
    drop((link_a, link_b, link_c));
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
    assert_eq!(link_a.join("main", 1, "Ann", None, Time(5)), None);
    assert_eq!(link_b.join("main", 2, "aNN", None, Time(5)), None);
    let (ca, cb) = (claimed(&rx_a, 1), claimed(&rx_b, 2));
    let (winner, loser, winner_nick) = match (ca, cb) {
        (Claim::Granted(_), Claim::Taken) => ((&link_a, &rx_a), (&link_b, &rx_b), "Ann"),
        (Claim::Taken, Claim::Granted(_)) => ((&link_b, &rx_b), (&link_a, &rx_a), "aNN"),
        other => panic!("not exactly one winner: {other:?}"),
    };
    let joined = event(&rx_a);
    assert_eq!(joined.mine, winner_nick == "Ann");
    assert_eq!(
        joined.event,
        Event {
            id: joined.seq,
            time: Time(5),
            what: What::Join {
                nick: winner_nick.into()
            }
        }
    );
    // Claiming again what we hold is a no-op (resync), announced nowhere.
    assert_eq!(join(winner.0, winner.1, "main", winner_nick), Claim::Held);
    // A rename keeps the place; the old name is free, the new one taken.
    assert!(matches!(
        rename(winner.0, winner.1, winner_nick, "Zed"),
        Claim::Granted(_)
    ));
    assert_eq!(rename(loser.0, loser.1, "x", "zed"), Claim::Taken);
    assert!(matches!(
        join(loser.0, loser.1, "main", "ann"),
        Claim::Granted(_)
    ));
    let leave = Event {
        id: 0,
        time: Time(9),
        what: What::Leave { nick: "Zed".into() },
    };
    winner.0.publish("main", &leave).unwrap();
    let seen: Vec<_> = (0..4).map(|_| what(&rx_b)).collect();
    assert_eq!(
        seen,
        [
            What::Join {
                nick: winner_nick.into()
            },
            What::Rename {
                from: winner_nick.into(),
                to: "Zed".into()
            },
            What::Join { nick: "ann".into() },
            What::Leave { nick: "Zed".into() },
        ]
    );
    assert!(matches!(
        join(loser.0, loser.1, "main", "zed"),
        Claim::Granted(_)
    ));
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
    let (mut dead, link_dead, rx_dead) = start(&redis, lease);
    let survivors: Vec<_> = (0..2).map(|_| start(&redis, lease)).collect();
    for nick in ["ann", "bob"] {
        assert!(matches!(
            join(&link_dead, &rx_dead, "math", nick),
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
            if let What::Leave { nick } = e.event.what {
                assert!(!e.mine);
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
            !matches!(again, Ok(Inbound::Event(ref e)) if matches!(e.event.what, What::Leave { .. })),
            "a second leave: {again:?}"
        );
    }
    // The names are free again.
    let (_, link, rx) = &survivors[0];
    assert!(matches!(join(link, rx, "math", "ann"), Claim::Granted(_)));
}

#[test]
fn redis_going_away_is_told_once_and_coming_back_resynchronizes() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (cluster, link, rx) = start(&redis, LEASE_15S);
    let _ = snapshot(&rx);
    assert!(matches!(join(&link, &rx, "main", "ann"), Claim::Granted(_)));
    let _ = event(&rx);
    redis.kill();
    let cause = next(&rx, |i| match i {
        Inbound::Down { cause } => Ok(cause),
        other => Err(other),
    });
    assert!(!cause.is_empty() && !cause.contains('\n'), "{cause:?}");
    assert!(!cluster.is_up());
    // Away: everything answers at once, for local handling.
    let started = Instant::now();
    assert_eq!(
        link.join("main", 3, "bob", None, Time(1)),
        Some(Claim::Offline)
    );
    assert_eq!(
        link.rename("main", 4, "ann", "bob", None, Time(1)),
        Some(Claim::Offline)
    );
    assert_eq!(
        link.reclaim("main", 5, vec!["ann".into()], Time(1)),
        Some(vec![Claim::Offline])
    );
    assert!(!link.open("main"));
    assert_eq!(link.publish("main", &chat("x")), Err(Unsent(chat("x"))));
    assert!(started.elapsed() < Duration::from_millis(100));
    redis.restart();
    // Back, empty: the snapshot says so; no second Down came before it.
    let mut downs = 0;
    let rooms = next(&rx, |i| match i {
        down @ Inbound::Down { .. } => {
            downs += 1;
            Err(down)
        }
        Inbound::Up(rooms) => Ok(rooms),
        other => Err(other),
    });
    assert_eq!(downs, 0);
    assert!(rooms.is_empty());
    // And publishing works again (each thread reconnects on its own).
    let deadline = Instant::now() + WAIT;
    loop {
        match link.publish("main", &chat("back")) {
            Ok(()) => break,
            Err(_) => assert!(Instant::now() < deadline),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Nothing between but another Up: no Down from a stale connection.
    let back = next(&rx, |i| match i {
        Inbound::Event(e) => Ok(e),
        up @ Inbound::Up(_) => Err(up),
        other => panic!("{other:?}"),
    });
    assert_eq!(back.event.what, chat("back").what);
    let quiet = rx.recv_timeout(Duration::from_millis(1500));
    assert!(matches!(quiet, Err(_) | Ok(Inbound::Up(_))), "{quiet:?}");
    // Redis came back empty: our members' names are claimed again in one
    // round trip; a second time, they are already ours.
    let names = vec!["ann".to_owned(), "Zoë".to_owned()];
    let claims = reclaim(&link, &rx, names.clone());
    assert!(
        claims.iter().all(|c| matches!(c, Claim::Granted(_))),
        "{claims:?}"
    );
    assert_eq!(reclaim(&link, &rx, names), [Claim::Held, Claim::Held]);
    // No member left: nothing claimed, and the names we held are freed.
    assert_eq!(reclaim(&link, &rx, Vec::new()), []);
    let again = reclaim(&link, &rx, vec!["ann".into()]);
    assert!(matches!(again[..], [Claim::Granted(_)]), "{again:?}");
    drop(link);
    cluster.stop();
}

#[test]
fn a_claim_while_redis_is_paused_returns_at_once_and_is_answered_after() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (cluster, link, rx) = start(&redis, LEASE_15S);
    let _ = snapshot(&rx);
    let paused = Paused::pause(&redis);
    let started = Instant::now();
    assert_eq!(link.join("main", 7, "ann", None, Time(5)), None);
    assert!(link.open("main"));
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
    // No answer while Redis sleeps...
    let early = rx.recv_timeout(Duration::from_millis(300));
    assert!(!matches!(early, Ok(Inbound::Claimed { .. })), "{early:?}");
    drop(paused);
    // ...and the real one after.
    assert!(matches!(claimed(&rx, 7), Claim::Granted(_)));
    let opened = next(&rx, |i| match i {
        Inbound::Opened(state) => Ok(state),
        other => Err(other),
    });
    assert_eq!(
        opened.here,
        [Holder {
            mine: true,
            nick: "ann".into()
        }]
    );
    drop(link);
    cluster.stop();
}

#[test]
fn a_publish_timeout_does_not_leave_health_down() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (cluster, link, rx) = start(&redis, LEASE_15S);
    let _ = snapshot(&rx);
    let paused = Paused::pause(&redis);
    link.publish("main", &chat("slow")).unwrap();
    assert_eq!(link.join("main", 8, "ann", None, Time(5)), None);
    // The publisher's round trip times out: Redis is reported down...
    next(&rx, |i| match i {
        Inbound::Down { .. } => Ok(()),
        other => Err(other),
    });
    assert!(!link.is_up());
    assert_eq!(link.publish("main", &chat("x")), Err(Unsent(chat("x"))));
    drop(paused);
    // ...the batch's line is handed back at once, for local delivery; its
    // claim waits for the late answer; Redis runs the line late, and its
    // echo is dropped here: the line reaches the core once.
    let mut lines = Vec::new();
    let mut handed_back = Vec::new();
    let mut claim = None;
    let mut up = false;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline && !(up && claim.is_some() && link.is_up()) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Inbound::Event(e)) => lines.push(e.event.what),
            Ok(Inbound::Claimed {
                ticket: 8,
                claim: c,
                ..
            }) => claim = Some(c),
            Ok(Inbound::Up(_)) => up = true,
            Ok(Inbound::Unsent { event, .. }) => handed_back.push(event.what),
            _ => {}
        }
    }
    assert_eq!(handed_back, [chat("slow").what]);
    assert!(matches!(claim, Some(Claim::Granted(_))), "{claim:?}");
    // ...and Redis is up again, with fresh states for the core, though the
    // subscription never broke.
    assert!(up, "no Up after the timeout");
    assert!(link.is_up());
    link.publish("main", &chat("after")).unwrap();
    while !lines.contains(&chat("after").what) {
        lines.push(what(&rx));
    }
    let slow = lines.iter().filter(|w| **w == chat("slow").what).count();
    assert_eq!(slow, 0, "the late echo was delivered too: {lines:?}");
    drop(link);
    cluster.stop();
}
