//! A class's real moments, against ours:
//!
//! - `bell`: `n` clients (300) join one room within one second, the room
//!   holding 100 lines of history, the store on (`--data-dir` in a fresh
//!   temporary directory): every one greeted; the time from connect to the
//!   presence line; the server's CPU per join.
//! - `bigroom`: `n` members (5,000) in one room, one member says a line:
//!   its round trip to the last member, p50 and p99 over the probes; and
//!   closed-loop fan-out at 1,000 and 5,000 members, ours and the peers'
//!   (`fanout_n1000`, `fanout_n5000`, with the fan-out scenario's figures).
//! - `lecture`: a teacher (by the key the server prints) says a line every
//!   5 s to 300 students while 30 of them chat at 1 line/s each, 60 s:
//!   delivery latency, the server's CPU.
//! - `store`: closed-loop fan-out with the store on against `--memory-only`,
//!   and with `--redis` (a `redis-server` started here) against without.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

use crate::fleet::{Fleet, Role};
use crate::report::{median, Run, Target};
use crate::scale_out::{self, Redis};
use crate::scenarios::{
    self, fill_history, joins, latency_rows, ms, pair_client, settle, start_server,
    start_server_with, stop_server, thread_room, Config, HISTORY,
};
use crate::ws::{Dialect, Stamp};

/// A temporary `--data-dir`, removed when dropped.
pub struct StoreDir(PathBuf);

impl StoreDir {
    pub fn new(what: &str) -> Result<StoreDir, String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("chat-bench-{what}-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(StoreDir(dir))
    }

    pub fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for StoreDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `p`th percentile (0-100) of `values`, nearest rank.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((v.len() as f64 * p / 100.0).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// One pupil at the bell: connect at `at`, read the history, the greeting
/// and the presence line. Returns the milliseconds from connect to the
/// presence line, the history lines read, and the connection (kept open
/// until everyone is in).
fn ring(addr: SocketAddr, at: Instant) -> Result<(f64, u32, WebSocket<TcpStream>), String> {
    if let Some(wait) = at.checked_duration_since(Instant::now()) {
        thread::sleep(wait);
    }
    let t = Instant::now();
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), stream)
        .map_err(|e| format!("handshake: {e}"))?;
    let (mut history, mut greeted) = (0, false);
    // Bounded: the history, the greeting, the presence line, and the
    // joins of those who came after.
    for _ in 0..100_000 {
        match ws.read() {
            Ok(Message::Text(line)) if line.starts_with(" .... you are ") => greeted = true,
            Ok(Message::Text(line)) if greeted && line.starts_with(" .... here now (") => {
                return Ok((t.elapsed().as_secs_f64() * 1e3, history, ws));
            }
            Ok(Message::Text(_)) if !greeted => history += 1,
            Ok(_) => {}
            Err(e) => return Err(format!("before the presence line: {e}")),
        }
    }
    Err("no presence line after 100,000 lines".into())
}

/// The bell: `cfg.bell.0` clients join one room within `cfg.bell.1`, the
/// room holding [`HISTORY`] lines, the store on.
pub fn bell(cfg: &Config) -> Run {
    let (n, within) = cfg.bell;
    let mut run = Run::default();
    let store = match StoreDir::new("bell") {
        Ok(s) => s,
        Err(e) => {
            run.fail(e);
            return run;
        }
    };
    let dir = store.arg();
    let Some(server) = start_server_with(&mut run, &cfg.ours(), &["--data-dir", &dir]) else {
        return run;
    };
    let speaker = match fill_history(server.chat, "/", HISTORY) {
        Ok(ws) => ws,
        Err(e) => {
            run.fail(e);
            stop_server(&mut run, server);
            return run;
        }
    };
    // Let the store write the history before the bell.
    thread::sleep(Duration::from_millis(500));
    let cpu0 = server.cpu_seconds();
    let start = Instant::now() + Duration::from_millis(100);
    let pupils: Vec<_> = (0..n)
        .map(|i| {
            let at = start + within.mul_f64(i as f64 / n as f64);
            let addr = server.chat;
            thread::Builder::new()
                .name(format!("pupil-{i}"))
                .stack_size(256 * 1024)
                .spawn(move || ring(addr, at))
        })
        .collect();
    let mut times = Vec::with_capacity(n);
    let mut lines = 0u64;
    let mut kept = Vec::with_capacity(n);
    let mut failed = Vec::new();
    for pupil in pupils {
        match pupil.map_err(|e| e.to_string()).and_then(|h| {
            h.join()
                .unwrap_or_else(|_| Err("pupil thread panicked".into()))
        }) {
            Ok((t, history, ws)) => {
                times.push(t);
                lines += u64::from(history);
                kept.push(ws);
            }
            Err(e) => failed.push(e),
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu1 = server.cpu_seconds();
    let greeted = times.len();
    run.put_target(
        "bell.greeted",
        &format!("{n} joins within {:.1} s: greeted", within.as_secs_f64()),
        "",
        greeted as f64,
        Some(Target::AtLeast(n as f64)),
    );
    run.put(
        "bell.p50",
        "bell: connect to presence line p50",
        "ms",
        median(&times),
    );
    run.put(
        "bell.p99",
        "bell: connect to presence line p99",
        "ms",
        percentile(&times, 99.0),
    );
    run.put(
        "bell.max",
        "bell: connect to presence line max",
        "ms",
        percentile(&times, 100.0),
    );
    run.put(
        "bell.history_lines",
        "bell: history lines per join",
        "",
        lines as f64 / greeted.max(1) as f64,
    );
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put(
            "bell.server_cpu_per_join",
            "bell: server CPU per join",
            "us",
            (c1 - c0) * 1e6 / greeted.max(1) as f64,
        );
    }
    run.put(
        "bell.duration",
        "bell: first connect to last greeted",
        "s",
        wall,
    );
    if !failed.is_empty() {
        failed.dedup();
        run.fail(format!(
            "{} of {n} not greeted: {}",
            failed.len(),
            failed
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    eprintln!(
        "    bell: {greeted}/{n} greeted, p50 {:.1} ms, p99 {:.1} ms, {:.0} history lines each",
        median(&times),
        percentile(&times, 99.0),
        lines as f64 / greeted.max(1) as f64
    );
    drop(kept);
    drop(speaker);
    stop_server(&mut run, server);
    drop(store);
    run
}

/// The big room: `n - 1` idle members and one that says `cfg.probes`
/// lines, one at a time: each line's time from its send to its receipt by
/// the last member (and by the median member).
pub fn big_room(cfg: &Config, n: usize) -> Run {
    let mut run = Run::default();
    if let Err(e) = thread_room(n) {
        run.fail(e);
        return run;
    }
    let Some(server) = start_server(&mut run, &cfg.ours()) else {
        return run;
    };
    let base = Instant::now();
    // One sender index (0): the speaker, outside the fleet.
    let mut fleet = Fleet::new(server.chat, Dialect::Chat, cfg.workers, 1, base);
    let members = n.saturating_sub(1).max(1);
    fleet.connect(members, Role::Idle);
    if let Err(e) = settle(
        &fleet,
        &server,
        members,
        joins(0, members),
        cfg.idle_join_limit,
    ) {
        run.fail(format!("{members} members: {e}"));
        drop(fleet);
        stop_server(&mut run, server);
        return run;
    }
    let mut speaker = match pair_client(server.chat, Dialect::Chat) {
        Ok(ws) => ws,
        Err(e) => {
            run.fail(e);
            drop(fleet);
            stop_server(&mut run, server);
            return run;
        }
    };
    // Everyone has heard the speaker join.
    thread::sleep(Duration::from_millis(500));
    let (mut last, mut middle) = (Vec::new(), Vec::new());
    let _ = fleet.report(true);
    for seq in 0..cfg.probes as u32 {
        let before = fleet.shared.deliveries.load(Ordering::Acquire);
        let stamp = Stamp {
            sender: 0,
            seq,
            sent_ns: fleet.now_ns(),
        };
        let text = String::from_utf8_lossy(&stamp.write()).into_owned();
        if let Err(e) = speaker.send(Message::text(text)) {
            run.fail(format!("speaker: {e}"));
            break;
        }
        let target = before + members as u64;
        let waited = fleet.wait(
            "a line to every member",
            Duration::from_secs(30),
            Duration::from_secs(10),
            |s| s.deliveries.load(Ordering::Acquire) >= target,
            |s| s.deliveries.load(Ordering::Acquire),
        );
        if let Err(e) = waited {
            run.fail(e);
            break;
        }
        let r = fleet.report(true);
        last.push(ms(r.delivery.max()));
        middle.push(ms(r.delivery.quantile(0.5)));
        // The speaker reads its own line and anything else, so its socket
        // never fills.
        let _ = speaker.get_ref().set_nonblocking(true);
        while speaker.read().is_ok() {}
        let _ = speaker.get_ref().set_nonblocking(false);
        thread::sleep(Duration::from_millis(100));
    }
    let p = format!("bigroom_{n}");
    run.put(
        &format!("{p}.last_member_p50"),
        &format!("{n} in one room: a line to the last member p50"),
        "ms",
        median(&last),
    );
    run.put_target(
        &format!("{p}.last_member_p99"),
        &format!("{n} in one room: a line to the last member p99"),
        "ms",
        percentile(&last, 99.0),
        Some(Target::Below(10.0)),
    );
    run.put(
        &format!("{p}.median_member_p50"),
        &format!("{n} in one room: a line to the median member p50"),
        "ms",
        median(&middle),
    );
    eprintln!(
        "    {n} in one room: last member p50 {:.2} ms, p99 {:.2} ms over {} lines",
        median(&last),
        percentile(&last, 99.0),
        last.len()
    );
    drop(speaker);
    let r = fleet.stop();
    if r.gaps > 0 || r.dups > 0 {
        run.fail(format!("{} lost, {} duplicated", r.gaps, r.dups));
    }
    stop_server(&mut run, server);
    run
}

/// A lecture: a teacher says a line every `every` to `students` while
/// `chatters` of them say a line a second each, for `secs`.
pub fn lecture(cfg: &Config) -> Run {
    let (students, chatters, secs, every) = cfg.lecture;
    let chatters = chatters.min(students);
    let mut run = Run::default();
    let Some(server) = start_server(&mut run, &cfg.ours()) else {
        return run;
    };
    let key = server.log.teacher_key();
    let teacher = key
        .ok_or_else(|| "the server printed no teacher key".to_string())
        .and_then(|key| {
            let mut ws = pair_client(server.chat, Dialect::Chat)?;
            ws.send(Message::text(format!("/teacher {key}")))
                .map_err(|e| format!("teacher: {e}"))?;
            Ok(ws)
        });
    let mut teacher = match teacher {
        Ok(ws) => ws,
        Err(e) => {
            run.fail(e);
            stop_server(&mut run, server);
            return run;
        }
    };
    let base = Instant::now();
    // Sender indices: the chatters 0..chatters, the teacher `chatters`.
    let mut fleet = Fleet::new(server.chat, Dialect::Chat, cfg.workers, chatters + 1, base);
    fleet.connect(
        chatters,
        Role::Paced {
            count: secs,
            interval: Duration::from_secs(1),
            spread: chatters as u32,
        },
    );
    fleet.connect(students - chatters, Role::Idle);
    if let Err(e) = settle(
        &fleet,
        &server,
        students,
        joins(0, students),
        Duration::from_secs(120),
    ) {
        run.fail(e);
        drop(fleet);
        stop_server(&mut run, server);
        return run;
    }
    let teacher_lines = (secs as f64 / every.as_secs_f64()).floor() as u32;
    let total = students as u64 * (u64::from(secs) * chatters as u64 + u64::from(teacher_lines));
    let cpu0 = server.cpu_seconds();
    let t0 = fleet.start();
    let _ = teacher
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(20)));
    let start = Instant::now();
    for seq in 0..teacher_lines {
        let at = start + every.mul_f64(f64::from(seq) + 0.5);
        // Read what the room says meanwhile (30 lines a second).
        while Instant::now() < at {
            let _ = teacher.read();
        }
        let stamp = Stamp {
            sender: chatters as u32,
            seq,
            sent_ns: fleet.now_ns(),
        };
        let text = String::from_utf8_lossy(&stamp.write()).into_owned();
        if let Err(e) = teacher.send(Message::text(text)) {
            run.fail(format!("teacher: {e}"));
            break;
        }
    }
    let waited = fleet.wait(
        "lecture",
        Duration::from_secs(u64::from(secs) + 30),
        Duration::from_secs(10),
        |s| s.deliveries.load(Ordering::Acquire) >= total,
        |s| s.deliveries.load(Ordering::Acquire),
    );
    let cpu1 = server.cpu_seconds();
    let wall = (fleet.now_ns() - t0) as f64 / 1e9;
    let r = fleet.stop();
    if let Err(e) = waited {
        run.fail(e);
    }
    let p = "lecture";
    latency_rows(&mut run, p, &r);
    run.put(
        &format!("{p}.deliveries"),
        "deliveries",
        "",
        r.deliveries as f64,
    );
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put(
            &format!("{p}.server_cores"),
            "server CPU use",
            "cores",
            (c1 - c0) / wall.max(1e-9),
        );
        run.put(
            &format!("{p}.server_cpu_per_delivery"),
            "server CPU per delivery",
            "us",
            (c1 - c0) * 1e6 / (r.deliveries as f64).max(1.0),
        );
    }
    let lost = r.lost();
    if lost > 0 || r.dups > 0 || r.deliveries < total {
        run.fail(format!(
            "{} of {total} deliveries, {lost} lost, {} duplicated",
            r.deliveries, r.dups
        ));
    }
    eprintln!(
        "    lecture: p50 {:.2} ms, p99 {:.2} ms, {} deliveries",
        ms(r.delivery.quantile(0.5)),
        ms(r.delivery.quantile(0.99)),
        r.deliveries
    );
    drop(teacher);
    stop_server(&mut run, server);
    run
}

/// Which store a fan-out run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    MemoryOnly,
    /// `--data-dir` in a fresh temporary directory.
    Sqlite,
    /// `--memory-only --redis URL` (one instance, a `redis-server` here).
    Redis,
}

impl Store {
    pub const ALL: [Store; 3] = [Store::MemoryOnly, Store::Sqlite, Store::Redis];

    pub fn key(self) -> &'static str {
        match self {
            Store::MemoryOnly => "memory_only",
            Store::Sqlite => "data_dir",
            Store::Redis => "redis",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Store::MemoryOnly => "--memory-only",
            Store::Sqlite => "--data-dir (the store on)",
            Store::Redis => "--memory-only --redis (one instance)",
        }
    }
}

/// Closed-loop fan-out, `n` clients x `count` lines, against ours started
/// with `store`: figures keyed `store_{key}.*`.
pub fn store_fanout(cfg: &Config, store: Store, n: usize, count: u32) -> Run {
    let prefix = format!("store_{}", store.key());
    match store {
        Store::MemoryOnly => {
            scenarios::fanout_with(cfg, &cfg.ours(), n, count, 1, &prefix, &["--memory-only"])
        }
        Store::Sqlite => match StoreDir::new("store") {
            Ok(dir) => {
                let arg = dir.arg();
                scenarios::fanout_with(
                    cfg,
                    &cfg.ours(),
                    n,
                    count,
                    1,
                    &prefix,
                    &["--data-dir", &arg],
                )
            }
            Err(e) => {
                let mut run = Run::default();
                run.fail(e);
                run
            }
        },
        Store::Redis => {
            match Redis::start() {
                Ok(Some(redis)) => scenarios::fanout_with(
                    cfg,
                    &cfg.ours(),
                    n,
                    count,
                    1,
                    &prefix,
                    &["--memory-only", "--redis", &redis.url],
                ),
                Ok(None) => {
                    let mut run = Run::default();
                    run.note("redis-server is not installed (apt-get install redis-server): no --redis row");
                    run
                }
                Err(e) => {
                    let mut run = Run::default();
                    run.fail(e);
                    run
                }
            }
        }
    }
}

/// Whether `redis-server` can be started here (for the titles).
pub fn has_redis() -> bool {
    scale_out::has_redis()
}
