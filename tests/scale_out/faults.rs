//! What the tests of a failing Redis share (`redis_*` modules, one per
//! kind of failure): two instances on one real `redis-server`, a member
//! on each, and [`survive`], the scenario every failure goes through:
//! lines before it reach everyone; during it each instance serves its own
//! members, and `/healthz` answers 503 with the cause while the instance
//! is cut off; once Redis answers again both instances are back (200)
//! within [`HEAL`], and then every member's presence line is exact on
//! every instance, names are unique, lines cross instances again, and no
//! one got any line twice. Runs on the test's threads (and one watcher
//! thread per instance for `/healthz`).

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use testkit::redis::RedisServer;
use testkit::*;

/// How soon after Redis answers again both instances must be back in step
/// ("a second or two", with slack for a busy two-core machine).
pub const HEAL: Duration = Duration::from_secs(4);
/// How often the watchers ask `/healthz`.
const POLL: Duration = Duration::from_millis(40);

/// `GET /healthz`: status and body.
pub fn healthz(page: SocketAddr) -> (u16, String) {
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
    let (status, _head, mut stream) = http_exchange(page, request.as_bytes());
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    (status, body.trim().to_owned())
}

/// A thread asking `/healthz` every [`POLL`] until stopped: every answer
/// that differs from the one before, with when it came.
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(Instant, u16, String)>>,
}

impl Watch {
    pub fn start(page: SocketAddr) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen: Vec<(Instant, u16, String)> = Vec::new();
            while !flag.load(Ordering::Acquire) {
                let (status, body) = healthz(page);
                if seen
                    .last()
                    .is_none_or(|(_, s, b)| (*s, b) != (status, &body))
                {
                    seen.push((Instant::now(), status, body));
                }
                std::thread::sleep(POLL);
            }
            seen
        });
        Watch { stop, thread }
    }

    pub fn stop(self) -> Vec<(Instant, u16, String)> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().expect("healthz watcher")
    }
}

/// A member, with every line it received.
pub struct Member {
    pub client: TestClient,
    pub seen: Vec<String>,
}

impl Member {
    pub fn new(client: TestClient) -> Member {
        Member {
            client,
            seen: Vec::new(),
        }
    }

    pub fn nick(&self) -> String {
        self.client.nick.clone()
    }

    /// Say `text` and read until it comes back; how long that took.
    pub fn chat(&mut self, text: &str) -> Duration {
        let start = Instant::now();
        let lines = self.client.chat(text);
        let took = start.elapsed();
        self.seen.extend(lines);
        self.seen.push(format!("{}: {text}", self.client.nick));
        took
    }

    /// Read until `want`.
    pub fn recv_until(&mut self, want: &str) {
        let lines = self.client.recv_until(want);
        self.seen.extend(lines);
        self.seen.push(want.to_owned());
    }

    /// Panics if a chat line (`NICK: text`) came twice.
    pub fn assert_no_line_twice(&self) {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for line in self.seen.iter().filter(|l| !l.starts_with(" .... ")) {
            *count.entry(line).or_default() += 1;
        }
        let twice: Vec<_> = count.iter().filter(|(_, &n)| n > 1).collect();
        assert!(
            twice.is_empty(),
            "{}: lines seen twice: {twice:?}",
            self.client.nick
        );
    }
}

/// The names in a ` .... here now (N): A, B.` line, checked against N.
pub fn names_in(presence: &str) -> Vec<String> {
    let rest = presence
        .strip_prefix(" .... here now (")
        .unwrap_or_else(|| panic!("not a presence line: {presence:?}"));
    let (count, names) = rest.split_once("): ").expect(presence);
    let names: Vec<String> = names
        .trim_end_matches('.')
        .split(", ")
        .map(str::to_owned)
        .collect();
    assert_eq!(count.parse::<usize>().ok(), Some(names.len()), "{presence}");
    names
}

/// What a scenario saw.
#[derive(Debug)]
pub struct Outcome {
    /// Every `/healthz` answer (changes only) on each instance, from the
    /// start of the failure on.
    pub during: [Vec<(u16, String)>; 2],
    /// The slowest line of a member's own during the failure.
    pub slowest_line: Duration,
}

/// The scenario (see the module's doc): `fault` breaks Redis and returns
/// what `heal` needs to end the failure (`heal` returns once Redis
/// answers again). Between the two, the members chat until both
/// instances report themselves cut off. Panics on any inconsistency.
pub fn survive<G>(
    what: &str,
    fault: impl FnOnce(&mut RedisServer) -> G,
    heal: impl FnOnce(&mut RedisServer, G),
) -> Option<Outcome> {
    let mut redis = RedisServer::start()?;
    let (a, b, ann, bob) = two_instances(&redis);
    let (mut ann, mut bob) = (Member::new(ann), Member::new(bob));
    // Eve, on A too, leaves during the failure.
    let mut eve = TestClient::connect(a.chat_addr());
    ann.recv_until(&joined(&eve.nick));
    bob.recv_until(&joined(&eve.nick));
    // Lines said while Redis answers reach every instance, once.
    ann.chat("before from a");
    bob.recv_until(&format!("{}: before from a", ann.nick()));
    bob.chat("before from b");
    ann.recv_until(&format!("{}: before from b", bob.nick()));

    let watches = [Watch::start(a.page_addr()), Watch::start(b.page_addr())];
    let started = Instant::now();
    let guard = fault(&mut redis);
    let mut slowest = Duration::ZERO;
    let mut i = 0;
    // (What these checks see counts too: a watcher may miss a short 503.)
    let mut checked: [Vec<(u16, String)>; 2] = [Vec::new(), Vec::new()];
    let mut cut_off = |i: usize, page: SocketAddr| {
        let (status, body) = healthz(page);
        checked[i].push((status, body));
        status == 503
    };
    let deadline = Instant::now() + WAIT;
    loop {
        // Both at once, so both instances meet the failure together.
        let (took_a, took_b) = std::thread::scope(|s| {
            let a = s.spawn(|| ann.chat(&format!("during a {i}")));
            let took_b = bob.chat(&format!("during b {i}"));
            (a.join().expect("ann chats"), took_b)
        });
        slowest = slowest.max(took_a).max(took_b);
        i += 1;
        if cut_off(0, a.page_addr()) & cut_off(1, b.page_addr()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reported cut off within {WAIT:?}"
        );
    }
    // While cut off, Eve leaves and Ann takes a new name: A shows both at
    // once; once healed, B must agree (Eve gone, Ann's old name free).
    eve.close();
    ann.recv_until(&left(&eve.nick));
    let old = ann.nick();
    ann.client.send("/nick anna");
    ann.recv_until(&format!(" .... {old} is now anna."));
    ann.client.nick = "anna".to_owned();
    heal(&mut redis, guard);
    let healed = Instant::now();
    let back = wait_until(HEAL * 3, || {
        healthz(a.page_addr()).0 == 200 && healthz(b.page_addr()).0 == 200
    });
    let healed_in = healed.elapsed();
    let [mut during_a, mut during_b] = watches.map(|w| {
        w.stop()
            .into_iter()
            .filter(|(at, ..)| *at >= started)
            .map(|(_, status, body)| (status, body))
            .collect::<Vec<_>>()
    });
    let [checked_a, checked_b] = checked;
    during_a.extend(checked_a.into_iter().filter(|(s, _)| *s == 503).take(1));
    during_b.extend(checked_b.into_iter().filter(|(s, _)| *s == 503).take(1));
    let during = [during_a, during_b];
    eprintln!(
        "{what}: healthz during {during:?}; back in {healed_in:?}; slowest own line {slowest:?}"
    );
    assert!(back, "{what}: not back (200) within {:?}", HEAL * 3);
    assert!(healed_in <= HEAL, "{what}: back only after {healed_in:?}");
    for answers in &during {
        for (status, body) in answers {
            match status {
                200 => assert!(body.starts_with("ok"), "{body}"),
                503 => assert!(body.starts_with("unhealthy: redis: "), "{what}: {body}"),
                other => panic!("{what}: /healthz answered {other}: {body}"),
            }
        }
        assert!(
            answers.iter().any(|(s, _)| *s == 503),
            "{what}: {answers:?}"
        );
    }

    // After: lines cross instances again.
    ann.chat("after from a");
    bob.recv_until(&format!("{}: after from a", ann.nick()));
    bob.chat("after from b");
    ann.recv_until(&format!("{}: after from b", bob.nick()));
    // Presence is exact on both instances, names unique.
    let cat = TestClient::connect(a.chat_addr());
    let dan = TestClient::connect(b.chat_addr());
    let mut want = vec![ann.nick(), bob.nick(), cat.nick.clone()];
    let mut got = names_in(&cat.presence);
    want.sort();
    got.sort();
    assert_eq!(got, want, "{what}: presence on A: {}", cat.presence);
    want.push(dan.nick.clone());
    want.sort();
    let mut got = names_in(&dan.presence);
    got.sort();
    assert_eq!(got, want, "{what}: presence on B: {}", dan.presence);
    let mut folded: Vec<String> = want.iter().map(|n| n.to_lowercase()).collect();
    folded.dedup();
    assert_eq!(
        folded.len(),
        want.len(),
        "{what}: a name held twice: {want:?}"
    );
    // No line twice, to anyone: each reads up to the other's last line.
    ann.chat("end from a");
    bob.recv_until(&format!("{}: end from a", ann.nick()));
    bob.chat("end from b");
    ann.recv_until(&format!("{}: end from b", bob.nick()));
    ann.assert_no_line_twice();
    bob.assert_no_line_twice();
    Some(Outcome {
        during,
        slowest_line: slowest,
    })
}
