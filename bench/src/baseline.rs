//! `docs/bench/baseline.json`: the last full run's figures (committed), and
//! after every run each figure beside it with the change in percent, a
//! change worse than [`MEMORY_SLACK`] (memory) or [`TIME_SLACK`] (time,
//! CPU, throughput) marked `REGRESSION`.
//!
//! The file is JSON written one figure per line, so this module reads it
//! back without a JSON library:
//!
//! ```text
//! {
//!   "meta": { "date": "...", "load_before": "...", ... },
//!   "figures": {
//!     "chat-server/idle_1000.rss_per_client": { "value": 11.2, "unit": "KiB" },
//!     ...
//!   }
//! }
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::report::{median, Scenario};

/// A memory figure worse by more than this fraction is a regression.
pub const MEMORY_SLACK: f64 = 0.10;
/// A time, CPU or throughput figure worse by more than this fraction is a
/// regression.
pub const TIME_SLACK: f64 = 0.20;

/// One figure: `server/key`, its unit, its value (the median over runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: String,
    pub unit: String,
    pub value: f64,
}

/// Which way is better for a unit, and how much worse is tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    /// Smaller is better: times and CPU.
    Time,
    /// Larger is better: rates.
    Rate,
    /// Lines lost or duplicated: any increase from zero is a regression.
    Count,
    /// No better or worse (thread counts, history lines): shown, never marked.
    Neutral,
}

fn kind(unit: &str, name: &str) -> Kind {
    match unit {
        "KiB" | "MiB" | "B" => Kind::Memory,
        "ms" | "us" | "s" | "cores" => Kind::Time,
        "1/s" => Kind::Rate,
        "lines" => Kind::Count,
        _ if name.ends_with("greeted") => Kind::Rate,
        _ => Kind::Neutral,
    }
}

/// Whether a figure of this unit is a memory figure.
pub fn is_memory(unit: &str) -> bool {
    kind(unit, "") == Kind::Memory
}

/// The default place: `docs/bench/baseline.json` in the checkout.
pub fn path(root: &Path) -> PathBuf {
    root.join("docs/bench/baseline.json")
}

/// Every figure of `all`, the median of its runs, named `server/key`.
pub fn figures(all: &[Scenario]) -> Vec<Figure> {
    let mut out: Vec<Figure> = Vec::new();
    for s in all {
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for run in &s.runs {
            for m in &run.metrics {
                if !keys.iter().any(|(k, _)| *k == m.key) {
                    keys.push((&m.key, m.unit));
                }
            }
        }
        for (key, unit) in keys {
            let values: Vec<f64> = s
                .runs
                .iter()
                .flat_map(|r| r.metrics.iter().filter(|m| m.key == key).map(|m| m.value))
                .collect();
            let name = format!("{}/{key}", s.server);
            if out.iter().any(|f| f.name == name) {
                continue;
            }
            out.push(Figure {
                name,
                unit: unit.to_string(),
                value: median(&values),
            });
        }
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace(['"', '\\'], ""))
}

/// The baseline file's text.
pub fn to_json(meta: &[(&str, String)], figures: &[Figure]) -> String {
    let mut out = String::from("{\n  \"meta\": {\n");
    for (i, (k, v)) in meta.iter().enumerate() {
        let comma = if i + 1 < meta.len() { "," } else { "" };
        let _ = writeln!(out, "    {}: {}{comma}", quote(k), quote(v));
    }
    out.push_str("  },\n  \"figures\": {\n");
    for (i, f) in figures.iter().enumerate() {
        let comma = if i + 1 < figures.len() { "," } else { "" };
        let _ = writeln!(
            out,
            "    {}: {{ \"value\": {}, \"unit\": {} }}{comma}",
            quote(&f.name),
            if f.value.is_finite() {
                format!("{:.6}", f.value)
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            } else {
                "null".into()
            },
            quote(&f.unit)
        );
    }
    out.push_str("  }\n}\n");
    out
}

/// The figures in a baseline file's text (lines the writer wrote; others
/// are skipped).
pub fn parse(text: &str) -> Vec<Figure> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let (name, rest) = line.strip_prefix('"')?.split_once("\": {")?;
            let value = rest.split_once("\"value\":")?.1.split(',').next()?.trim();
            let unit = rest.split_once("\"unit\":")?.1.trim();
            let unit = unit.strip_prefix('"')?.split('"').next()?;
            Some(Figure {
                name: name.to_string(),
                unit: unit.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// A meta field of a baseline file's text (`load_before`, `date`).
pub fn meta(text: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":");
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix(&key)?.trim().trim_end_matches(',');
        Some(v.trim_matches('"').to_string())
    })
}

/// The change from `base` to `now` in percent, and whether it is a
/// regression for a figure of this unit.
pub fn change(name: &str, unit: &str, base: f64, now: f64) -> (f64, bool) {
    if !base.is_finite() || !now.is_finite() {
        return (f64::NAN, false);
    }
    let pct = if base == 0.0 {
        if now == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(now)
        }
    } else {
        (now - base) / base.abs() * 100.0
    };
    let worse = match kind(unit, name) {
        Kind::Memory => pct > MEMORY_SLACK * 100.0,
        Kind::Time => pct > TIME_SLACK * 100.0,
        Kind::Rate => pct < -TIME_SLACK * 100.0,
        Kind::Count => now > base,
        Kind::Neutral => false,
    };
    (pct, worse)
}

/// Each figure of this run beside the baseline's. Returns the text and the
/// number of regressions.
pub fn compare(now: &[Figure], base: &[Figure]) -> (String, usize) {
    let mut out = String::new();
    let mut regressions = 0;
    let width = now.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in now {
        let Some(b) = base.iter().find(|b| b.name == f.name) else {
            let _ = writeln!(
                out,
                "  {:width$}  {:>12} {:<5}  (not in the baseline)",
                f.name,
                crate::report::num(f.value),
                f.unit
            );
            continue;
        };
        let (pct, worse) = change(&f.name, &f.unit, b.value, f.value);
        regressions += usize::from(worse);
        let _ = writeln!(
            out,
            "  {:width$}  {:>12} {:<5}  baseline {:>12}  {:>+8.1}%{}",
            f.name,
            crate::report::num(f.value),
            f.unit,
            crate::report::num(b.value),
            pct,
            if worse { "  REGRESSION" } else { "" }
        );
    }
    (out, regressions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_it_writes_it_reads_back() {
        let figures = vec![
            Figure {
                name: "chat-server/idle_1000.rss_per_client".into(),
                unit: "KiB".into(),
                value: 11.25,
            },
            Figure {
                name: "tokio/fanout_n1000.deliveries_per_s".into(),
                unit: "1/s".into(),
                value: 1.5e6,
            },
        ];
        let text = to_json(&[("load_before", "9.1 6.8 5.7".into())], &figures);
        assert_eq!(parse(&text), figures);
        assert_eq!(meta(&text, "load_before").as_deref(), Some("9.1 6.8 5.7"));
    }

    #[test]
    fn worse_past_the_slack_is_a_regression() {
        // Memory: 10%.
        assert!(!change("x", "KiB", 10.0, 10.9).1);
        assert!(change("x", "KiB", 10.0, 11.1).1);
        assert!(!change("x", "KiB", 10.0, 5.0).1);
        // Time and CPU: 20%.
        assert!(!change("x", "ms", 10.0, 11.9).1);
        assert!(change("x", "us", 10.0, 12.1).1);
        // Rates: 20% fewer.
        assert!(!change("x", "1/s", 100.0, 81.0).1);
        assert!(change("x", "1/s", 100.0, 79.0).1);
        // Lost lines: any.
        assert!(change("x", "lines", 0.0, 1.0).1);
        // Neither better nor worse.
        assert!(!change("x", "", 10.0, 100.0).1);
        let (text, n) = compare(
            &[Figure {
                name: "a".into(),
                unit: "KiB".into(),
                value: 12.0,
            }],
            &[Figure {
                name: "a".into(),
                unit: "KiB".into(),
                value: 10.0,
            }],
        );
        assert_eq!(n, 1);
        assert!(text.contains("+20.0%  REGRESSION"), "{text}");
    }
}
