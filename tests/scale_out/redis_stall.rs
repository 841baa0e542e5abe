//! A Redis that stalls (`--redis`): claims (a join's name, `/nick`) wait
//! for Redis, but nothing else does. While Redis is paused, a newcomer
//! joins room A and a member of A takes a new name; meanwhile room B on
//! the same instance keeps chatting with no delay beyond noise, and
//! `/healthz` answers within its 1 s deadline. After the stall the
//! newcomer is in and the rename holds.
//!
//! Two ways to stall: `CLIENT PAUSE 3000 ALL` (Redis answers nothing for
//! 3 s, connections stay up) and SIGSTOP/SIGCONT of the redis-server
//! process (the same, seen from the instance as a silent peer).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use testkit::redis::RedisServer;
use testkit::*;

/// How long Redis stalls.
const STALL: Duration = Duration::from_millis(3000);
/// A round trip in room B during the stall stays under this.
const NOISE: Duration = Duration::from_millis(500);
/// `/healthz` answers within its 1 s deadline, plus this much slack.
const HEALTH_SLACK: Duration = Duration::from_millis(500);

/// Send one command to Redis on its own connection (RESP); return the
/// first line of the answer.
fn redis_command(port: u16, args: &[&str]) -> String {
    let mut con = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    con.set_read_timeout(Some(WAIT)).unwrap();
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    con.write_all(request.as_bytes()).expect("write to redis");
    let mut answer = Vec::new();
    let mut byte = [0u8];
    let deadline = Instant::now() + WAIT;
    while !answer.ends_with(b"\r\n") {
        assert!(Instant::now() < deadline, "redis did not answer");
        con.read_exact(&mut byte).expect("read from redis");
        answer.push(byte[0]);
    }
    String::from_utf8_lossy(&answer).trim_end().to_owned()
}

/// The redis-server's pid, from `INFO server`.
fn redis_pid(port: u16) -> libc::pid_t {
    let mut con = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    con.set_read_timeout(Some(WAIT)).unwrap();
    con.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .expect("write to redis");
    let mut text = String::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no process_id in INFO: {text}");
        let n = con.read(&mut buf).expect("read INFO");
        assert!(n > 0, "redis closed: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(pid) = text
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|pid| pid.trim().parse().ok())
        {
            return pid;
        }
    }
}

/// SIGCONT when dropped, so a failed test never leaves Redis stopped.
struct Stopped(libc::pid_t);

impl Stopped {
    fn new(pid: libc::pid_t) -> Stopped {
        // SAFETY: kill only sends a signal to our own redis-server child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

/// `GET /healthz`: (status, how long the answer took).
fn healthz(page: std::net::SocketAddr) -> (u16, Duration, String) {
    let start = Instant::now();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
    let (status, head, mut stream) = http_exchange(page, request.as_bytes());
    let took = start.elapsed();
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    (status, took, format!("{head}{body}"))
}

/// The scenario, with `stall` starting the stall (it returns a guard that
/// may end it when dropped; the stall ends after [`STALL`] at the latest).
/// `quick_b`: also require room B's round trips during the stall to stay
/// under [`NOISE`].
fn stall_scenario<G>(stall: impl FnOnce(&RedisServer) -> G, quick_b: bool) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = start_instance(&redis.url(), Duration::from_secs(15));
    let addr = server.chat_addr();
    let mut ann = TestClient::connect_to(addr, "/a");
    let mut bea = TestClient::connect_to(addr, "/b");
    let mut ben = TestClient::connect_to(addr, "/b");
    bea.recv_until(&joined(&ben.nick));
    // Before: B's round trip, for comparison.
    let before = Instant::now();
    bea.chat("before");
    let before = before.elapsed();

    let guard = stall(&redis);
    let stalled = Instant::now();
    let old = ann.nick.clone();
    let (newcomer, b_trips, health) = std::thread::scope(|s| {
        // A newcomer joins room A: its name is claimed in Redis.
        let newcomer = s.spawn(|| {
            let start = Instant::now();
            let client = TestClient::connect_to(addr, "/a");
            (client, start.elapsed())
        });
        // A member of A takes a new name: claimed in Redis too.
        ann.send("/nick anna");
        // /healthz answers within its deadline meanwhile.
        let health = s.spawn(|| healthz(server.page_addr()));
        // Room B keeps chatting: its round trips while Redis stalls
        // (bounded: at most 20 lines, within the first two thirds of it).
        let mut trips = Vec::new();
        for i in 0..20 {
            if stalled.elapsed() > STALL * 2 / 3 {
                break;
            }
            let start = Instant::now();
            bea.chat(&format!("during {i}"));
            trips.push(start.elapsed());
            ben.recv_until(&format!("{}: during {i}", bea.nick));
        }
        (
            newcomer.join().expect("newcomer thread"),
            trips,
            health.join().expect("healthz thread"),
        )
    });
    drop(guard);
    let (mut newcomer, joined_in) = newcomer;
    eprintln!(
        "B before: {before:?}; B during: {b_trips:?}; healthz {} in {:?}; newcomer in after {joined_in:?}",
        health.0, health.1
    );

    assert!(
        health.0 == 200 || health.0 == 503,
        "/healthz answered {}",
        health.2
    );
    assert!(
        health.1 < Duration::from_secs(1) + HEALTH_SLACK,
        "/healthz took {:?}",
        health.1
    );

    // After the stall: the newcomer is in, the rename holds, both ways.
    ann.recv_until(&format!(" .... {old} is now anna."));
    ann.nick = "anna".to_owned();
    ann.chat("after the stall");
    newcomer.recv_until("anna: after the stall");
    newcomer.chat("hello anna");
    ann.recv_until(&format!("{}: hello anna", newcomer.nick));
    ann.send("/who");
    let who = ann.recv_matching(|l| l.starts_with(" .... here now ("));
    assert!(
        who == here_now(&["anna", &newcomer.nick]),
        "{who:?} after the stall"
    );
    // B still chats.
    bea.chat("after");

    if quick_b {
        let worst = b_trips.iter().max().copied().unwrap_or_default();
        assert!(
            worst < NOISE,
            "room B waited for Redis: round trips during the stall {b_trips:?} (before: {before:?})"
        );
    }
}

fn pause(redis: &RedisServer) {
    let ms = STALL.as_millis().to_string();
    assert_eq!(
        redis_command(redis.port, &["CLIENT", "PAUSE", &ms, "ALL"]),
        "+OK"
    );
}

#[test]
fn a_paused_redis_blocks_no_claim_for_good_and_no_health_check() {
    stall_scenario(pause, false);
}

/// Room B's lines go through Redis too (one order per room on every
/// instance), but a stalled batch is noticed within `STALL_AFTER` (300
/// ms) and its lines, and every line queued behind it, are delivered here
/// at once: B never waits for the stall to end.
#[test]
fn a_paused_redis_stalls_no_other_room() {
    stall_scenario(pause, true);
}

#[test]
fn a_stopped_redis_blocks_no_claim_for_good_and_no_health_check() {
    stall_scenario(
        |redis| {
            let pid = redis_pid(redis.port);
            let stopped = Stopped::new(pid);
            // The stall ends after STALL, even if the scenario is still waiting.
            std::thread::spawn(move || {
                std::thread::sleep(STALL);
                // SAFETY: as in `Stopped`.
                unsafe { libc::kill(pid, libc::SIGCONT) };
            });
            stopped
        },
        false,
    );
}
