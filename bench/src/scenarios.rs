//! The five scenarios. Each function is one run against a fresh server and
//! returns its figures; a failure (loss, timeout, refused clients) is
//! recorded in the run, never a panic, so the next scenario still runs.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

use crate::fleet::{Fleet, Report, Role};
use crate::memory;
use crate::report::{median, Run, Target};
use crate::server::{self, Launch, ServerProc};
use crate::ws::{self, Dialect, Stamp};

/// `--max-clients` for every server we start.
pub(crate) const MAX_CLIENTS: usize = 20_000;
/// Closed-loop window: a client's own messages in flight at most.
pub(crate) const WINDOW: u32 = 8;
/// The sender index of the idle scenario's probing pair (not a fleet sender).
const PROBE_SENDER: u32 = 999_999;

/// What to run and how big, from the environment.
pub struct Config {
    pub bin: PathBuf,
    pub quick: bool,
    pub runs: usize,
    pub workers: usize,
    /// (clients, messages per client) for each closed-loop fan-out.
    pub fanout: Vec<(usize, u32)>,
    /// The same for the peers (same clients, fewer messages).
    pub peer_fanout: Vec<(usize, u32)>,
    /// Paced fan-out: clients, messages per second each, seconds.
    pub paced: (usize, u32, u32),
    pub idle_steps: Vec<usize>,
    pub probes: usize,
    pub capacity_steps: Vec<usize>,
    pub capacity_senders: usize,
    pub capacity_rate: u32,
    pub capacity_window: Duration,
    /// How long one step's clients may take to connect and be announced to
    /// everyone, in the idle and the capacity scenarios.
    pub idle_join_limit: Duration,
    pub capacity_join_limit: Duration,
    /// Server starts for the readiness figure.
    pub starts: usize,
    /// Joins into each room of the history scenario.
    pub joins: usize,
    /// The rooms scenario's fan-out: clients, rooms, messages each.
    pub rooms: (usize, u32, u32),
    /// The scale-out row: clients (split evenly over two
    /// instances), closed-loop messages each, paced messages/s each (for
    /// `paced`'s seconds). `BENCH_SCALE_OUT=200:500`.
    pub scale_out: (usize, u32, u32),
    /// The bell: clients joining one room with history, and within how
    /// long (`BENCH_BELL=300`).
    pub bell: (usize, Duration),
    /// The big room's sizes for the round trip to the last member
    /// (`BENCH_BIG_ROOM=5000`).
    pub big_room: Vec<usize>,
    /// The big room's closed-loop fan-out, ours and the peers'
    /// (`BENCH_BIG_FANOUT=1000:20,5000:2`, `BENCH_PEER_BIG_FANOUT`).
    pub big_fanout: Vec<(usize, u32)>,
    pub peer_big_fanout: Vec<(usize, u32)>,
    /// The lecture: students, chatters among them (1 line/s each),
    /// seconds, and a teacher line every so often
    /// (`BENCH_LECTURE=300:30:60`).
    pub lecture: (usize, usize, u32, Duration),
    /// Fan-out with each store (`BENCH_STORE_FANOUT=200:500`).
    pub store_fanout: (usize, u32),
    /// Only these scenarios (`BENCH_ONLY` or arguments); all if empty.
    pub only: Vec<String>,
    /// Peer servers run through the same fan-out, paced and idle scenarios
    /// (`BENCH_PEERS`; all three by default).
    pub peers: Vec<Launch>,
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn env_list(name: &str) -> Option<Vec<usize>> {
    let v = std::env::var(name).ok()?;
    v.split(',').map(|s| s.trim().parse().ok()).collect()
}

impl Config {
    /// Defaults, or the quick smoke run with `BENCH_QUICK=1`; each size can
    /// be overridden (see the README's Performance section).
    pub fn from_env(args: &[String]) -> Config {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        let sizes =
            |var: &str, small: &[(usize, u32)], full: &[(usize, u32)]| match std::env::var(var) {
                // "50:200,200:50": clients:messages each
                Ok(v) => v
                    .split(',')
                    .filter_map(|p| {
                        let (n, c) = p.split_once(':')?;
                        Some((n.trim().parse().ok()?, c.trim().parse().ok()?))
                    })
                    .collect(),
                Err(_) if quick => small.to_vec(),
                Err(_) => full.to_vec(),
            };
        let fanout = sizes(
            "BENCH_FANOUT",
            &[(50, 400), (200, 30)],
            &[(50, 5000), (200, 500)],
        );
        let peer_fanout = sizes(
            "BENCH_PEER_FANOUT",
            &[(50, 40), (200, 5)],
            &[(50, 500), (200, 50)],
        );
        let mut only: Vec<String> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .cloned()
            .collect();
        if let Ok(v) = std::env::var("BENCH_ONLY") {
            only.extend(v.split(',').map(|s| s.trim().to_string()));
        }
        Config {
            bin: server::binary(),
            quick,
            runs: env_num("BENCH_RUNS")
                .unwrap_or(if quick { 1 } else { 3 })
                .max(1),
            workers: env_num("BENCH_WORKERS").unwrap_or(cores.min(4)).max(1),
            fanout,
            peer_fanout,
            paced: (
                50,
                10,
                env_num("BENCH_PACED_SECS").unwrap_or(if quick { 3 } else { 10 }),
            ),
            idle_steps: env_list("BENCH_IDLE").unwrap_or(if quick {
                vec![200, 1000]
            } else {
                vec![1000, 5000]
            }),
            probes: if quick { 5 } else { 20 },
            capacity_steps: env_list("BENCH_STEPS").unwrap_or(if quick {
                vec![500, 1000]
            } else {
                vec![1000, 2000, 5000, 10000, 15000]
            }),
            capacity_senders: 4,
            capacity_rate: 4,
            capacity_window: Duration::from_secs(
                env_num("BENCH_WINDOW_SECS").unwrap_or(if quick { 2 } else { 5 }),
            ),
            idle_join_limit: Duration::from_secs(env_num("BENCH_JOIN_LIMIT").unwrap_or(600)),
            capacity_join_limit: Duration::from_secs(env_num("BENCH_JOIN_LIMIT").unwrap_or(180)),
            starts: env_num("BENCH_STARTS")
                .unwrap_or(if quick { 3 } else { 7 })
                .max(3),
            joins: if quick { 30 } else { 200 },
            rooms: (200, 10, if quick { 30 } else { 2500 }),
            scale_out: {
                let (n, count) = sizes("BENCH_SCALE_OUT", &[(200, 30)], &[(200, 500)])
                    .first()
                    .copied()
                    .unwrap_or((200, 500));
                // 1 message/s each: 200 clients make 40,000 deliveries/s,
                // far below capacity like `paced`'s 50 x 10.
                (n.max(2), count, 1)
            },
            bell: (
                env_num("BENCH_BELL").unwrap_or(if quick { 100 } else { 300 }),
                Duration::from_secs(1),
            ),
            big_room: env_list("BENCH_BIG_ROOM").unwrap_or(if quick {
                vec![1000]
            } else {
                vec![5000]
            }),
            big_fanout: sizes("BENCH_BIG_FANOUT", &[(1000, 2)], &[(1000, 20), (5000, 2)]),
            peer_big_fanout: sizes(
                "BENCH_PEER_BIG_FANOUT",
                &[(1000, 1)],
                &[(1000, 2), (5000, 1)],
            ),
            lecture: {
                let parts: Vec<u32> = std::env::var("BENCH_LECTURE")
                    .ok()
                    .map(|v| v.split(':').filter_map(|p| p.trim().parse().ok()).collect())
                    .unwrap_or_default();
                let at = |i: usize, full: u32, small: u32| {
                    parts
                        .get(i)
                        .copied()
                        .unwrap_or(if quick { small } else { full })
                };
                (
                    at(0, 300, 100) as usize,
                    at(1, 30, 10) as usize,
                    at(2, 60, 10).max(1),
                    Duration::from_secs(5),
                )
            },
            store_fanout: sizes("BENCH_STORE_FANOUT", &[(200, 30)], &[(200, 500)])
                .first()
                .copied()
                .unwrap_or((200, 500)),
            only,
            peers: peers_from_env(),
        }
    }

    /// Our server.
    pub fn ours(&self) -> Launch {
        Launch::ours(self.bin.clone())
    }

    pub fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| scenario.starts_with(o.as_str()))
    }
}

/// The peers `bench/peers/setup.sh` builds, and how each talks: the
/// tokio-tungstenite example relays to everyone but the sender; the `ws` and
/// `websockets` examples to everyone.
pub const PEERS: [(&str, Dialect); 3] = [
    ("tokio", Dialect::Relay { echoes: false }),
    ("node", Dialect::Relay { echoes: true }),
    ("python", Dialect::Relay { echoes: true }),
];

/// Where `bench/peers/setup.sh` put the launchers: `BENCH_PEERS_DIR`, else
/// `peers/` in the target directory this program was built in.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BENCH_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("peers")))
        .unwrap_or_else(|| PathBuf::from("target/peers"))
}

/// `BENCH_PEERS=tokio,node` (some of [`PEERS`]; `none` for none; all by
/// default), or `name=/path/to/launcher` for a launcher elsewhere.
fn peers_from_env() -> Vec<Launch> {
    let list = std::env::var("BENCH_PEERS").unwrap_or_else(|_| "tokio,node,python".into());
    let dir = peers_dir();
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && *p != "none")
        .filter_map(|p| {
            let (name, path) = match p.split_once('=') {
                Some((name, path)) => (name.trim(), PathBuf::from(path.trim())),
                None => (p, dir.join(p)),
            };
            let Some(&(_, dialect)) = PEERS.iter().find(|(n, _)| *n == name) else {
                eprintln!("load: unknown peer {name:?} ignored (known: tokio, node, python)");
                return None;
            };
            Some(Launch {
                name: name.to_string(),
                path,
                dialect,
            })
        })
        .collect()
}

pub(crate) fn ms(ns: Option<u64>) -> f64 {
    ns.map_or(f64::NAN, |ns| ns as f64 / 1e6)
}

/// Σ m for m in from..to: the join notices when members go from `from` to
/// `to` one join at a time (each newcomer is announced to everyone there).
pub(crate) fn joins(from: usize, to: usize) -> u64 {
    let (a, b) = (from as u64, to as u64);
    (b * b.saturating_sub(1) - a * a.saturating_sub(1)) / 2
}

/// Wait until `target` clients have joined; fail on any refused connection.
pub(crate) fn wait_joined(fleet: &Fleet, target: usize, limit: Duration) -> Result<(), String> {
    fleet
        .wait(
            "clients joining",
            limit,
            Duration::from_secs(20),
            |s| s.joined.load(Ordering::Acquire) >= target || s.failed.load(Ordering::Acquire) > 0,
            |s| s.joined.load(Ordering::Acquire) as u64,
        )
        .map_err(|e| format!("{e} of {target}"))?;
    let failed = fleet.shared.failed.load(Ordering::Acquire);
    if failed > 0 {
        // Give the rest a moment, so the count says how many, not just one.
        thread::sleep(Duration::from_millis(500));
        let failed = fleet.shared.failed.load(Ordering::Acquire);
        return Err(format!(
            "{failed} connection(s) failed: {}",
            fleet.shared.reasons()
        ));
    }
    Ok(())
}

/// Wait until `target` clients are in the server's broadcast set: for ours,
/// joined and every join notice (`notices` in all) read; for a relaying
/// peer, past the handshake and each one has heard the beacon.
pub(crate) fn settle(
    fleet: &Fleet,
    server: &ServerProc,
    target: usize,
    notices: u64,
    limit: Duration,
) -> Result<(), String> {
    let t = Instant::now();
    if server.dialect.greets() {
        wait_joined(fleet, target, limit)?;
        return wait_notices(fleet, notices, limit.saturating_sub(t.elapsed()));
    }
    fleet
        .wait(
            "handshakes",
            limit,
            Duration::from_secs(20),
            |s| s.open.load(Ordering::Acquire) >= target || s.failed.load(Ordering::Acquire) > 0,
            |s| s.open.load(Ordering::Acquire) as u64,
        )
        .map_err(|e| format!("{e} of {target}"))?;
    let failed = fleet.shared.failed.load(Ordering::Acquire);
    if failed > 0 {
        return Err(format!(
            "{failed} connection(s) failed: {}",
            fleet.shared.reasons()
        ));
    }
    beacon(
        fleet,
        server.chat,
        target,
        limit.saturating_sub(t.elapsed()),
    )
}

/// Send [`ws::HELLO`] from an extra client every 20 ms until `target` fleet
/// clients have heard it, then drop that client without a close frame (an
/// example that relays what it reads would pass a close frame on to all).
fn beacon(fleet: &Fleet, addr: SocketAddr, target: usize, limit: Duration) -> Result<(), String> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("beacon connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), stream)
        .map_err(|e| format!("beacon handshake: {e}"))?;
    let hello = String::from_utf8_lossy(ws::HELLO).into_owned();
    let deadline = Instant::now() + limit;
    while fleet.shared.joined.load(Ordering::Acquire) < target {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {target} clients heard the beacon within {:.0} s",
                fleet.shared.joined.load(Ordering::Acquire),
                limit.as_secs_f64()
            ));
        }
        ws.send(Message::text(hello.clone()))
            .map_err(|e| format!("beacon send: {e}"))?;
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Wait until every join has been announced to everyone (the join storm is
/// over and the server's queues are empty again).
pub(crate) fn wait_notices(fleet: &Fleet, target: u64, limit: Duration) -> Result<(), String> {
    fleet
        .wait(
            "join announcements",
            limit,
            Duration::from_secs(20),
            |s| s.join_notices.load(Ordering::Acquire) >= target,
            |s| s.join_notices.load(Ordering::Acquire),
        )
        .map_err(|e| format!("{e} of {target} expected"))
}

pub(crate) fn dropped(fleet: &Fleet) -> usize {
    fleet.shared.dropped.load(Ordering::Acquire)
}

pub(crate) fn start_server(run: &mut Run, what: &Launch) -> Option<ServerProc> {
    start_server_with(run, what, &[])
}

/// [`start_server`], with more arguments for ours (`--data-dir DIR`,
/// `--redis URL`; see [`ServerProc::start_with`]).
pub(crate) fn start_server_with(
    run: &mut Run,
    what: &Launch,
    extra: &[&str],
) -> Option<ServerProc> {
    let started = if what.is_ours() {
        ServerProc::start_with(&what.path, MAX_CLIENTS, extra)
    } else {
        ServerProc::launch(what, MAX_CLIENTS)
    };
    match started {
        Ok(s) => {
            eprintln!("    {} pid {} at ws://{}/", what.name, s.pid, s.chat);
            Some(s)
        }
        Err(e) => {
            run.fail(e);
            None
        }
    }
}

pub(crate) fn stop_server(run: &mut Run, server: ServerProc) {
    let log = server.log.clone();
    if let Err(e) = server.stop() {
        run.fail(e);
    }
    let warnings = log.warnings.load(Ordering::Relaxed);
    if warnings > 0 {
        run.note(format!(
            "server log: {warnings} WARN/ERROR line(s), last: {}",
            log.last_warnings().join(" | ")
        ));
    }
    let slow = log.slow_drops.load(Ordering::Relaxed);
    if slow > 0 {
        run.note(format!(
            "server log: {slow} client(s) dropped for a full outbox"
        ));
    }
}

/// Scenario 1: closed-loop fan-out, against ours or a peer. A peer that
/// does not echo owes each line to every client but its sender.
pub fn fanout(cfg: &Config, what: &Launch, n: usize, count: u32) -> Run {
    fanout_in_rooms(cfg, what, n, count, 1, &format!("fanout_n{n}"))
}

/// Scenario 1 with the `n` clients spread over `rooms` rooms (`n` a multiple of `rooms`); its figures are keyed `prefix.*`.
pub fn fanout_in_rooms(
    cfg: &Config,
    what: &Launch,
    n: usize,
    count: u32,
    rooms: u32,
    prefix: &str,
) -> Run {
    fanout_with(cfg, what, n, count, rooms, prefix, &[])
}

/// [`fanout_in_rooms`] against a server started with `extra` arguments
/// (ours only: `--data-dir DIR`, `--redis URL`).
pub(crate) fn fanout_with(
    cfg: &Config,
    what: &Launch,
    n: usize,
    count: u32,
    rooms: u32,
    prefix: &str,
    extra: &[&str],
) -> Run {
    let mut run = Run::default();
    let Some(server) = start_server_with(&mut run, what, extra) else {
        return run;
    };
    let mut fleet = Fleet::new(server.chat, server.dialect, cfg.workers, n, Instant::now());
    let rooms = rooms.max(1);
    let per_room = n / rooms as usize;
    fleet.spread_over_rooms(rooms);
    fleet.connect(
        n,
        Role::ClosedLoop {
            count,
            window: WINDOW,
        },
    );
    let notices = joins(0, per_room) * u64::from(rooms);
    let ready = settle(&fleet, &server, n, notices, Duration::from_secs(60));
    if let Err(e) = ready {
        run.fail(e);
        drop(fleet);
        stop_server(&mut run, server);
        return run;
    }
    let total = receivers(server.dialect, per_room) * n as u64 * u64::from(count);
    let cpu0 = server.cpu_seconds();
    let me0 = server::self_cpu_seconds();
    let t0 = fleet.start();
    // Done when every line has arrived, or, if the server dropped clients,
    // when every sender still there has had all its own lines back.
    let waited = fleet.wait(
        "fan-out",
        Duration::from_secs(300),
        Duration::from_secs(10),
        |s| {
            let dropped = s.dropped.load(Ordering::Acquire);
            s.deliveries.load(Ordering::Acquire) >= total
                || (dropped > 0 && s.senders_done.load(Ordering::Acquire) + dropped >= n)
        },
        |s| s.deliveries.load(Ordering::Acquire),
    );
    if dropped(&fleet) > 0 {
        // The senders are done; let the others read their last lines.
        let _ = fleet.wait(
            "fan-out tail",
            Duration::from_secs(10),
            Duration::from_millis(300),
            |s| s.deliveries.load(Ordering::Acquire) >= total,
            |s| s.deliveries.load(Ordering::Acquire),
        );
    }
    let cpu1 = server.cpu_seconds();
    let me1 = server::self_cpu_seconds();
    let wall = (fleet.now_ns() - t0) as f64 / 1e9;
    let drops = dropped(&fleet);
    let r = fleet.stop();
    if let Err(e) = waited {
        run.fail(e);
    }
    let secs = if r.last_delivery_ns > t0 {
        (r.last_delivery_ns - t0) as f64 / 1e9
    } else {
        wall
    };
    let deliveries = r.deliveries as f64;
    let p = prefix;
    run.put_target(
        &format!("{p}.deliveries_per_s"),
        "deliveries/s",
        "1/s",
        deliveries / secs,
        // The target is for one room (DESIGN); rooms are measured, not judged.
        (rooms == 1).then_some(Target::AtLeast(3.5e6)),
    );
    // Rooms deliver each message to their own members only: messages/s is
    // the figure that compares 10 rooms of 20 with one room of 200.
    run.put(
        &format!("{p}.messages_per_s"),
        "messages/s (each delivered to its room)",
        "1/s",
        deliveries / secs / receivers(server.dialect, per_room).max(1) as f64,
    );
    latency_rows(&mut run, p, &r);
    let lost = r.lost();
    run.put_target(
        &format!("{p}.lost"),
        "lost",
        "lines",
        lost as f64,
        Some(Target::AtMost(0.0)),
    );
    run.put_target(
        &format!("{p}.duplicated"),
        "duplicated",
        "lines",
        r.dups as f64,
        Some(Target::AtMost(0.0)),
    );
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put_target(
            &format!("{p}.server_cpu_per_delivery"),
            "server CPU per delivery",
            "us",
            (c1 - c0) * 1e6 / deliveries.max(1.0),
            Some(Target::Below(0.3)),
        );
    }
    run.put(
        &format!("{p}.loadgen_cpu_per_delivery"),
        "load generator CPU per delivery",
        "us",
        (me1 - me0) * 1e6 / deliveries.max(1.0),
    );
    // Who set the pace: cores each side kept busy over the run.
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put(
            &format!("{p}.server_cores"),
            "server CPU use",
            "cores",
            (c1 - c0) / wall.max(1e-9),
        );
    }
    run.put(
        &format!("{p}.loadgen_cores"),
        "load generator CPU use",
        "cores",
        (me1 - me0) / wall.max(1e-9),
    );
    run.put(&format!("{p}.duration"), "duration", "s", secs);
    if lost > 0 || r.dups > 0 || drops > 0 {
        run.fail(format!(
            "{lost} lost, {} duplicated, {drops} client(s) dropped of {total} expected deliveries ({})",
            r.dups,
            fleet_reasons_or(&r)
        ));
    }
    stop_server(&mut run, server);
    eprintln!(
        "    {:.0} deliveries/s, p99 {:.2} ms, lost {lost}",
        deliveries / secs,
        ms(r.delivery.quantile(0.99))
    );
    run
}

/// How many clients of `n` receive each line.
pub(crate) fn receivers(dialect: Dialect, n: usize) -> u64 {
    if dialect.echoes() {
        n as u64
    } else {
        n.saturating_sub(1) as u64
    }
}

pub(crate) fn fleet_reasons_or(r: &Report) -> String {
    format!(
        "{} gaps, {} unexpected lines, {} slow-down notices",
        r.gaps, r.unexpected, r.slow_downs
    )
}

pub(crate) fn latency_rows(run: &mut Run, p: &str, r: &Report) {
    run.put(
        &format!("{p}.p50"),
        "latency p50",
        "ms",
        ms(r.delivery.quantile(0.5)),
    );
    run.put(
        &format!("{p}.p99"),
        "latency p99",
        "ms",
        ms(r.delivery.quantile(0.99)),
    );
    run.put(
        &format!("{p}.max"),
        "latency max",
        "ms",
        ms(r.delivery.max()),
    );
}

/// Scenario 2: paced fan-out, against ours or a peer.
pub fn paced(cfg: &Config, what: &Launch) -> Run {
    let (n, rate, secs) = cfg.paced;
    let mut run = Run::default();
    let Some(server) = start_server(&mut run, what) else {
        return run;
    };
    let count = rate * secs;
    let mut fleet = Fleet::new(server.chat, server.dialect, cfg.workers, n, Instant::now());
    fleet.connect(
        n,
        Role::Paced {
            count,
            interval: Duration::from_secs(1) / rate,
            spread: n as u32,
        },
    );
    let ready = settle(&fleet, &server, n, joins(0, n), Duration::from_secs(60));
    if let Err(e) = ready {
        run.fail(e);
        drop(fleet);
        stop_server(&mut run, server);
        return run;
    }
    let total = receivers(server.dialect, n) * n as u64 * u64::from(count);
    let cpu0 = server.cpu_seconds();
    let t0 = fleet.start();
    let waited = fleet.wait(
        "paced fan-out",
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
    run.latency = Some(r.delivery.clone());
    let p = "paced";
    run.put(
        &format!("{p}.p50"),
        "latency p50",
        "ms",
        ms(r.delivery.quantile(0.5)),
    );
    run.put_target(
        &format!("{p}.p99"),
        "latency p99",
        "ms",
        ms(r.delivery.quantile(0.99)),
        Some(Target::Below(2.0)),
    );
    run.put(
        &format!("{p}.max"),
        "latency max",
        "ms",
        ms(r.delivery.max()),
    );
    run.put(
        &format!("{p}.deliveries_per_s"),
        "deliveries/s",
        "1/s",
        r.deliveries as f64 / wall,
    );
    let lost = r.lost();
    run.put_target(
        &format!("{p}.lost"),
        "lost",
        "lines",
        lost as f64,
        Some(Target::AtMost(0.0)),
    );
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put(
            &format!("{p}.server_cpu_per_delivery"),
            "server CPU per delivery",
            "us",
            (c1 - c0) * 1e6 / (r.deliveries as f64).max(1.0),
        );
    }
    if lost > 0 || r.dups > 0 {
        run.fail(format!(
            "{lost} lost, {} duplicated ({})",
            r.dups,
            fleet_reasons_or(&r)
        ));
    }
    stop_server(&mut run, server);
    eprintln!(
        "    p50 {:.2} ms, p99 {:.2} ms, lost {lost}",
        ms(r.delivery.quantile(0.5)),
        ms(r.delivery.quantile(0.99))
    );
    run
}

/// A blocking tungstenite client for the idle scenario's probing pair; with
/// ours, once greeted.
pub(crate) fn pair_client(
    addr: SocketAddr,
    dialect: Dialect,
) -> Result<WebSocket<TcpStream>, String> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("pair connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), stream)
        .map_err(|e| format!("pair handshake: {e}"))?;
    if !dialect.greets() {
        return Ok(ws);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(t)) if t.starts_with(" .... you are ") => return Ok(ws),
            Ok(_) => {}
            Err(e) => return Err(format!("pair greeting: {e}")),
        }
    }
    Err("pair greeting: timed out".into())
}

/// Read until the probe `seq` arrives; return when (ns since `base`).
fn await_probe(ws: &mut WebSocket<TcpStream>, seq: u32, base: Instant) -> Result<u64, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(t)) => {
                if let Some(s) = Stamp::from_line(t.as_bytes()) {
                    if s.sender == PROBE_SENDER && s.seq == seq {
                        return Ok(base.elapsed().as_nanos() as u64);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => return Err(format!("probe read: {e}")),
        }
    }
    Err("probe: timed out".into())
}

/// A relaying peer: A sends [`ws::HELLO`] until B hears one, so both are
/// in the broadcast set (at most 5 s).
fn pair_hello(a: &mut WebSocket<TcpStream>, b: &mut WebSocket<TcpStream>) -> Result<(), String> {
    let hello = String::from_utf8_lossy(ws::HELLO).into_owned();
    let set_timeout = |ws: &WebSocket<TcpStream>, t: Duration| {
        ws.get_ref()
            .set_read_timeout(Some(t))
            .map_err(|e| e.to_string())
    };
    set_timeout(b, Duration::from_millis(50))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let heard = loop {
        if Instant::now() > deadline {
            break false;
        }
        a.send(Message::text(hello.clone()))
            .map_err(|e| format!("pair hello: {e}"))?;
        match b.read() {
            Ok(Message::Text(t)) if t.as_bytes() == ws::HELLO => break true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("pair hello: {e}")),
        }
    };
    set_timeout(b, Duration::from_secs(5))?;
    if heard {
        Ok(())
    } else {
        Err("pair: B never heard A's hello".into())
    }
}

/// A sends `probes` lines one after another; each round trip is the time
/// until both A and B have it (B alone from a peer that does not echo).
/// Returns the round trips in ms.
fn probe_pair(
    addr: SocketAddr,
    dialect: Dialect,
    probes: usize,
    base: Instant,
) -> Result<Vec<f64>, String> {
    let mut a = pair_client(addr, dialect)?;
    let mut b = pair_client(addr, dialect)?;
    if !dialect.greets() {
        pair_hello(&mut a, &mut b)?;
    }
    let mut trips = Vec::with_capacity(probes);
    for seq in 0..probes as u32 {
        let sent_ns = base.elapsed().as_nanos() as u64;
        let stamp = Stamp {
            sender: PROBE_SENDER,
            seq,
            sent_ns,
        };
        let text = String::from_utf8(stamp.write().to_vec()).expect("ascii");
        a.send(Message::text(text))
            .map_err(|e| format!("probe send: {e}"))?;
        let ta = if dialect.echoes() {
            await_probe(&mut a, seq, base)?
        } else {
            sent_ns
        };
        let tb = await_probe(&mut b, seq, base)?;
        trips.push((ta.max(tb) - sent_ns) as f64 / 1e6);
        thread::sleep(Duration::from_millis(20));
    }
    // A relaying peer would pass a close frame on to everyone: just go.
    if dialect.greets() {
        let _ = a.close(None);
        let _ = b.close(None);
        let _ = a.flush();
        let _ = b.flush();
    }
    Ok(trips)
}

/// Check there are enough free thread ids for `clients` more clients (a
/// server thread each, and a writer while one is behind), so the benchmark
/// cannot starve the machine.
pub(crate) fn thread_room(clients: usize) -> Result<(), String> {
    let Some((used, max)) = server::machine_threads() else {
        return Ok(());
    };
    let need = clients as u64 + 2048;
    if used + need > max {
        return Err(format!(
            "needs about {need} more threads (1 per client plus a margin), but {used} of at most {max} are in use (kernel.pid_max / threads-max)"
        ));
    }
    Ok(())
}

/// Scenario 3: idle clients, against ours or a peer: the whole memory each
/// client costs (resident, kernel stack, TCP buffers),
/// threads, and a pair's round trip with them connected.
pub fn idle(cfg: &Config, what: &Launch) -> Run {
    let mut run = Run::default();
    let Some(server) = start_server(&mut run, what) else {
        return run;
    };
    thread::sleep(Duration::from_millis(300));
    let Some((rss0, threads0)) = server.status() else {
        run.fail("cannot read /proc/PID/status");
        return run;
    };
    let kstack0 = memory::kernel_stack_kib();
    let sock0 = memory::tcp_buffers_kib();
    run.put(
        "idle.rss_empty",
        "server RSS with no client",
        "MiB",
        rss0 as f64 / 1024.0,
    );
    run.put(
        "idle.threads_empty",
        "server threads with no client",
        "",
        threads0 as f64,
    );
    let base = Instant::now();
    let mut fleet = Fleet::new(server.chat, server.dialect, cfg.workers, 0, base);
    let mut members = 0;
    let mut notices = 0;
    for &k in &cfg.idle_steps {
        if k <= members {
            continue;
        }
        if what.is_ours() {
            if let Err(e) = thread_room(k - members) {
                run.note(format!("{k} idle clients skipped: {e}"));
                break;
            }
        }
        let t = Instant::now();
        fleet.connect(k - members, Role::Idle);
        notices += joins(members, k);
        members = k;
        if let Err(e) = settle(&fleet, &server, k, notices, cfg.idle_join_limit) {
            run.fail(format!("{k} idle clients: {e}"));
            break;
        }
        let join_secs = t.elapsed().as_secs_f64();
        thread::sleep(Duration::from_millis(500));
        let Some((rss, threads)) = server.status() else {
            run.fail("cannot read /proc/PID/status");
            break;
        };
        let p = format!("idle_{k}");
        let per = |now: Option<f64>, then: Option<f64>| match (now, then) {
            (Some(now), Some(then)) => (now - then) / k as f64,
            _ => f64::NAN,
        };
        let rss_each = rss.saturating_sub(rss0) as f64 / k as f64;
        // Machine-wide counters: other work moves them by a few hundred
        // KiB either way, so a server that adds nothing reads as 0, not as
        // a small negative number.
        let floor = |v: f64| if v < 0.0 { 0.0 } else { v };
        let kstack_each = floor(per(memory::kernel_stack_kib(), kstack0));
        let sock_each = floor(per(memory::tcp_buffers_kib(), sock0));
        let target = (what.is_ours() && k >= 5000).then_some(Target::AtMost(16.0));
        run.put_target(
            &format!("{p}.rss_per_client"),
            &format!("{k} idle: server RSS per client"),
            "KiB",
            rss_each,
            target,
        );
        run.put(
            &format!("{p}.kernel_stack_per_client"),
            &format!("{k} idle: kernel stack per client"),
            "KiB",
            kstack_each,
        );
        run.put(
            &format!("{p}.socket_buffers_per_client"),
            &format!("{k} idle: TCP buffers per client"),
            "KiB",
            sock_each,
        );
        run.put(
            &format!("{p}.memory_per_client"),
            &format!("{k} idle: all three per client"),
            "KiB",
            rss_each + kstack_each + sock_each,
        );
        run.put(
            &format!("{p}.rss"),
            &format!("{k} idle: server RSS"),
            "MiB",
            rss as f64 / 1024.0,
        );
        run.put(
            &format!("{p}.threads"),
            &format!("{k} idle: server threads"),
            "",
            threads as f64,
        );
        run.put(
            &format!("{p}.join_time"),
            &format!("{k} idle: connect and announce all"),
            "s",
            join_secs,
        );
        match probe_pair(server.chat, server.dialect, cfg.probes, base) {
            Ok(trips) => {
                let target = (what.is_ours() && k >= 5000).then_some(Target::Below(10.0));
                run.put_target(
                    &format!("{p}.pair_round_trip"),
                    &format!("{k} idle: pair round trip p50"),
                    "ms",
                    median(&trips),
                    target,
                );
                run.put(
                    &format!("{p}.pair_round_trip_max"),
                    &format!("{k} idle: pair round trip max"),
                    "ms",
                    trips.iter().copied().fold(0.0, f64::max),
                );
                eprintln!(
                    "    {k} idle: RSS {rss_each:.1} + kernel stack {kstack_each:.1} + TCP {sock_each:.1} KiB/client, {threads} threads, pair {:.2} ms",
                    median(&trips)
                );
            }
            Err(e) => run.fail(format!("{k} idle: pair: {e}")),
        }
        // Both of the pair's joins were announced to every idle client.
        notices += 2 * k as u64;
        let drops = dropped(&fleet);
        if drops > 0 {
            run.fail(format!(
                "{k} idle: {drops} idle client(s) dropped: {}",
                fleet.shared.reasons()
            ));
            break;
        }
    }
    let r = fleet.stop();
    if r.pings > 0 {
        run.note(format!("idle clients answered {} server pings", r.pings));
    }
    stop_server(&mut run, server);
    run
}

/// Scenario 4: capacity: idle clients added in steps while a few clients
/// broadcast steadily; the largest step whose broadcast round trip p95 stays
/// under 500 ms with nobody dropped.
pub fn capacity(cfg: &Config) -> Run {
    let mut run = Run::default();
    let Some(server) = start_server(&mut run, &cfg.ours()) else {
        return run;
    };
    let senders = cfg.capacity_senders;
    let base = Instant::now();
    let mut fleet = Fleet::new(server.chat, Dialect::Chat, cfg.workers, senders, base);
    fleet.connect(
        senders,
        Role::Paced {
            count: u32::MAX,
            interval: Duration::from_secs(1) / cfg.capacity_rate,
            spread: senders as u32,
        },
    );
    let mut notices = joins(0, senders);
    if let Err(e) = wait_joined(&fleet, senders, Duration::from_secs(30))
        .and_then(|()| wait_notices(&fleet, notices, Duration::from_secs(30)))
    {
        run.fail(format!("broadcasters: {e}"));
        drop(fleet);
        stop_server(&mut run, server);
        return run;
    }
    fleet.start();
    let mut idle = 0;
    let mut largest = 0;
    for &k in &cfg.capacity_steps {
        if k <= idle {
            continue;
        }
        if let Err(e) = thread_room(k - idle) {
            run.note(format!("step {k} skipped: {e}"));
            break;
        }
        let t = Instant::now();
        fleet.connect(k - idle, Role::Idle);
        notices += joins(senders + idle, senders + k);
        idle = k;
        let limit = cfg.capacity_join_limit;
        let joined = wait_joined(&fleet, senders + k, limit)
            .and_then(|()| wait_notices(&fleet, notices, limit.saturating_sub(t.elapsed())));
        let storm = fleet.report(true);
        let p = format!("capacity_{k}");
        if joined.is_ok() {
            run.put(
                &format!("{p}.join_time"),
                &format!("{k}: connect and announce all"),
                "s",
                t.elapsed().as_secs_f64(),
            );
        }
        run.put(
            &format!("{p}.p95_joining"),
            &format!("{k}: p95 while clients join"),
            "ms",
            ms(storm.delivery.quantile(0.95)),
        );
        if let Err(e) = joined {
            run.note(format!("step {k} did not hold: {e}"));
            break;
        }
        let cpu0 = server.cpu_seconds();
        thread::sleep(cfg.capacity_window);
        let w = fleet.report(true);
        if let (Some(c0), Some(c1)) = (cpu0, server.cpu_seconds()) {
            run.put(
                &format!("{p}.server_cpu_per_delivery"),
                &format!("{k}: server CPU per delivery"),
                "us",
                (c1 - c0) * 1e6 / (w.deliveries as f64).max(1.0),
            );
        }
        let window = cfg.capacity_window.as_secs_f64();
        let expected =
            senders as f64 * f64::from(cfg.capacity_rate) * window * (senders + k) as f64;
        let p95 = ms(w.delivery.quantile(0.95));
        let drops = dropped(&fleet);
        let failed = fleet.shared.failed.load(Ordering::Acquire);
        run.put(
            &format!("{p}.p50"),
            &format!("{k}: round trip p50"),
            "ms",
            ms(w.delivery.quantile(0.5)),
        );
        run.put_target(
            &format!("{p}.p95"),
            &format!("{k}: round trip p95"),
            "ms",
            p95,
            Some(Target::Below(500.0)),
        );
        run.put(
            &format!("{p}.p99"),
            &format!("{k}: round trip p99"),
            "ms",
            ms(w.delivery.quantile(0.99)),
        );
        run.put(
            &format!("{p}.echo_p95"),
            &format!("{k}: sender's own echo p95"),
            "ms",
            ms(w.echo.quantile(0.95)),
        );
        run.put(
            &format!("{p}.delivered"),
            &format!("{k}: delivered of expected"),
            "%",
            100.0 * w.deliveries as f64 / expected,
        );
        run.put_target(
            &format!("{p}.dropped"),
            &format!("{k}: clients dropped"),
            "",
            drops as f64,
            Some(Target::AtMost(0.0)),
        );
        if let Some((rss, threads)) = server.status() {
            run.put(
                &format!("{p}.rss"),
                &format!("{k}: server RSS"),
                "MiB",
                rss as f64 / 1024.0,
            );
            run.put(
                &format!("{p}.threads"),
                &format!("{k}: server threads"),
                "",
                threads as f64,
            );
        }
        eprintln!(
            "    step {k}: p95 {p95:.2} ms, {:.0}% delivered, {drops} dropped",
            100.0 * w.deliveries as f64 / expected
        );
        let mut why = Vec::new();
        if p95.is_nan() || p95 >= 500.0 {
            why.push(format!("p95 {p95:.1} ms"));
        }
        if drops > 0 || failed > 0 {
            why.push(format!(
                "{drops} dropped, {failed} failed ({})",
                fleet.shared.reasons()
            ));
        }
        if w.gaps > 0 {
            why.push(format!("{} lines lost", w.gaps));
        }
        if (w.deliveries as f64) < 0.9 * expected {
            why.push(format!(
                "only {} of {expected:.0} deliveries in the window",
                w.deliveries
            ));
        }
        if !why.is_empty() {
            run.note(format!("step {k} did not hold: {}", why.join(", ")));
            break;
        }
        largest = k;
    }
    run.put_target(
        "capacity.largest",
        "largest step held",
        "clients",
        largest as f64,
        // Only a run whose steps reach 10,000 can meet the target.
        (cfg.capacity_steps.iter().max() >= Some(&10_000)).then_some(Target::AtLeast(10_000.0)),
    );
    let r = fleet.stop();
    if r.pings > 0 {
        run.note(format!("idle clients answered {} server pings", r.pings));
    }
    stop_server(&mut run, server);
    run
}

/// Scenario 5: binary size and time to readiness. Each start is a run.
pub fn startup(cfg: &Config) -> Vec<Run> {
    let size = std::fs::metadata(&cfg.bin).map(|m| m.len() as f64 / (1024.0 * 1024.0));
    (0..cfg.starts)
        .map(|_| {
            let mut run = Run::default();
            match &size {
                Ok(mib) => run.put_target(
                    "startup.binary_size",
                    "release binary size (stripped)",
                    "MiB",
                    *mib,
                    Some(Target::Below(2.0)),
                ),
                Err(e) => run.fail(format!("{}: {e}", cfg.bin.display())),
            }
            match one_start(cfg) {
                Ok((tcp, ws)) => {
                    run.put_target(
                        "startup.ready_tcp",
                        "start to first accepted connection",
                        "ms",
                        tcp,
                        Some(Target::Below(50.0)),
                    );
                    run.put(
                        "startup.ready_ws",
                        "start to first greeting (WebSocket)",
                        "ms",
                        ws,
                    );
                }
                Err(e) => run.fail(e),
            }
            run
        })
        .collect()
}

fn one_start(cfg: &Config) -> Result<(f64, f64), String> {
    let ws_port = server::free_port()?;
    let mut http_port = server::free_port()?;
    while http_port == ws_port {
        http_port = server::free_port()?;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], ws_port));
    let t = Instant::now();
    let mut child = Command::new(&cfg.bin)
        .args([
            "--http-port",
            &http_port.to_string(),
            "--ws-port",
            &ws_port.to_string(),
        ])
        .args([
            "--rate",
            "0",
            "--max-clients",
            &MAX_CLIENTS.to_string(),
            "--log-level",
            "info",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cfg.bin.display()))?;
    let result = (|| {
        let stream = loop {
            match TcpStream::connect(addr) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!("server exited ({status}) before accepting: {e}"));
                    }
                    if t.elapsed() > Duration::from_secs(5) {
                        return Err(format!("not accepting after 5 s: {e}"));
                    }
                    thread::sleep(Duration::from_micros(100));
                }
            }
        };
        let tcp = t.elapsed().as_secs_f64() * 1e3;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), stream)
            .map_err(|e| format!("handshake: {e}"))?;
        match ws.read() {
            Ok(Message::Text(_)) => {}
            other => return Err(format!("no greeting: {other:?}")),
        }
        let ready_ws = t.elapsed().as_secs_f64() * 1e3;
        let _ = ws.close(None);
        let _ = ws.flush();
        Ok((tcp, ready_ws))
    })();
    // SAFETY: kill only sends a signal to our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return result;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The server has rooms and history: its `--help` lists
/// `--max-rooms`. Before they landed, every path was the one room.
pub fn has_rooms(bin: &std::path::Path) -> bool {
    Command::new(bin)
        .arg("--help")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--max-rooms"))
}

/// History lines the join-cost scenario puts in its room: the default
/// `--history`.
pub const HISTORY: u32 = 100;

/// One client joining `path`, read up to its greeting; returns it, still
/// connected, and the history lines it got before the greeting.
pub(crate) fn join_room(
    addr: SocketAddr,
    path: &str,
) -> Result<(WebSocket<TcpStream>, u32), String> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("join connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}{path}"), stream)
        .map_err(|e| format!("join handshake {path}: {e}"))?;
    let mut history = 0;
    // Bounded: the history is at most --history lines.
    for _ in 0..10_000 {
        match ws.read() {
            Ok(Message::Text(t)) if t.starts_with(" .... you are ") => return Ok((ws, history)),
            Ok(Message::Text(_)) => history += 1,
            Ok(_) => {}
            Err(e) => return Err(format!("join {path}: {e}")),
        }
    }
    Err(format!("join {path}: no greeting after 10,000 lines"))
}

/// Join `path` and say `lines` stamped lines there, each read back (so
/// they are in the room's history); returns the speaker, still connected.
pub(crate) fn fill_history(
    addr: SocketAddr,
    path: &str,
    lines: u32,
) -> Result<WebSocket<TcpStream>, String> {
    let (mut ws, _) = join_room(addr, path)?;
    let base = Instant::now();
    for seq in 0..lines {
        let stamp = Stamp {
            sender: 0,
            seq,
            sent_ns: base.elapsed().as_nanos() as u64,
        };
        let text = String::from_utf8_lossy(&stamp.write()).into_owned();
        ws.send(Message::text(text))
            .map_err(|e| format!("history send: {e}"))?;
    }
    // Its own lines back: they are in the history now.
    let mut back = 0;
    for _ in 0..10 * lines.max(1) {
        if back == lines {
            return Ok(ws);
        }
        if let Message::Text(t) = ws.read().map_err(|e| format!("history read: {e}"))? {
            if Stamp::from_line(t.as_bytes()).is_some() {
                back += 1;
            }
        }
    }
    match back == lines {
        true => Ok(ws),
        false => Err(format!("only {back} of {lines} history lines came back")),
    }
}

/// Scenario 6a: join cost with history on. `HISTORY` lines are
/// said in one room; then `cfg.joins` clients join it one after another,
/// and as many join an empty room on the same server: the time from
/// connect to greeting, the history lines each got, the server's CPU per
/// join (its threads' own clocks, to the nanosecond). Everyone stays, so
/// both rooms grow alike.
pub fn history_join(cfg: &Config) -> Run {
    let mut run = Run::default();
    let Some(server) = start_server(&mut run, &cfg.ours()) else {
        return run;
    };
    let filled = fill_history(server.chat, "/bench-history", HISTORY);
    let speaker = match filled {
        Ok(ws) => ws,
        Err(e) => {
            run.fail(e);
            stop_server(&mut run, server);
            return run;
        }
    };
    for (path, key, label) in [
        (
            "/bench-history",
            "with_history",
            "join, 100 lines of history",
        ),
        ("/bench-empty", "no_history", "join, no history"),
    ] {
        let mut kept = Vec::with_capacity(cfg.joins);
        let mut times = Vec::with_capacity(cfg.joins);
        let mut lines = 0u64;
        // Every client stays, so no server thread ends during the joins.
        let cpu0 = server.live_threads_cpu_seconds();
        for _ in 0..cfg.joins {
            let t = Instant::now();
            match join_room(server.chat, path) {
                Ok((ws, history)) => {
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    lines += u64::from(history);
                    kept.push(ws);
                }
                Err(e) => {
                    run.fail(e);
                    break;
                }
            }
        }
        let cpu1 = server.live_threads_cpu_seconds();
        let p = format!("rooms.join_{key}");
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let p99 = sorted
            .get((sorted.len() * 99).div_ceil(100).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN);
        run.put(
            &format!("{p}.p50"),
            &format!("{label}: connect to greeting p50"),
            "ms",
            median(&times),
        );
        run.put(
            &format!("{p}.p99"),
            &format!("{label}: connect to greeting p99"),
            "ms",
            p99,
        );
        run.put(
            &format!("{p}.history_lines"),
            &format!("{label}: history lines per join"),
            "",
            lines as f64 / times.len().max(1) as f64,
        );
        if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
            run.put(
                &format!("{p}.server_cpu_per_join"),
                &format!("{label}: server CPU per join"),
                "us",
                (c1 - c0) * 1e6 / times.len().max(1) as f64,
            );
        }
        eprintln!(
            "    {label}: p50 {:.2} ms, {:.0} history lines each",
            median(&times),
            lines as f64 / times.len().max(1) as f64
        );
        drop(kept);
    }
    drop(speaker);
    stop_server(&mut run, server);
    run
}
