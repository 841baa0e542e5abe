//! `make bench`: throughput, latency, memory and capacity of the release
//! `chat-server` and of three peers (the tokio-tungstenite, Node `ws` and
//! Python `websockets` broadcast examples, built by `bench/peers/setup.sh`),
//! each run as a child process on loopback and driven by the same
//! synchronous load generator (std threads, mio, no async runtime).
//!
//! Scenarios (each figure is the median of `BENCH_RUNS` runs, default 3,
//! each against a fresh server; the spread is min-max):
//! 1. `fanout`: closed-loop fan-out, 50 and 200 clients, each keeping at
//!    most 8 of its own 64-byte messages in flight; every client must get
//!    every line exactly once. Ours and the peers.
//! 2. `paced`: 50 clients sending 10 messages/s each for 10 s. Ours and
//!    the peers.
//! 3. `idle`: 1,000 and 5,000 idle clients: memory per client (resident,
//!    kernel stack, TCP buffers), threads, and a pair's round trip while
//!    they are connected. Ours and the peers.
//! 4. `capacity`: idle clients added in steps while 4 clients broadcast.
//! 5. `startup`: binary size and time from spawn to first connection.
//! 6. `rooms` (once the server has rooms): 200 clients in 10
//!    rooms, closed loop; and the cost of joining a room with 100 lines of
//!    history against an empty one.
//! 7. `scaleout`: 200 clients in one room split 100/100 over two
//!    instances joined through a `redis-server` started here, next to one
//!    instance without Redis: closed-loop deliveries/s and paced latency.
//!    Without `redis-server`, the row is a note saying so.
//! 8. `bell`: 300 clients join one room within a second, 100 lines of
//!    history, the store on: connect to presence line, CPU per join.
//! 9. `bigroom`: 5,000 members, one line's round trip to the last member;
//!    closed-loop fan-out at 1,000 and 5,000 members, ours and tokio's.
//! 10. `lecture`: a teacher line every 5 s to 300 students, 30 of them
//!     chatting at 1 line/s each, 60 s: delivery latency, CPU.
//! 11. `store`: closed-loop fan-out with `--memory-only`, with the store
//!     on (`--data-dir`) and with `--redis`.
//!
//! A full run (no `BENCH_QUICK`, no `BENCH_ONLY`) also writes
//! `docs/bench/latest.md`, `docs/bench/chart.svg` and the README's table
//! between `<!-- bench:begin -->` and `<!-- bench:end -->`
//! (`BENCH_DOCS=0` not to; `BENCH_DOCS=DIR` for another checkout).
//!
//! Environment: `BENCH_QUICK=1` (small sizes, one run), `BENCH_RUNS=N`,
//! `BENCH_ONLY=fanout,idle` (or those names as arguments), `BENCH_PEERS`
//! (`tokio,node,python` by default; `none`), `BENCH_PEERS_DIR`,
//! `BENCH_WORKERS=N` (load generator threads), `BENCH_FANOUT=50:5000,200:500`
//! (clients:messages each), `BENCH_PEER_FANOUT` (the peers' sizes; same
//! clients, fewer messages), `BENCH_PACED_SECS`, `BENCH_IDLE=1000,5000`,
//! `BENCH_STEPS=1000,2000,5000,10000,15000`, `BENCH_WINDOW_SECS`,
//! `BENCH_STARTS`, `BENCH_SCALE_OUT=200:500`, `BENCH_SERVER_BIN` (another server binary), `BENCH_OUT`
//! (output directory; default `target/bench/`).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chat_bench::report::{self, Run, Scenario};
use chat_bench::scenarios::{self, Config};
use chat_bench::server::{self, Launch};
use chat_bench::{baseline, compare, docs, moments, scale_out};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let cfg = Config::from_env(&args);
    let fd_limit = server::raise_fd_limit();
    let machine = docs::Machine::now();
    eprintln!(
        "load: server {}, peers [{}], {} run(s) per figure, {} load generator thread(s){}",
        cfg.bin.display(),
        cfg.peers
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        cfg.runs,
        cfg.workers,
        if cfg.quick { ", quick" } else { "" }
    );
    if !cfg.bin.exists() {
        eprintln!("load: no server binary at {}", cfg.bin.display());
        std::process::exit(1);
    }
    let ours = cfg.ours();
    let servers: Vec<Launch> = std::iter::once(ours.clone())
        .chain(cfg.peers.iter().cloned())
        .collect();

    let mut all: Vec<Scenario> = Vec::new();
    if cfg.wants("startup") {
        eprintln!("startup: {} starts", cfg.starts);
        all.push(Scenario {
            key: "startup",
            server: ours.name.clone(),
            title: format!("5. binary and start-up (median of {} starts)", cfg.starts),
            runs: scenarios::startup(&cfg),
        });
    }
    if cfg.wants("fanout") {
        for (i, &(n, count)) in cfg.fanout.iter().enumerate() {
            for what in &servers {
                // The peers deliver 30-100x fewer lines a second: fewer
                // messages each keep their runs as long as ours.
                let count = if what.is_ours() {
                    count
                } else {
                    cfg.peer_fanout.get(i).map_or(count, |&(_, c)| c)
                };
                all.push(Scenario {
                    key: "fanout",
                    server: what.name.clone(),
                    title: format!(
                        "1. fan-out, closed loop: {n} clients x {count} msgs of 64 B, <= 8 in flight each ({})",
                        what.name
                    ),
                    runs: repeat(&cfg, &format!("fanout N={n}"), what, || {
                        scenarios::fanout(&cfg, what, n, count)
                    }),
                });
            }
        }
    }
    if cfg.wants("paced") {
        let (n, rate, secs) = cfg.paced;
        for what in &servers {
            all.push(Scenario {
                key: "paced",
                server: what.name.clone(),
                title: format!(
                    "2. fan-out, paced: {n} clients x {rate} msgs/s for {secs} s ({})",
                    what.name
                ),
                runs: repeat(&cfg, "paced", what, || scenarios::paced(&cfg, what)),
            });
        }
    }
    if cfg.wants("idle") {
        for what in &servers {
            all.push(Scenario {
                key: "idle",
                server: what.name.clone(),
                title: format!("3. idle clients: {:?} ({})", cfg.idle_steps, what.name),
                runs: repeat(&cfg, "idle", what, || scenarios::idle(&cfg, what)),
            });
        }
    }
    if cfg.wants("capacity") {
        all.push(Scenario {
            key: "capacity",
            server: ours.name.clone(),
            title: format!(
                "4. capacity: steps {:?} while {} clients broadcast {} msgs/s each ({} s windows; held = p95 < 500 ms, none dropped)",
                cfg.capacity_steps,
                cfg.capacity_senders,
                cfg.capacity_rate,
                cfg.capacity_window.as_secs()
            ),
            runs: repeat(&cfg, "capacity", &ours, || scenarios::capacity(&cfg)),
        });
    }

    if cfg.wants("rooms") {
        if scenarios::has_rooms(&cfg.bin) {
            let (n, rooms, count) = cfg.rooms;
            all.push(Scenario {
                key: "rooms",
                server: ours.name.clone(),
                title: format!(
                    "6. rooms: {n} clients in {rooms} rooms of {} x {count} msgs, closed loop (compare 1 room of {n} in 1.)",
                    n / rooms as usize
                ),
                runs: repeat(&cfg, "rooms", &ours, || {
                    scenarios::fanout_in_rooms(&cfg, &ours, n, count, rooms, "rooms.fanout")
                }),
            });
            all.push(Scenario {
                key: "rooms",
                server: ours.name.clone(),
                title: format!(
                    "6. rooms: {} joins into a room with 100 lines of history, and into an empty room",
                    cfg.joins
                ),
                runs: repeat(&cfg, "history", &ours, || scenarios::history_join(&cfg)),
            });
        } else {
            let mut run = Run::default();
            run.note("this server has no rooms yet: no rooms rows");
            all.push(Scenario {
                key: "rooms",
                server: ours.name.clone(),
                title: "6. rooms".into(),
                runs: vec![run],
            });
        }
    }

    if cfg.wants("scaleout") {
        let (n, count, rate) = cfg.scale_out;
        let secs = cfg.paced.2;
        for instances in [1, 2] {
            let title = format!(
                "7. scale-out: {n} clients in one room over {} x {count} msgs closed loop, then {rate} msg/s each for {secs} s paced",
                if instances == 1 {
                    "1 instance, no Redis".to_string()
                } else {
                    format!("{instances} instances and redis-server ({} each)", n / instances)
                }
            );
            let runs = if instances > 1 && !scale_out::has_redis() {
                let mut run = Run::default();
                run.note("redis-server is not installed (apt-get install redis-server): no two-instance row");
                vec![run]
            } else {
                repeat(&cfg, &format!("scaleout x{instances}"), &ours, || {
                    scale_out::row(&cfg, instances)
                })
            };
            all.push(Scenario {
                key: "scaleout",
                server: ours.name.clone(),
                title,
                runs,
            });
        }
    }

    if cfg.wants("bell") {
        let (n, within) = cfg.bell;
        all.push(Scenario {
            key: "bell",
            server: ours.name.clone(),
            title: format!(
                "8. the bell: {n} clients join one room within {:.0} s, {} lines of history, the store on",
                within.as_secs_f64(),
                scenarios::HISTORY
            ),
            runs: repeat(&cfg, "bell", &ours, || moments::bell(&cfg)),
        });
    }
    if cfg.wants("bigroom") {
        for &n in &cfg.big_room {
            all.push(Scenario {
                key: "bigroom",
                server: ours.name.clone(),
                title: format!(
                    "9. the big room: {n} members, one says {} lines one at a time: the round trip to the last member",
                    cfg.probes
                ),
                runs: repeat(&cfg, &format!("bigroom N={n}"), &ours, || {
                    moments::big_room(&cfg, n)
                }),
            });
        }
        let tokio: Vec<&Launch> = cfg.peers.iter().filter(|p| p.name == "tokio").collect();
        for (i, &(n, count)) in cfg.big_fanout.iter().enumerate() {
            for what in std::iter::once(&ours).chain(tokio.iter().copied()) {
                let count = if what.is_ours() {
                    count
                } else {
                    cfg.peer_big_fanout.get(i).map_or(count, |&(_, c)| c)
                };
                all.push(Scenario {
                    key: "bigroom",
                    server: what.name.clone(),
                    title: format!(
                        "9. the big room, fan-out: {n} clients x {count} msgs, closed loop ({})",
                        what.name
                    ),
                    runs: repeat(&cfg, &format!("bigroom fanout N={n}"), what, || {
                        scenarios::fanout(&cfg, what, n, count)
                    }),
                });
            }
        }
    }
    if cfg.wants("lecture") {
        let (students, chatters, secs, every) = cfg.lecture;
        all.push(Scenario {
            key: "lecture",
            server: ours.name.clone(),
            title: format!(
                "10. a lecture: a teacher line every {} s to {students} students, {chatters} of them saying 1 line/s each, {secs} s",
                every.as_secs()
            ),
            runs: repeat(&cfg, "lecture", &ours, || moments::lecture(&cfg)),
        });
    }
    if cfg.wants("store") {
        let (n, count) = cfg.store_fanout;
        for store in moments::Store::ALL {
            all.push(Scenario {
                key: "store",
                server: ours.name.clone(),
                title: format!(
                    "11. fan-out by store: {n} clients x {count} msgs, closed loop, {}",
                    store.label()
                ),
                runs: repeat(&cfg, &format!("store {}", store.key()), &ours, || {
                    moments::store_fanout(&cfg, store, n, count)
                }),
            });
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    let table = report::table(&all);
    let side = compare::Summary::new(&cfg, &all);
    println!();
    println!("{table}");
    println!("{}", side.text());
    println!("load: {elapsed:.0} s in all");
    let out = server::out_dir(&cfg.bin);
    // A quick smoke run does not overwrite the full run's figures.
    let name = if cfg.quick {
        "load-quick.json"
    } else {
        "load.json"
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let quote = |s: &str| format!("\"{}\"", s.replace(['"', '\\'], ""));
    let meta = [
        ("unix_time", now.to_string()),
        ("quick", cfg.quick.to_string()),
        ("runs", cfg.runs.to_string()),
        ("loadgen_threads", cfg.workers.to_string()),
        ("cores", machine.cores.to_string()),
        ("cpu", quote(&machine.cpu)),
        ("kernel", quote(&machine.kernel)),
        ("load_before", quote(&machine.load)),
        ("fd_limit", fd_limit.to_string()),
        ("duration_s", format!("{elapsed:.1}")),
        ("server_binary", quote(&cfg.bin.display().to_string())),
    ];
    match report::write(&out.join(name), &report::json(&meta, &all)) {
        Ok(()) => println!("load: figures written to {}", out.join(name).display()),
        Err(e) => eprintln!("load: could not write the figures: {e}"),
    }
    // Every figure beside the last full run's (docs/bench/baseline.json).
    let figures = baseline::figures(&all);
    let base_path = std::env::var_os("BENCH_BASELINE")
        .map(PathBuf::from)
        .unwrap_or_else(|| baseline::path(&docs::root(&cfg).unwrap_or_else(checkout)));
    let (mut regressions, mut memory_regressions) = (0, 0);
    match std::fs::read_to_string(&base_path) {
        Ok(text) => {
            let base = baseline::parse(&text);
            let (lines, n) = baseline::compare(&figures, &base);
            regressions = n;
            let memory: Vec<baseline::Figure> = figures
                .iter()
                .filter(|f| baseline::is_memory(&f.unit))
                .cloned()
                .collect();
            memory_regressions = baseline::compare(&memory, &base).1;
            println!();
            println!(
                "beside the baseline ({}: {}, load average {} before):",
                base_path.display(),
                baseline::meta(&text, "date").unwrap_or_default(),
                baseline::meta(&text, "load_before").unwrap_or_default()
            );
            print!("{lines}");
            println!(
                "load: {n} REGRESSION(s) (worse than {:.0}% for memory, {:.0}% for time, CPU and rates)",
                baseline::MEMORY_SLACK * 100.0,
                baseline::TIME_SLACK * 100.0
            );
        }
        Err(e) => println!(
            "load: no baseline to compare with ({}: {e})",
            base_path.display()
        ),
    }
    // A full run writes the baseline (with the README's table below, from
    // the same figures); BENCH_WRITE_BASELINE=1 makes any run write it.
    let write_baseline = std::env::var("BENCH_WRITE_BASELINE").is_ok_and(|v| v == "1");
    if write_baseline || docs::root(&cfg).is_some() {
        let mut meta: Vec<(&str, String)> = vec![
            ("date", docs::utc_now()),
            ("command", docs::command()),
            ("cores", machine.cores.to_string()),
            ("cpu", machine.cpu.clone()),
            ("load_before", machine.load.clone()),
            ("load_after", docs::load_average()),
            ("runs", cfg.runs.to_string()),
        ];
        if let Ok(note) = std::env::var("BENCH_BASELINE_NOTE") {
            meta.push(("note", note));
        }
        match report::write(&base_path, &baseline::to_json(&meta, &figures)) {
            Ok(()) => println!("load: wrote {}", base_path.display()),
            Err(e) => eprintln!("load: could not write the baseline: {e}"),
        }
    }
    if let Some(root) = docs::root(&cfg) {
        let run = docs::RunInfo {
            machine,
            load_after: docs::load_average(),
            elapsed_s: elapsed,
            peers: docs::peer_versions(&scenarios::peers_dir()),
        };
        match docs::write_all(&root, &cfg, &run, &all, &side) {
            Ok(written) => {
                for path in written {
                    println!("load: wrote {}", path.display());
                }
            }
            Err(e) => eprintln!("load: could not write the docs: {e}"),
        }
    }
    // BENCH_FAIL_ON_REGRESSION=1: exit 2 on any regression; `memory`: on
    // a memory figure's only (`make bench-memory`, before a commit).
    match std::env::var("BENCH_FAIL_ON_REGRESSION").as_deref() {
        Ok("1") if regressions > 0 => std::process::exit(2),
        Ok("memory") if memory_regressions > 0 => {
            println!("load: {memory_regressions} memory REGRESSION(s)");
            std::process::exit(2)
        }
        _ => {}
    }
}

/// The checkout this program was built from (bench/'s parent).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Run one scenario `cfg.runs` times against `what`. A peer without a
/// launcher gets one failed run that says how to build it; a peer's figures
/// carry no targets (they are ours).
fn repeat(cfg: &Config, name: &str, what: &Launch, mut one: impl FnMut() -> Run) -> Vec<Run> {
    if !what.path.exists() {
        let mut run = Run::default();
        run.fail(format!(
            "{}: no launcher at {} (make bench builds it with bench/peers/setup.sh)",
            what.name,
            what.path.display()
        ));
        return vec![run];
    }
    (1..=cfg.runs)
        .map(|i| {
            eprintln!("{name} ({}): run {i}/{}", what.name, cfg.runs);
            let mut run = one();
            if !what.is_ours() {
                for m in &mut run.metrics {
                    m.target = None;
                }
            }
            run
        })
        .collect()
}
