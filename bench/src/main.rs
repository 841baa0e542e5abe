//! `make bench` (`cargo bench --bench load`): throughput, latency, memory
//! and capacity of the release `chat-server`, run as a child process on
//! loopback and driven by a synchronous load generator (std threads, mio,
//! no async runtime).
//!
//! Scenarios (each figure is the median of `BENCH_RUNS` runs, default 3,
//! each against a fresh server; the spread is min-max):
//! 1. `fanout`: closed-loop fan-out, 50 and 200 clients, each keeping at
//!    most 8 of its own 64-byte messages in flight; every client must get
//!    every line exactly once.
//! 2. `paced`: 50 clients sending 10 messages/s each for 10 s.
//! 3. `idle`: 1,000 and 5,000 idle clients: server memory and threads per
//!    client, and a pair's round trip while they are connected.
//! 4. `capacity`: idle clients added in steps while 4 clients broadcast.
//! 5. `startup`: binary size and time from spawn to first connection.
//!
//! Environment: `BENCH_QUICK=1` (small sizes, one run), `BENCH_RUNS=N`,
//! `BENCH_ONLY=fanout,idle` (or those names as arguments after `--`),
//! `BENCH_WORKERS=N` (load generator threads), `BENCH_FANOUT=50:200,200:50`
//! (clients:messages each), `BENCH_PACED_SECS`, `BENCH_IDLE=1000,5000`,
//! `BENCH_STEPS=1000,2000,5000,10000,15000`, `BENCH_WINDOW_SECS`,
//! `BENCH_STARTS`, `BENCH_SERVER_BIN` (another server binary), `BENCH_OUT`
//! (output directory; default `target/bench/`).
//!
//! Peers (opt-in): `BENCH_PEERS=node=/path/to/launcher,python=...` runs the
//! fan-out scenario (same sizes, same runs) against each peer chat server
//! after ours and prints their figures and the ratios ours/peer next to
//! ours (also in `peers.txt` and the JSON); a bare name means
//! `$BENCH_PEERS_DIR/name` (default `target/peers/`). The peers' sources
//! and how to build them: `benches/peers/README.md`.
//!
//! Run without `--bench` (as `cargo test --benches` does), it only checks
//! its own codec and histogram.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chat_bench::report::{self, Scenario};
use chat_bench::scenarios::{self, Config};
use chat_bench::{peers, server};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let cfg = Config::from_env(&args);
    let fd_limit = server::raise_fd_limit();
    eprintln!(
        "load: server {}, {} run(s) per figure, {} load generator thread(s){}",
        cfg.bin.display(),
        cfg.runs,
        cfg.workers,
        if cfg.quick { ", quick" } else { "" }
    );
    if !cfg.bin.exists() {
        eprintln!("load: no server binary at {}", cfg.bin.display());
        std::process::exit(1);
    }

    let mut scenarios: Vec<Scenario> = Vec::new();
    if cfg.wants("startup") {
        eprintln!("startup: {} starts", cfg.starts);
        scenarios.push(Scenario {
            key: "startup",
            title: format!("5. binary and start-up (median of {} starts)", cfg.starts),
            runs: scenarios::startup(&cfg),
        });
    }
    if cfg.wants("fanout") {
        for &(n, count) in &cfg.fanout {
            let title = format!(
                "1. fan-out, closed loop: {n} clients x {count} msgs of 64 B, <= {} in flight each",
                8
            );
            scenarios.push(Scenario {
                key: "fanout",
                title,
                runs: repeat(&cfg, &format!("fanout N={n}"), || {
                    scenarios::fanout(&cfg, n, count)
                }),
            });
        }
    }
    let mut peer_table = None;
    if cfg.wants("fanout") && !cfg.peers.is_empty() {
        let ours: Vec<&Scenario> = scenarios.iter().filter(|s| s.key == "fanout").collect();
        let (theirs, text) = peers::compare(&cfg, &ours);
        scenarios.extend(theirs);
        peer_table = Some(text);
    }
    if cfg.wants("paced") {
        let (n, rate, secs) = cfg.paced;
        scenarios.push(Scenario {
            key: "paced",
            title: format!("2. fan-out, paced: {n} clients x {rate} msgs/s for {secs} s"),
            runs: repeat(&cfg, "paced", || scenarios::paced(&cfg)),
        });
    }
    if cfg.wants("idle") {
        scenarios.push(Scenario {
            key: "idle",
            title: format!("3. idle clients: {:?}", cfg.idle_steps),
            runs: repeat(&cfg, "idle", || scenarios::idle(&cfg)),
        });
    }
    if cfg.wants("capacity") {
        scenarios.push(Scenario {
            key: "capacity",
            title: format!(
                "4. capacity: steps {:?} while {} clients broadcast {} msgs/s each ({} s windows; held = p95 < 500 ms, none dropped)",
                cfg.capacity_steps,
                cfg.capacity_senders,
                cfg.capacity_rate,
                cfg.capacity_window.as_secs()
            ),
            runs: repeat(&cfg, "capacity", || scenarios::capacity(&cfg)),
        });
    }

    let elapsed = started.elapsed().as_secs_f64();
    let table = report::table(&scenarios);
    println!();
    println!("{table}");
    if let Some(text) = &peer_table {
        println!("{text}");
        let out = server::out_dir(&cfg.bin).join("peers.txt");
        match report::write(&out, text) {
            Ok(()) => println!("load: peer comparison written to {}", out.display()),
            Err(e) => eprintln!("load: could not write the peer comparison: {e}"),
        }
    }
    println!("load: {elapsed:.0} s in all");
    // A quick smoke run does not overwrite the full run's figures.
    let name = if cfg.quick {
        "load-quick.json"
    } else {
        "load.json"
    };
    let out = server::out_dir(&cfg.bin).join(name);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let meta = [
        ("unix_time", now.to_string()),
        ("quick", cfg.quick.to_string()),
        ("runs", cfg.runs.to_string()),
        ("loadgen_threads", cfg.workers.to_string()),
        (
            "cores",
            std::thread::available_parallelism()
                .map_or(0, |n| n.get())
                .to_string(),
        ),
        ("fd_limit", fd_limit.to_string()),
        ("duration_s", format!("{elapsed:.1}")),
        (
            "server_binary",
            format!("\"{}\"", cfg.bin.display().to_string().replace('"', "")),
        ),
    ];
    match report::write(&out, &report::json(&meta, &scenarios)) {
        Ok(()) => println!("load: figures written to {}", out.display()),
        Err(e) => eprintln!("load: could not write the figures: {e}"),
    }
}

/// Run one scenario `cfg.runs` times.
fn repeat(cfg: &Config, name: &str, mut one: impl FnMut() -> report::Run) -> Vec<report::Run> {
    (1..=cfg.runs)
        .map(|i| {
            eprintln!("{name}: run {i}/{}", cfg.runs);
            one()
        })
        .collect()
}
