//! The server under test as a child process (ours, or a peer's launcher),
//! and what the operating system says about it and about us: CPU time,
//! resident memory, threads, kernel stacks, socket buffers.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::ws::Dialect;

/// The release server binary: `BENCH_SERVER_BIN`, else `chat-server`
/// next to this program (cargo builds both workspace members into the same
/// `target/release/`; `make bench` builds the server first).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BENCH_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("chat-server")))
        .unwrap_or_else(|| PathBuf::from("target/release/chat-server"))
}

/// A server to measure: ours, or a peer (a launcher that `bench/peers/setup.sh`
/// wrote, which runs the peer's published example on `$PORT`).
#[derive(Clone, Debug)]
pub struct Launch {
    /// `chat-server`, or the peer's name (`tokio`, `node`, `python`).
    pub name: String,
    pub path: PathBuf,
    pub dialect: Dialect,
}

impl Launch {
    pub fn ours(path: PathBuf) -> Launch {
        Launch {
            name: "chat-server".into(),
            path,
            dialect: Dialect::Chat,
        }
    }

    pub fn is_ours(&self) -> bool {
        self.dialect == Dialect::Chat
    }
}

/// Where results go: `BENCH_OUT`, else `bench/` in the target directory
/// the server binary was built in (`target/bench/`).
pub fn out_dir(bin: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("BENCH_OUT") {
        return PathBuf::from(dir);
    }
    bin.parent()
        .and_then(Path::parent)
        .map(|target| target.join("bench"))
        .unwrap_or_else(|| PathBuf::from("target/bench"))
}

/// What the server's log said, kept by the thread that drains its stderr
/// (it must be drained: a full pipe would block the server's logging).
#[derive(Default)]
pub struct Log {
    pub lines: AtomicU64,
    /// `outbox full, dropped` lines: the room dropped a slow client.
    pub slow_drops: AtomicU64,
    /// WARN and ERROR lines once the server is up: the last few, and how many.
    pub warnings: AtomicU64,
    ready: std::sync::atomic::AtomicBool,
    /// The key of `teacher: open http://...#teacher=KEY`, once printed.
    teacher_key: Mutex<Option<String>>,
    last_warnings: Mutex<Vec<String>>,
    tail: Mutex<Vec<String>>,
}

impl Log {
    fn take(&self, line: &str) {
        self.lines.fetch_add(1, Ordering::Relaxed);
        if let Some((_, key)) = line.split_once("#teacher=") {
            let key = key.split_whitespace().next().unwrap_or_default();
            *self.teacher_key.lock().unwrap_or_else(|e| e.into_inner()) = Some(key.to_string());
        }
        if line.contains("outbox full, dropped") {
            self.slow_drops.fetch_add(1, Ordering::Relaxed);
        }
        // Warnings before the listeners are up are about the limits
        // (--max-clients against pid_max and the like), not about the run.
        // tiny_http logs an ERROR each time the page listener's accept times
        // out (every --page-timeout while nobody loads the page): not news.
        let ready = self.ready.load(Ordering::Relaxed);
        let page_idle = line.contains("[tiny_http] Error accepting new client");
        if ready && !page_idle && (line.contains(" WARN ") || line.contains(" ERROR ")) {
            self.warnings.fetch_add(1, Ordering::Relaxed);
            push_bounded(&self.last_warnings, line, 5);
        }
        push_bounded(&self.tail, line, 8);
    }

    /// The teacher key the server printed at start, if it did.
    pub fn teacher_key(&self) -> Option<String> {
        self.teacher_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn last_warnings(&self) -> Vec<String> {
        self.last_warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn tail(&self) -> String {
        self.tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join(" | ")
    }
}

fn push_bounded(v: &Mutex<Vec<String>>, line: &str, max: usize) {
    let mut v = v.lock().unwrap_or_else(|e| e.into_inner());
    if v.len() == max {
        v.remove(0);
    }
    v.push(line.chars().take(300).collect());
}

/// A running `chat-server`. Stopped with SIGTERM by [`ServerProc::stop`];
/// killed if dropped without that.
pub struct ServerProc {
    child: Child,
    pub pid: u32,
    pub chat: SocketAddr,
    pub log: Arc<Log>,
    pub dialect: Dialect,
}

impl ServerProc {
    /// Start `what` on free loopback ports and wait until it serves.
    pub fn launch(what: &Launch, max_clients: usize) -> Result<ServerProc, String> {
        if what.is_ours() {
            ServerProc::start(&what.path, max_clients)
        } else {
            ServerProc::start_peer(what)
        }
    }

    /// A peer's launcher, run with `PORT` set; it serves once a WebSocket
    /// handshake succeeds (at most 20 s: an interpreter starting on a busy
    /// machine). Its stdout is dropped, its stderr drained into the log.
    fn start_peer(what: &Launch) -> Result<ServerProc, String> {
        let port = free_port()?;
        let mut child = Command::new(&what.path)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", what.path.display()))?;
        let pid = child.id();
        let log = Arc::new(Log::default());
        log.ready.store(true, Ordering::Relaxed);
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            thread::Builder::new()
                .name("peer-log".into())
                .spawn(move || {
                    for line in BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        log.take(&line);
                    }
                })
                .map_err(|e| format!("log thread: {e}"))?;
        }
        let chat = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{} exited ({status}): {}", what.name, log.tail()));
            }
            if handshake(chat).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} not serving after 20 s: {}",
                    what.name,
                    log.tail()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(ServerProc {
            child,
            pid,
            chat,
            log,
            dialect: what.dialect,
        })
    }

    /// Start on free loopback ports and wait (at most 10 s) for the log lines
    /// that say where it listens.
    pub fn start(bin: &Path, max_clients: usize) -> Result<ServerProc, String> {
        ServerProc::start_with(bin, max_clients, &[])
    }

    /// [`ServerProc::start`] with more arguments (`--redis URL`: one
    /// instance of a cluster; `--data-dir DIR`: the store on). Without
    /// `--data-dir` it adds `--memory-only`: the server's default keeps a
    /// store in `chat-data` in its working directory, and a benchmark
    /// always says which it measures.
    pub fn start_with(
        bin: &Path,
        max_clients: usize,
        extra: &[&str],
    ) -> Result<ServerProc, String> {
        let max = max_clients.to_string();
        let mut child = Command::new(bin)
            .args(["--http-port", "0", "--ws-port", "0", "--rate", "0"])
            .args(["--max-clients", &max, "--log-level", "info"])
            .args(extra)
            .args(
                (!extra
                    .iter()
                    .any(|a| *a == "--data-dir" || *a == "--memory-only")
                    && has_store(bin))
                .then_some("--memory-only"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Log::default());
        let (tx, rx) = crossbeam_channel::bounded(1);
        {
            let log = log.clone();
            thread::Builder::new()
                .name("server-log".into())
                .spawn(move || {
                    let mut tx = Some(tx);
                    for line in BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        log.take(&line);
                        if let Some(addr) = line
                            .split_once("chat at ws://")
                            .and_then(|(_, rest)| rest.split('/').next())
                            .and_then(|a| a.parse::<SocketAddr>().ok())
                        {
                            if let Some(tx) = tx.take() {
                                log.ready.store(true, Ordering::Relaxed);
                                let _ = tx.send(addr);
                            }
                        }
                    }
                })
                .map_err(|e| format!("log thread: {e}"))?;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let chat = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(addr) => break addr,
                Err(_) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("server did not say its port: {}", log.tail()));
                }
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!("server exited ({status}): {}", log.tail()));
                    }
                }
            }
        };
        Ok(ServerProc {
            child,
            pid,
            chat,
            log,
            dialect: Dialect::Chat,
        })
    }

    /// User plus system CPU time so far, all threads (dead ones too).
    pub fn cpu_seconds(&self) -> Option<f64> {
        proc_cpu_seconds(&format!("/proc/{}/stat", self.pid))
    }

    /// CPU time of the threads alive now, in seconds, to the nanosecond
    /// (`/proc/PID/task/*/schedstat`): finer than [`ServerProc::cpu_seconds`]'s
    /// 10 ms ticks, but a thread that ends takes its time with it, so only
    /// for steps in which no server thread ends.
    pub fn live_threads_cpu_seconds(&self) -> Option<f64> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid)).ok()?;
        let mut ns = 0u64;
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue; // the thread ended while we looked
            };
            ns += stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
        Some(ns as f64 / 1e9)
    }

    /// Resident memory (KiB) and thread count now.
    pub fn status(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        Some((field("VmRSS:")?, field("Threads:")?))
    }

    /// SIGTERM, then wait (15 s at most) for it to exit; SIGKILL after that.
    /// Ours must exit 0; a peer's example has no SIGTERM handler, so the
    /// signal's default action ends it and any exit will do.
    pub fn stop(mut self) -> Result<(), String> {
        // SAFETY: kill only sends a signal to our own child's pid.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) if self.dialect != Dialect::Chat => return Ok(()),
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "server exited with {status}; its log ended: {}",
                        self.log.tail()
                    ))
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("waiting for the server: {e}")),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("server did not stop within 15 s of SIGTERM; killed".into())
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn proc_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses:
    // state is field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some((utime + stime) as f64 / ticks)
}

/// This process's own user plus system CPU time, all threads.
pub fn self_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes only the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Raise our open-file soft limit to the hard limit; return the new soft limit.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(_) => rlimit::Resource::NOFILE.get_soft().unwrap_or(1024),
    }
}

/// Threads (scheduling entities) on the whole machine now, and the most
/// there may be (the smaller of `kernel.pid_max` and `kernel.threads-max`).
pub fn machine_threads() -> Option<(u64, u64)> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let total = loadavg.split_whitespace().nth(3)?.split('/').nth(1)?;
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let max = read("/proc/sys/kernel/pid_max")?.min(read("/proc/sys/kernel/threads-max")?);
    Some((total.parse().ok()?, max))
}

/// The server has a store (its `--help` lists `--memory-only`); an older
/// binary, measured for an A/B, keeps everything in memory anyway.
pub fn has_store(bin: &Path) -> bool {
    Command::new(bin)
        .arg("--help")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--memory-only"))
}

/// One WebSocket handshake to `addr`, then the TCP connection dropped
/// without a close frame (a close frame would be relayed to every client by
/// an example that relays whatever it reads).
pub fn handshake(addr: SocketAddr) -> Result<(), String> {
    let stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    tungstenite::client(format!("ws://{addr}/"), stream)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
