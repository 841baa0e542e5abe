//! Scenario 7, scale-out: the same 200 clients in one room, on
//! one instance without Redis, then split evenly over two release
//! instances joined through a `redis-server` this module starts on a free
//! loopback port (persistence off). Closed-loop deliveries per second and
//! paced latency, each run against fresh servers (and a fresh Redis). On
//! one machine this measures what the Redis hop costs, not what more
//! machines add: both instances and Redis share its cores.
//!
//! Runs on the coordinator thread; the clients are the fleet's.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::fleet::{Fleet, Role};
use crate::report::Run;
use crate::scenarios::{
    dropped, fleet_reasons_or, joins, ms, receivers, stop_server, wait_joined, wait_notices,
    Config, MAX_CLIENTS, WINDOW,
};
use crate::server::{self, ServerProc};
use crate::ws::Dialect;

/// A `redis-server` child on a free loopback port, killed when dropped.
pub struct Redis {
    child: Child,
    pub url: String,
}

impl Redis {
    /// Start `redis-server` with `--save '' --appendonly no` and wait (5 s
    /// at most) until it accepts. `Ok(None)` if the program is not installed.
    pub fn start() -> Result<Option<Redis>, String> {
        let port = server::free_port()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot start redis-server: {e}")),
        };
        let mut redis = Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = redis.child.try_wait() {
                return Err(format!("redis-server exited ({status})"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server not accepting on port {port} after 5 s"
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(Some(redis))
    }

    /// Its user plus system CPU time so far.
    fn cpu_seconds(&self) -> Option<f64> {
        server::proc_cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redis-server` is on the `PATH`: the two-instance runs can happen.
pub fn has_redis() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The servers of one run: `instances` of ours (with Redis when more than
/// one), or a failure already recorded in `run`.
struct Cluster {
    servers: Vec<ServerProc>,
    redis: Option<Redis>,
}

impl Cluster {
    fn start(cfg: &Config, instances: usize, run: &mut Run) -> Option<Cluster> {
        let redis = if instances > 1 {
            match Redis::start() {
                Ok(Some(r)) => Some(r),
                Ok(None) => {
                    run.fail("redis-server is not installed");
                    return None;
                }
                Err(e) => {
                    run.fail(e);
                    return None;
                }
            }
        } else {
            None
        };
        let extra: Vec<&str> = redis
            .as_ref()
            .map(|r| vec!["--redis", r.url.as_str()])
            .unwrap_or_default();
        let mut servers = Vec::with_capacity(instances);
        for _ in 0..instances {
            match ServerProc::start_with(&cfg.bin, MAX_CLIENTS, &extra) {
                Ok(s) => {
                    eprintln!("    chat-server pid {} at ws://{}/", s.pid, s.chat);
                    servers.push(s);
                }
                Err(e) => {
                    run.fail(e);
                    return None;
                }
            }
        }
        Some(Cluster { servers, redis })
    }

    /// CPU seconds of every instance and of Redis together.
    fn cpu_seconds(&self) -> Option<f64> {
        let mut sum = 0.0;
        for s in &self.servers {
            sum += s.cpu_seconds()?;
        }
        if let Some(r) = &self.redis {
            sum += r.cpu_seconds()?;
        }
        Some(sum)
    }

    fn addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|s| s.chat).collect()
    }

    fn stop(self, run: &mut Run) {
        for s in self.servers {
            stop_server(run, s);
        }
        drop(self.redis);
    }
}

/// `n` clients split evenly over the cluster's instances, all in one room,
/// joined and announced to everyone (joins travel through Redis too).
fn fleet_on(cfg: &Config, cluster: &Cluster, n: usize, role: Role) -> Result<Fleet, String> {
    let addrs = cluster.addrs();
    let mut fleet = Fleet::new(addrs[0], Dialect::Chat, cfg.workers, n, Instant::now());
    fleet.spread_over_servers(&addrs);
    fleet.connect(n, role);
    let limit = Duration::from_secs(60);
    let t = Instant::now();
    wait_joined(&fleet, n, limit)?;
    wait_notices(&fleet, joins(0, n), limit.saturating_sub(t.elapsed()))?;
    Ok(fleet)
}

fn label(instances: usize) -> String {
    if instances > 1 {
        format!("{instances} instances over Redis")
    } else {
        "1 instance, no Redis".into()
    }
}

/// One closed-loop run: `n` clients, `count` messages each, at most
/// [`WINDOW`] in flight; deliveries/s over both instances.
pub fn closed_loop(cfg: &Config, instances: usize, n: usize, count: u32) -> Run {
    let mut run = Run::default();
    let Some(cluster) = Cluster::start(cfg, instances, &mut run) else {
        return run;
    };
    let fleet = match fleet_on(
        cfg,
        &cluster,
        n,
        Role::ClosedLoop {
            count,
            window: WINDOW,
        },
    ) {
        Ok(f) => f,
        Err(e) => {
            run.fail(e);
            cluster.stop(&mut run);
            return run;
        }
    };
    let total = receivers(Dialect::Chat, n) * n as u64 * u64::from(count);
    let cpu0 = cluster.cpu_seconds();
    let t0 = fleet.start();
    let waited = fleet.wait(
        "scale-out fan-out",
        Duration::from_secs(300),
        Duration::from_secs(10),
        |s| s.deliveries.load(std::sync::atomic::Ordering::Acquire) >= total,
        |s| s.deliveries.load(std::sync::atomic::Ordering::Acquire),
    );
    let cpu1 = cluster.cpu_seconds();
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
    let p = format!("scale_out_{instances}");
    let what = label(instances);
    let deliveries = r.deliveries as f64;
    run.put(
        &format!("{p}.deliveries_per_s"),
        &format!("{what}: deliveries/s, closed loop"),
        "1/s",
        deliveries / secs,
    );
    run.put(
        &format!("{p}.closed_p99"),
        &format!("{what}: closed-loop latency p99"),
        "ms",
        ms(r.delivery.quantile(0.99)),
    );
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        run.put(
            &format!("{p}.server_cpu_per_delivery"),
            &format!("{what}: CPU per delivery (instances + Redis)"),
            "us",
            (c1 - c0) * 1e6 / deliveries.max(1.0),
        );
    }
    let lost = r.lost();
    if lost > 0 || r.dups > 0 || drops > 0 {
        run.fail(format!(
            "{lost} lost, {} duplicated, {drops} client(s) dropped of {total} expected deliveries ({})",
            r.dups,
            fleet_reasons_or(&r)
        ));
    }
    eprintln!(
        "    {what}: {:.0} deliveries/s, lost {lost}",
        deliveries / secs
    );
    cluster.stop(&mut run);
    run
}

/// One paced run: `n` clients sending `rate` messages/s each for `secs`;
/// the latency from a send to each receipt, on any instance.
pub fn paced(cfg: &Config, instances: usize, n: usize, rate: u32, secs: u32) -> Run {
    let mut run = Run::default();
    let Some(cluster) = Cluster::start(cfg, instances, &mut run) else {
        return run;
    };
    let count = rate.max(1) * secs.max(1);
    let role = Role::Paced {
        count,
        interval: Duration::from_secs(1) / rate.max(1),
        spread: n as u32,
    };
    let fleet = match fleet_on(cfg, &cluster, n, role) {
        Ok(f) => f,
        Err(e) => {
            run.fail(e);
            cluster.stop(&mut run);
            return run;
        }
    };
    let total = receivers(Dialect::Chat, n) * n as u64 * u64::from(count);
    fleet.start();
    let waited = fleet.wait(
        "scale-out paced",
        Duration::from_secs(u64::from(secs) + 30),
        Duration::from_secs(10),
        |s| s.deliveries.load(std::sync::atomic::Ordering::Acquire) >= total,
        |s| s.deliveries.load(std::sync::atomic::Ordering::Acquire),
    );
    let r = fleet.stop();
    if let Err(e) = waited {
        run.fail(e);
    }
    let p = format!("scale_out_{instances}");
    let what = label(instances);
    run.put(
        &format!("{p}.paced_p50"),
        &format!("{what}: paced latency p50"),
        "ms",
        ms(r.delivery.quantile(0.5)),
    );
    run.put(
        &format!("{p}.paced_p99"),
        &format!("{what}: paced latency p99"),
        "ms",
        ms(r.delivery.quantile(0.99)),
    );
    let lost = r.lost();
    if lost > 0 || r.dups > 0 {
        run.fail(format!(
            "{lost} lost, {} duplicated ({})",
            r.dups,
            fleet_reasons_or(&r)
        ));
    }
    eprintln!(
        "    {what}: paced p50 {:.2} ms, p99 {:.2} ms, lost {lost}",
        ms(r.delivery.quantile(0.5)),
        ms(r.delivery.quantile(0.99))
    );
    cluster.stop(&mut run);
    run
}

/// Both runs of one row (closed loop, then paced), merged into one run so
/// the row's figures come from the same servers' build and the same load.
pub fn row(cfg: &Config, instances: usize) -> Run {
    let (n, count, rate) = cfg.scale_out;
    let mut run = closed_loop(cfg, instances, n, count);
    let paced = paced(cfg, instances, n, rate, cfg.paced.2);
    run.metrics.extend(paced.metrics);
    run.failures.extend(paced.failures);
    run.notes.extend(paced.notes);
    run
}
