//! Ours and the peers side by side, from the scenarios of one run: the
//! throughput table (deliveries per second with the server's CPU per
//! delivery next to each, and the paced latency) and the memory table (per
//! idle client: resident, kernel stack, TCP buffers, their sum). Printed
//! after the full table, and written into `docs/bench/` and the README.

use std::fmt::Write as _;

use crate::report::{num, Row, Scenario};
use crate::scenarios::Config;

/// A table of strings: a header and rows.
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.head.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(self.head.len()));
        for r in &self.rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        out
    }

    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.head.len())
            .map(|i| {
                std::iter::once(&self.head)
                    .chain(&self.rows)
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |r: &Vec<String>| {
            r.iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = String::new();
        let _ = writeln!(out, "{}", line(&self.head));
        let _ = writeln!(
            out,
            "{}",
            "-".repeat(widths.iter().sum::<usize>() + 2 * widths.len())
        );
        for r in &self.rows {
            let _ = writeln!(out, "{}", line(r));
        }
        out
    }
}

/// The two side-by-side tables of one run.
pub struct Summary {
    pub throughput: Table,
    pub memory: Table,
    /// Ours against each peer, one sentence each.
    pub ratios: Vec<String>,
    /// What the throughput table's columns ran.
    pub sizes: String,
    /// Ours with rooms and history, one sentence each; empty
    /// when the server has none.
    pub rooms: Vec<String>,
    /// The scale-out row: one instance against two over Redis,
    /// one sentence each; empty when not run.
    pub scale_out: Vec<String>,
    /// The bell, the big room, the lecture and fan-out by store, one
    /// sentence each; empty when not run.
    pub moments: Vec<String>,
}

/// The scenario `key` of `server` holding figure `figure`, and that row.
pub fn find<'a>(
    all: &'a [Scenario],
    key: &str,
    server: &str,
    figure: &str,
) -> Option<(&'a Scenario, Row)> {
    all.iter()
        .filter(|s| s.key == key && s.server == server)
        .find_map(|s| {
            s.rows()
                .into_iter()
                .find(|r| r.key == figure)
                .map(|r| (s, r))
        })
}

/// `median (min-max)` scaled by `scale`, or `-`; a scenario with failed
/// runs says so.
fn cell(all: &[Scenario], key: &str, server: &str, figure: &str, scale: f64) -> String {
    let failed = |s: &Scenario| {
        let bad = s.runs.iter().filter(|r| !r.failures.is_empty()).count();
        (bad > 0).then(|| format!(" (failed {bad}/{})", s.runs.len()))
    };
    match find(all, key, server, figure) {
        Some((s, r)) => {
            let mut c = num(r.median * scale);
            if r.values.len() > 1 {
                let _ = write!(c, " ({}-{})", num(r.min * scale), num(r.max * scale));
            }
            c + &failed(s).unwrap_or_default()
        }
        None => all
            .iter()
            .find(|s| s.key == key && s.server == server)
            .and_then(failed)
            .map_or("-".into(), |f| format!("-{f}")),
    }
}

fn median(all: &[Scenario], key: &str, server: &str, figure: &str) -> f64 {
    find(all, key, server, figure).map_or(f64::NAN, |(_, r)| r.median)
}

impl Summary {
    pub fn new(cfg: &Config, all: &[Scenario]) -> Summary {
        let servers: Vec<String> = std::iter::once("chat-server".to_string())
            .chain(cfg.peers.iter().map(|p| p.name.clone()))
            .collect();
        let mut head = vec!["server".to_string()];
        for &(n, _) in &cfg.fanout {
            head.push(format!("fan-out {n} clients: M deliveries/s"));
            head.push("server CPU us/delivery".into());
        }
        let (pn, rate, _) = cfg.paced;
        head.push(format!("paced {pn} x {rate}/s: p50 / p99 ms"));
        head.push("server CPU us/delivery".into());
        let mut rows = Vec::new();
        for who in &servers {
            let mut row = vec![label(who)];
            for &(n, _) in &cfg.fanout {
                let p = format!("fanout_n{n}");
                row.push(cell(
                    all,
                    "fanout",
                    who,
                    &format!("{p}.deliveries_per_s"),
                    1e-6,
                ));
                row.push(cell(
                    all,
                    "fanout",
                    who,
                    &format!("{p}.server_cpu_per_delivery"),
                    1.0,
                ));
            }
            row.push(format!(
                "{} / {}",
                num(median(all, "paced", who, "paced.p50")),
                cell(all, "paced", who, "paced.p99", 1.0)
            ));
            row.push(cell(
                all,
                "paced",
                who,
                "paced.server_cpu_per_delivery",
                1.0,
            ));
            rows.push(row);
        }
        let throughput = Table { head, rows };

        let mut head = vec!["server".to_string()];
        for &k in &cfg.idle_steps {
            head.push(format!("{k} idle: RSS"));
            head.push("kernel stack".into());
            head.push("TCP buffers".into());
            head.push("sum (KiB/client)".into());
        }
        if let Some(k) = cfg.idle_steps.last() {
            head.push(format!("threads at {k}"));
        }
        let mut rows = Vec::new();
        for who in &servers {
            let mut row = vec![label(who)];
            for &k in &cfg.idle_steps {
                let p = format!("idle_{k}");
                for f in [
                    "rss_per_client",
                    "kernel_stack_per_client",
                    "socket_buffers_per_client",
                    "memory_per_client",
                ] {
                    row.push(cell(all, "idle", who, &format!("{p}.{f}"), 1.0));
                }
            }
            if let Some(k) = cfg.idle_steps.last() {
                row.push(num(median(all, "idle", who, &format!("idle_{k}.threads"))));
            }
            rows.push(row);
        }
        let memory = Table { head, rows };

        let mut ratios = Vec::new();
        for peer in &cfg.peers {
            let mut parts = Vec::new();
            for &(n, _) in &cfg.fanout {
                let p = format!("fanout_n{n}");
                let ours = median(
                    all,
                    "fanout",
                    "chat-server",
                    &format!("{p}.deliveries_per_s"),
                );
                let theirs = median(all, "fanout", &peer.name, &format!("{p}.deliveries_per_s"));
                let cpu_ours = median(
                    all,
                    "fanout",
                    "chat-server",
                    &format!("{p}.server_cpu_per_delivery"),
                );
                let cpu_theirs = median(
                    all,
                    "fanout",
                    &peer.name,
                    &format!("{p}.server_cpu_per_delivery"),
                );
                if !(ours / theirs).is_finite() {
                    continue;
                }
                let cpu = cpu_theirs / cpu_ours;
                let cpu = if cpu >= 1.0 {
                    format!("{} less", times(cpu))
                } else {
                    format!("{} more", times(1.0 / cpu))
                };
                parts.push(format!(
                    "{n} clients: {} the deliveries/s, {cpu} server CPU per delivery",
                    times(ours / theirs),
                ));
            }
            if !parts.is_empty() {
                ratios.push(format!(
                    "ours against {}: {}",
                    label(&peer.name),
                    parts.join("; ")
                ));
            }
        }
        let mut rooms = Vec::new();
        let ours = "chat-server";
        if find(all, "rooms", ours, "rooms.fanout.deliveries_per_s").is_some() {
            let (n, r, _) = cfg.rooms;
            rooms.push(format!(
                "{n} clients in {r} rooms of {}, closed loop: {} M deliveries/s ({} messages/s against {} in one room of {n}), server CPU {} us per delivery",
                n / r as usize,
                cell(all, "rooms", ours, "rooms.fanout.deliveries_per_s", 1e-6),
                cell(all, "rooms", ours, "rooms.fanout.messages_per_s", 1.0),
                cell(all, "fanout", ours, &format!("fanout_n{n}.messages_per_s"), 1.0),
                cell(all, "rooms", ours, "rooms.fanout.server_cpu_per_delivery", 1.0),
            ));
        }
        for (key, what) in [
            ("with_history", "joining a room with 100 lines of history"),
            ("no_history", "joining a room with none"),
        ] {
            let p = format!("rooms.join_{key}");
            if find(all, "rooms", ours, &format!("{p}.p50")).is_some() {
                rooms.push(format!(
                    "{what}: connect to greeting p50 {} ms, p99 {} ms; server CPU {} us per join",
                    cell(all, "rooms", ours, &format!("{p}.p50"), 1.0),
                    cell(all, "rooms", ours, &format!("{p}.p99"), 1.0),
                    cell(all, "rooms", ours, &format!("{p}.server_cpu_per_join"), 1.0),
                ));
            }
        }
        let mut scale_out = Vec::new();
        let (n, count, rate) = cfg.scale_out;
        for (instances, what) in [
            (1, "1 instance, no Redis".to_string()),
            (2, format!("2 instances over Redis, {} clients each", n / 2)),
        ] {
            let p = format!("scale_out_{instances}");
            if find(all, "scaleout", ours, &format!("{p}.deliveries_per_s")).is_some() {
                scale_out.push(format!(
                    "{what}: {} M deliveries/s closed loop ({n} clients x {count}), CPU {} us per delivery (instances + Redis); paced ({rate} msg/s each) p50 {} ms, p99 {} ms",
                    cell(all, "scaleout", ours, &format!("{p}.deliveries_per_s"), 1e-6),
                    cell(all, "scaleout", ours, &format!("{p}.server_cpu_per_delivery"), 1.0),
                    cell(all, "scaleout", ours, &format!("{p}.paced_p50"), 1.0),
                    cell(all, "scaleout", ours, &format!("{p}.paced_p99"), 1.0),
                ));
            }
        }
        let mut moments = Vec::new();
        if find(all, "bell", ours, "bell.p50").is_some() {
            let (n, within) = cfg.bell;
            moments.push(format!(
                "the bell ({n} joins within {:.0} s into a room with 100 lines of history, the store on): {} greeted; connect to presence line p50 {} ms, p99 {} ms, max {} ms; server CPU {} us per join",
                within.as_secs_f64(),
                cell(all, "bell", ours, "bell.greeted", 1.0),
                cell(all, "bell", ours, "bell.p50", 1.0),
                cell(all, "bell", ours, "bell.p99", 1.0),
                cell(all, "bell", ours, "bell.max", 1.0),
                cell(all, "bell", ours, "bell.server_cpu_per_join", 1.0),
            ));
        }
        for &n in &cfg.big_room {
            let p = format!("bigroom_{n}");
            if find(all, "bigroom", ours, &format!("{p}.last_member_p50")).is_some() {
                moments.push(format!(
                    "the big room ({n} members, one line at a time): to the last member p50 {} ms, p99 {} ms",
                    cell(all, "bigroom", ours, &format!("{p}.last_member_p50"), 1.0),
                    cell(all, "bigroom", ours, &format!("{p}.last_member_p99"), 1.0),
                ));
            }
        }
        for &(n, _) in &cfg.big_fanout {
            let p = format!("fanout_n{n}");
            if find(all, "bigroom", ours, &format!("{p}.deliveries_per_s")).is_some() {
                let tokio = if cfg.peers.iter().any(|p| p.name == "tokio") {
                    format!(
                        " (tokio-tungstenite example: {} M, {} us)",
                        cell(
                            all,
                            "bigroom",
                            "tokio",
                            &format!("{p}.deliveries_per_s"),
                            1e-6
                        ),
                        cell(
                            all,
                            "bigroom",
                            "tokio",
                            &format!("{p}.server_cpu_per_delivery"),
                            1.0
                        ),
                    )
                } else {
                    String::new()
                };
                moments.push(format!(
                    "the big room's fan-out, {n} members, closed loop: {} M deliveries/s, server CPU {} us per delivery{tokio}",
                    cell(all, "bigroom", ours, &format!("{p}.deliveries_per_s"), 1e-6),
                    cell(all, "bigroom", ours, &format!("{p}.server_cpu_per_delivery"), 1.0),
                ));
            }
        }
        if find(all, "lecture", ours, "lecture.p99").is_some() {
            let (students, chatters, secs, _) = cfg.lecture;
            moments.push(format!(
                "a lecture ({students} students, {chatters} chatting at 1 line/s, a teacher line every 5 s, {secs} s): delivery p50 {} ms, p99 {} ms; server CPU use {} cores",
                cell(all, "lecture", ours, "lecture.p50", 1.0),
                cell(all, "lecture", ours, "lecture.p99", 1.0),
                cell(all, "lecture", ours, "lecture.server_cores", 1.0),
            ));
        }
        for store in crate::moments::Store::ALL {
            let p = format!("store_{}", store.key());
            if find(all, "store", ours, &format!("{p}.deliveries_per_s")).is_some() {
                moments.push(format!(
                    "fan-out with {}: {} M deliveries/s, server CPU {} us per delivery",
                    store.label(),
                    cell(all, "store", ours, &format!("{p}.deliveries_per_s"), 1e-6),
                    cell(
                        all,
                        "store",
                        ours,
                        &format!("{p}.server_cpu_per_delivery"),
                        1.0
                    ),
                ));
            }
        }
        let sizes = cfg
            .fanout
            .iter()
            .enumerate()
            .map(|(i, &(n, count))| {
                let theirs = cfg.peer_fanout.get(i).map_or(count, |&(_, c)| c);
                format!("{n} clients x {count} messages each (the peers: x {theirs})")
            })
            .collect::<Vec<_>>()
            .join("; ");
        let sizes = format!(
            "Fan-out, closed loop, 64-byte messages, at most 8 of a client's own in flight: {sizes}. \
             Paced: {pn} clients x {rate} messages/s for {} s.",
            cfg.paced.2
        );
        Summary {
            throughput,
            memory,
            ratios,
            sizes,
            rooms,
            scale_out,
            moments,
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::from("ours and the peers, medians (min-max) of this run\n\n");
        out.push_str(&self.throughput.text());
        out.push('\n');
        out.push_str("memory per idle client, KiB\n");
        out.push_str(&self.memory.text());
        out.push('\n');
        let all = self.ratios.iter().chain(&self.rooms);
        for r in all.chain(&self.scale_out).chain(&self.moments) {
            let _ = writeln!(out, "{r}");
        }
        out
    }
}

fn times(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}x")
    } else {
        "-".into()
    }
}

/// The name a reader knows a server by.
pub fn label(server: &str) -> String {
    match server {
        "tokio" => "tokio-tungstenite example".into(),
        "node" => "Node ws example".into(),
        "python" => "Python websockets example".into(),
        other => other.into(),
    }
}
