//! Opt-in comparison with peer chat servers (`BENCH_PEERS`): the closed-loop
//! fan-out, same sizes and runs as ours, against each peer's launcher in
//! the same `make bench` run, and the ratio of our figures to theirs.
//! A peer that is missing, refuses clients, drops or loses lines is
//! reported as such (its runs fail), never a panic.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::{num, Run, Scenario, Target};
use crate::scenarios::{self, Config};

/// Ours ahead of the fastest peer by at least this much (deliveries/s).
const AHEAD: f64 = 1.2;

/// One server's fan-out figures at one size, medians over its runs.
struct Figures {
    rate: f64,
    cpu: f64,
    lost: f64,
    failed: usize,
    runs: usize,
}

fn figures(s: &Scenario, prefix: &str) -> Figures {
    let rows = s.rows();
    let get = |k: &str| {
        rows.iter()
            .find(|r| r.key == format!("{prefix}.{k}"))
            .map_or(f64::NAN, |r| r.median)
    };
    Figures {
        rate: get("deliveries_per_s"),
        cpu: get("server_cpu_per_delivery"),
        lost: get("lost"),
        failed: s.runs.iter().filter(|r| !r.failures.is_empty()).count(),
        runs: s.runs.len(),
    }
}

/// A peer's runs keep their figures under `peer_NAME.` and without our
/// targets (they are not the peer's).
fn relabel(run: &mut Run, name: &str) {
    for m in &mut run.metrics {
        m.key = format!("peer_{name}.{}", m.key);
        m.target = None;
    }
}

fn peer_runs(cfg: &Config, name: &str, bin: &Path, n: usize, count: u32) -> Vec<Run> {
    if !bin.exists() {
        let mut run = Run::default();
        run.fail(format!("peer {name}: no launcher at {}", bin.display()));
        return vec![run];
    }
    (1..=cfg.runs)
        .map(|i| {
            eprintln!("peer {name} fanout N={n}: run {i}/{}", cfg.runs);
            let mut run = scenarios::fanout_on(cfg, bin, n, count);
            relabel(&mut run, name);
            run
        })
        .collect()
}

/// Run every peer at every fan-out size. `ours` holds our fan-out
/// scenarios, in `cfg.fanout` order. Returns the peers' scenarios, then one
/// with the ratios, and the side-by-side table.
pub fn compare(cfg: &Config, ours: &[&Scenario]) -> (Vec<Scenario>, String) {
    let mut out = Vec::new();
    let mut ratios = Run::default();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "fan-out against peers, same load generator, medians of {} run(s)",
        cfg.runs
    );
    let _ = writeln!(
        text,
        "{:<14} {:>7} {:>14} {:>16} {:>8} {:>8} {:>11}",
        "server", "clients", "deliveries/s", "CPU/delivery us", "lost", "failed", "ours/peer"
    );
    let _ = writeln!(text, "{}", "-".repeat(84));
    let line = |text: &mut String, who: &str, n: usize, f: &Figures, ratio: f64| {
        let _ = writeln!(
            text,
            "{:<14} {:>7} {:>14} {:>16} {:>8} {:>8} {:>11}",
            who,
            n,
            num(f.rate),
            num(f.cpu),
            num(f.lost),
            format!("{}/{}", f.failed, f.runs),
            if ratio.is_finite() {
                format!("{ratio:.2}x")
            } else {
                String::new()
            }
        );
    };
    for (i, &(n, count)) in cfg.fanout.iter().enumerate() {
        let prefix = format!("fanout_n{n}");
        let Some(our) = ours.get(i).map(|s| figures(s, &prefix)) else {
            continue;
        };
        line(&mut text, "chat-server", n, &our, f64::NAN);
        let mut fastest: Option<(String, f64)> = None;
        for (name, bin) in &cfg.peers {
            let s = Scenario {
                key: "peer_fanout",
                title: format!(
                    "1p. peer {name}: fan-out, closed loop: {n} clients x {count} msgs of 64 B ({})",
                    bin.display()
                ),
                runs: peer_runs(cfg, name, bin, n, count),
            };
            let theirs = figures(&s, &format!("peer_{name}.{prefix}"));
            let ratio = our.rate / theirs.rate;
            line(&mut text, name, n, &theirs, ratio);
            if theirs.failed > 0 {
                let lost = if theirs.lost.is_finite() {
                    format!("median {} lines lost", num(theirs.lost))
                } else {
                    "no figures".into()
                };
                ratios.note(format!(
                    "peer {name} N={n}: {} of {} run(s) failed ({lost}); see its section",
                    theirs.failed, theirs.runs
                ));
            }
            let p = format!("vs_{name}_n{n}");
            ratios.put(
                &format!("{p}.deliveries_ratio"),
                &format!("N={n} {name}: deliveries/s ours/peer"),
                "x",
                ratio,
            );
            ratios.put(
                &format!("{p}.cpu_ratio"),
                &format!("N={n} {name}: CPU/delivery peer/ours"),
                "x",
                theirs.cpu / our.cpu,
            );
            if theirs.rate.is_finite() && fastest.as_ref().is_none_or(|(_, r)| theirs.rate > *r) {
                fastest = Some((name.clone(), theirs.rate));
            }
            out.push(s);
        }
        if let Some((name, rate)) = fastest {
            ratios.put_target(
                &format!("vs_fastest_n{n}.deliveries_ratio"),
                &format!("N={n} ours/fastest peer ({name})"),
                "x",
                our.rate / rate,
                Some(Target::AtLeast(AHEAD)),
            );
        }
    }
    out.push(Scenario {
        key: "peers",
        title: "1q. fan-out, ours against the peers (ratios of medians)".into(),
        runs: vec![ratios],
    });
    (out, text)
}
