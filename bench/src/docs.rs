//! What a full run writes for readers: the figures of
//! this one run as markdown (`docs/bench/latest.md`), the chart
//! (`docs/bench/chart.svg`), and the README's performance table between
//! `<!-- bench:begin -->` and `<!-- bench:end -->`, each with the command,
//! the date, the machine and the spread.

use std::path::{Path, PathBuf};

use crate::compare::Summary;
use crate::report::{self, Scenario};
use crate::scenarios::Config;

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";

/// The machine a run was on.
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub kernel: String,
    /// `/proc/loadavg`'s three load averages when the run began.
    pub load: String,
    /// `YYYY-MM-DD HH:MM UTC` when the run began.
    pub date: String,
}

impl Machine {
    pub fn now() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown CPU".into(), |(_, m)| m.trim().to_string());
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            kernel: format!("Linux {}", read("/proc/sys/kernel/osrelease").trim()),
            load: load_average(),
            date: utc_now(),
        }
    }
}

/// The 1, 5 and 15 minute load averages now.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Everything about the run besides its figures.
pub struct RunInfo {
    pub machine: Machine,
    pub load_after: String,
    pub elapsed_s: f64,
    /// What `bench/peers/setup.sh` built, one line each.
    pub peers: Vec<String>,
}

/// The lines of `versions.txt` that `bench/peers/setup.sh` wrote.
pub fn peer_versions(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("versions.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Where to write: `BENCH_DOCS=DIR` (a checkout), `BENCH_DOCS=0` nowhere;
/// by default this checkout, but only after a full run (a quick or partial
/// run must not replace the README's figures).
pub fn root(cfg: &Config) -> Option<PathBuf> {
    match std::env::var("BENCH_DOCS") {
        Ok(v) if v == "0" || v.is_empty() => None,
        Ok(v) => Some(PathBuf::from(v)),
        Err(_) if cfg.quick || !cfg.only.is_empty() => None,
        // bench/'s parent: the checkout this program was built from.
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf),
    }
}

/// The command as run: `make bench`, after any `BENCH_*` settings.
pub fn command() -> String {
    let mut vars: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("BENCH_") && k != "BENCH_DOCS" && k != "BENCH_BASELINE_NOTE")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    vars.sort();
    vars.push("make bench".into());
    vars.join(" ")
}

fn header(cfg: &Config, run: &RunInfo) -> String {
    let m = &run.machine;
    format!(
        "`{}` on {}, {} cores ({}), {}; load average {} before, {} after; {:.0} min; each figure the median of {} run(s), (min-max) over them.",
        command(),
        m.date,
        m.cores,
        m.cpu,
        m.kernel,
        m.load,
        run.load_after,
        run.elapsed_s / 60.0,
        cfg.runs,
    )
}

/// Write `docs/bench/latest.md`, `docs/bench/chart.svg` and the README's
/// table under `root`; returns the files written.
pub fn write_all(
    root: &Path,
    cfg: &Config,
    run: &RunInfo,
    all: &[Scenario],
    side: &Summary,
) -> Result<Vec<PathBuf>, String> {
    let dir = root.join("docs/bench");
    let caption = format!(
        "make bench, {}: {} cores, {}",
        run.machine.date, run.machine.cores, run.machine.cpu
    );
    let chart = crate::chart::svg(cfg, all, &caption)?;
    let svg = dir.join("chart.svg");
    report::write(&svg, &chart)?;

    let header = header(cfg, run);
    let peers = if run.peers.is_empty() {
        "Peers: none built (`bench/peers/setup.sh`).".to_string()
    } else {
        format!("Peers (built by `bench/peers/setup.sh` from their registries; see `bench/README.md`):\n\n{}", run.peers.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"))
    };
    let ratios = side
        .ratios
        .iter()
        .map(|r| format!("- {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    let rooms = if side.rooms.is_empty() {
        String::new()
    } else {
        format!(
            "\nOurs with rooms:\n\n{}\n",
            side.rooms
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let moments = if side.moments.is_empty() {
        String::new()
    } else {
        format!(
            "\nOurs at a class's moments:\n\n{}\n",
            side.moments
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let scale_out = if side.scale_out.is_empty() {
        String::new()
    } else {
        format!(
            "\nOne machine, one room of {} clients, one instance against two over Redis (overhead, not scale):\n\n{}\n",
            cfg.scale_out.0,
            side.scale_out
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let latest = format!(
        "# Latest `make bench` run\n\n{header}\n\n{peers}\n\n![ours and the peers](chart.svg)\n\n\
         ## Ours and the peers\n\nSame load generator, same run. Deliveries are lines read by clients; \
         server CPU is the server process's user + system time (`/proc/PID/stat`) over the deliveries. {}\n\n{}\n{ratios}\n{rooms}{scale_out}{moments}\n\
         ## Memory per idle client, KiB\n\nResident memory (`VmRSS`), kernel stacks (`KernelStack` in `/proc/meminfo`) \
         and TCP buffers (`mem` in `/proc/net/sockstat`, both ends of each loopback connection), each as (after - before) / clients.\n\n{}\n\
         ## Every figure\n\n```text\n{}```\n",
        side.sizes,
        side.throughput.markdown(),
        side.memory.markdown(),
        report::table(all),
    );
    let md = dir.join("latest.md");
    report::write(&md, &latest)?;

    let readme = root.join("README.md");
    let text =
        std::fs::read_to_string(&readme).map_err(|e| format!("{}: {e}", readme.display()))?;
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!(
            "{} has no {BEGIN} ... {END} markers",
            readme.display()
        ));
    };
    if b < a {
        return Err(format!("{}: {END} before {BEGIN}", readme.display()));
    }
    let block = format!(
        "{BEGIN}\n{header}\n\n{}\n\n{}\n{ratios}\n{rooms}{scale_out}{moments}\nMemory per idle client, KiB:\n\n{}\n![ours and the peers](docs/bench/chart.svg)\n\n\
         Every figure of this run: [docs/bench/latest.md](docs/bench/latest.md).\n",
        side.sizes,
        side.throughput.markdown(),
        side.memory.markdown(),
    );
    let updated = format!("{}{block}{}", &text[..a], &text[b..]);
    report::write(&readme, &updated)?;
    Ok(vec![md, svg, readme])
}
