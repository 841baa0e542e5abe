//! The real `chat-server` binary as a child process, and this process's own
//! threads (for tests that count what the in-process server started).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::WAIT;

/// The real binary as a child process, its addresses read from its log.
/// Killed (SIGKILL) if still running when dropped.
pub struct ChildServer {
    /// The child (its stdin and stdout are null; stderr is [`Self::log`]).
    pub child: std::process::Child,
    /// Where its chat port listens (read from its `chat at ws://` line, or
    /// on `0.0.0.0`/`::` its `listening on PAGE (page) and CHAT (chat)`).
    pub chat_addr: SocketAddr,
    /// Where its page port listens (read from its `page at http://` line,
    /// or its `listening on` line).
    pub page_addr: SocketAddr,
    /// The child's stderr, line by line, after the two address lines.
    pub log: crossbeam_channel::Receiver<String>,
    /// The lines read before [`Self::log`]: up to the address line(s).
    pub start_lines: Vec<String>,
}

/// Start the `chat-server` binary of the package under test with `args`
/// (ports default to 0), under an open-file limit (soft and hard) of
/// `fd_limit` if given: `start_binary!(None, &["--rate", "0"])`. Only an
/// integration test of the `chat-server` package can name its binary, so
/// this is a macro expanding to [`ChildServer::start`] with
/// `env!("CARGO_BIN_EXE_chat-server")`.
#[macro_export]
macro_rules! start_binary {
    ($fd_limit:expr, $args:expr $(,)?) => {
        $crate::ChildServer::start(env!("CARGO_BIN_EXE_chat-server"), $fd_limit, $args)
    };
}

/// The binary ([`start_binary!`]) as an instance on the Redis at `url`,
/// with a 2 s lease, to be killed by the test: `doomed_instance!(&url)`.
#[macro_export]
macro_rules! doomed_instance {
    ($url:expr $(,)?) => {
        $crate::start_binary!(
            None,
            &["--redis", $url, "--redis-lease", "2", "--rate", "0"]
        )
    };
}

impl ChildServer {
    /// Start the binary at `bin` with `args` after `--http-port 0 --ws-port
    /// 0` (and `--memory-only` unless `args` has a `--data-dir`), under an open-file limit (soft and hard) of `fd_limit` if given,
    /// and read its two address lines. Panics if it does not start or log
    /// its addresses within [`WAIT`].
    pub fn start(bin: &str, fd_limit: Option<u64>, args: &[&str]) -> ChildServer {
        use std::process::{Command, Stdio};
        let mut command = Command::new("sh");
        let script = match fd_limit {
            Some(n) => format!("ulimit -n {n} && exec \"$0\" \"$@\""),
            None => "exec \"$0\" \"$@\"".to_owned(),
        };
        command
            .arg("-c")
            .arg(script)
            .arg(bin)
            .args(["--http-port", "0", "--ws-port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Nothing kept on disk unless the test names a data directory:
        // each run starts from empty rooms.
        if !args.contains(&"--data-dir") {
            command.arg("--memory-only");
        }
        let mut child = command.spawn().expect("start chat-server");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, log) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut child = ChildServer {
            child,
            chat_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            page_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            log,
            start_lines: Vec::new(),
        };
        let addr_after = |line: &str, marker: &str| -> Option<SocketAddr> {
            let rest = &line[line.find(marker)? + marker.len()..];
            rest.trim_end().trim_end_matches('/').parse().ok()
        };
        let (mut chat, mut page) = (None, None);
        let deadline = Instant::now() + WAIT;
        while chat.is_none() || page.is_none() {
            let line = child.log.recv_deadline(deadline).unwrap_or_else(|_| {
                panic!("chat-server did not log its addresses within {WAIT:?}")
            });
            page = page.or_else(|| addr_after(&line, "page at http://"));
            chat = chat.or_else(|| addr_after(&line, "chat at ws://"));
            if let Some((p, c)) = listening_on(&line) {
                (page, chat) = (Some(p), Some(c));
            }
            child.start_lines.push(line);
        }
        child.chat_addr = chat.unwrap();
        child.page_addr = page.unwrap();
        child
    }

    /// Send SIGTERM. Panics if the signal cannot be sent.
    pub fn sigterm(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill only sends a signal to our own child, by its pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill failed");
    }

    /// Wait at most `timeout` for the child to exit; its status, or `None`
    /// if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The first log line (from now on) containing `needle`, within
    /// `timeout`; lines before it are consumed.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self.log.recv_deadline(deadline) {
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    }
}

/// The page and chat addresses in a `listening on PAGE (page) and CHAT
/// (chat)` line (the binary bound to `0.0.0.0` or `::`).
pub fn listening_on(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    let (page, rest) = rest.split_once(" (page) and ")?;
    let chat = rest.trim_end().strip_suffix(" (chat)")?;
    Some((page.parse().ok()?, chat.parse().ok()?))
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Threads in this process right now whose name passes `pick` (an
/// in-process server's included; `usize::MAX` if `/proc` cannot be read).
/// Only meaningful in a test binary where no other test runs at the time.
pub fn threads_named(pick: impl Fn(&str) -> bool) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return usize::MAX;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| pick(name.trim_end()))
        .count()
}

/// Threads in this process right now (an in-process server's included; 0
/// if `/proc` cannot be read). Only meaningful in a test binary where no
/// other test runs at the time.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Run the binary at `bin` with `args` to its end (stdin and stdout null,
/// stderr read), bounded by [`WAIT`] (killed past it): its exit code
/// (`None` if it had to be killed) and its stderr. For start-up errors.
/// Panics if it cannot be started.
pub fn run_to_end(bin: &str, args: &[&str]) -> (Option<i32>, String) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run chat-server");
    let exited = crate::wait_until(WAIT, || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("chat-server output");
    let code = if exited { out.status.code() } else { None };
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The lines of `stderr` a failed start prints: those that start with
/// `chat-server: ` (one, when it says what to change).
pub fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("chat-server: "))
        .collect()
}
