//! Figures from each run, their median and spread over runs, the table and
//! the JSON file.

use std::fmt::Write as _;
use std::path::Path;

/// What a figure is measured against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Below(f64),
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    fn check(self, v: f64) -> bool {
        match self {
            Target::Below(t) => v < t,
            Target::AtMost(t) => v <= t,
            Target::AtLeast(t) => v >= t,
        }
    }

    fn show(self) -> String {
        match self {
            Target::Below(t) => format!("< {}", num(t)),
            Target::AtMost(t) => format!("<= {}", num(t)),
            Target::AtLeast(t) => format!(">= {}", num(t)),
        }
    }
}

/// One figure from one run.
#[derive(Debug, Clone)]
pub struct Metric {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub value: f64,
    pub target: Option<Target>,
}

/// One run of one scenario: its figures, and what went wrong if anything did.
#[derive(Debug, Default)]
pub struct Run {
    pub metrics: Vec<Metric>,
    /// Every delivery's latency, for the chart (the paced scenario's).
    pub latency: Option<crate::hist::Hist>,
    pub failures: Vec<String>,
    pub notes: Vec<String>,
}

impl Run {
    pub fn put(&mut self, key: &str, label: &str, unit: &'static str, value: f64) {
        self.put_target(key, label, unit, value, None);
    }

    pub fn put_target(
        &mut self,
        key: &str,
        label: &str,
        unit: &'static str,
        value: f64,
        target: Option<Target>,
    ) {
        if value.is_finite() {
            self.metrics.push(Metric {
                key: key.into(),
                label: label.into(),
                unit,
                value,
                target,
            });
        }
    }

    pub fn fail(&mut self, why: impl Into<String>) {
        let why = why.into();
        eprintln!("    FAILED: {why}");
        self.failures.push(why);
    }

    pub fn note(&mut self, what: impl Into<String>) {
        let what = what.into();
        eprintln!("    note: {what}");
        self.notes.push(what);
    }
}

/// Every run of one scenario.
pub struct Scenario {
    pub key: &'static str,
    /// `chat-server`, or the peer's name.
    pub server: String,
    pub title: String,
    pub runs: Vec<Run>,
}

/// A figure over the runs.
pub struct Row {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub values: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub target: Option<Target>,
}

impl Row {
    pub fn pass(&self) -> Option<bool> {
        self.target.map(|t| t.check(self.median))
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Scenario {
    /// The figures in the order they were first measured.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = Vec::new();
        for m in self.runs.iter().flat_map(|r| &r.metrics) {
            match rows.iter_mut().find(|r| r.key == m.key) {
                Some(row) => row.values.push(m.value),
                None => rows.push(Row {
                    key: m.key.clone(),
                    label: m.label.clone(),
                    unit: m.unit,
                    values: vec![m.value],
                    median: 0.0,
                    min: 0.0,
                    max: 0.0,
                    target: m.target,
                }),
            }
        }
        for row in &mut rows {
            row.median = median(&row.values);
            row.min = row.values.iter().copied().fold(f64::INFINITY, f64::min);
            row.max = row.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        }
        rows
    }

    pub fn failures(&self) -> Vec<String> {
        self.runs
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.failures
                    .iter()
                    .map(move |f| format!("run {}: {f}", i + 1))
            })
            .collect()
    }

    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        for n in self.runs.iter().flat_map(|r| &r.notes) {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
        notes
    }
}

/// A number for people: thousands separated, about four significant digits.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 10_000.0 {
        let s = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 || a == a.trunc() {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The table, as printed.
pub fn table(scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<46} {:>12} {:>23} {:>5}  {:<13} {:<4}",
        "figure", "median", "spread (min-max)", "runs", "target", "ok"
    );
    let _ = writeln!(out, "{}", "-".repeat(110));
    for s in scenarios {
        let _ = writeln!(out, "{}", s.title);
        for row in s.rows() {
            let label = if row.unit.is_empty() {
                format!("  {}", row.label)
            } else {
                format!("  {} ({})", row.label, row.unit)
            };
            let spread = if row.values.len() > 1 {
                format!("{}-{}", num(row.min), num(row.max))
            } else {
                String::new()
            };
            let runs = format!("{}/{}", row.values.len(), s.runs.len());
            let ok = match row.pass() {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            let _ = writeln!(
                out,
                "{:<46} {:>12} {:>23} {:>5}  {:<13} {:<4}",
                label,
                num(row.median),
                spread,
                runs,
                row.target.map(Target::show).unwrap_or_default(),
                ok
            );
        }
        for f in s.failures() {
            let _ = writeln!(out, "  FAILED {f}");
        }
        for n in s.notes() {
            let _ = writeln!(out, "  note: {n}");
        }
    }
    out
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn json_list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

/// The same figures as the table, as JSON.
pub fn json(meta: &[(&str, String)], scenarios: &[Scenario]) -> String {
    let mut out = String::from("{\n  \"meta\": {");
    let meta: Vec<String> = meta
        .iter()
        .map(|(k, v)| format!("{}: {}", json_str(k), v))
        .collect();
    out.push_str(&meta.join(", "));
    out.push_str("},\n  \"scenarios\": [\n");
    let mut first = true;
    for s in scenarios {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        let _ = write!(
            out,
            "    {{\"key\": {}, \"server\": {}, \"title\": {}, \"runs\": {}, \"failures\": {}, \"notes\": {}, \"figures\": [",
            json_str(s.key),
            json_str(&s.server),
            json_str(&s.title),
            s.runs.len(),
            json_list(s.failures().iter().map(|f| json_str(f))),
            json_list(s.notes().iter().map(|n| json_str(n))),
        );
        let rows: Vec<String> = s
            .rows()
            .iter()
            .map(|r| {
                format!(
                    "\n      {{\"key\": {}, \"label\": {}, \"unit\": {}, \"median\": {}, \"min\": {}, \"max\": {}, \"values\": {}, \"target\": {}, \"pass\": {}}}",
                    json_str(&r.key),
                    json_str(&r.label),
                    json_str(r.unit),
                    json_num(r.median),
                    json_num(r.min),
                    json_num(r.max),
                    json_list(r.values.iter().map(|&v| json_num(v))),
                    r.target.map_or("null".into(), |t| json_str(&t.show())),
                    r.pass().map_or("null".into(), |p| p.to_string()),
                )
            })
            .collect();
        out.push_str(&rows.join(","));
        out.push_str("]}");
    }
    out.push_str("\n  ]\n}\n");
    out
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
