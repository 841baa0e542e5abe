//! What chat-server's tests share, in one place: the server's own tests
//! (`tests/`), the browser tests (`browser/`) and anything else that needs
//! a chat server on loopback and a client to talk to it.
//!
//! - [`server`]: a [`TestServer`] started in-process on `127.0.0.1:0`,
//!   stopped when dropped;
//! - [`client`]: a [`TestClient`] speaking WebSocket over a real TCP socket,
//!   every read bounded by [`WAIT`], and the wire's fixed lines;
//! - [`frame`]: raw WebSocket frames, for what no well-behaved client sends;
//! - [`http`]: raw HTTP requests and answers on either port;
//! - [`process`]: the real `chat-server` binary as a child process
//!   ([`start_binary!`]), and this process's threads;
//! - [`redis`]: `redis-server` on a free port (plain or TLS);
//! - [`proxy`]: nginx and Caddy in front, set up from `contrib/`, and a TLS
//!   client through `openssl s_client`.
//!
//! Everything here waits at most [`WAIT`] for a message, and a program it
//! needs but cannot find is a skip outside CI and a failure in CI
//! ([`in_ci`], [`have_program`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub mod client;
pub mod frame;
pub mod http;
pub mod process;
pub mod proxy;
pub mod redis;
pub mod server;

pub use client::*;
pub use frame::*;
pub use http::*;
pub use process::*;
pub use server::*;

/// The bound on any one wait for a message, an answer, a close or an event
/// a test expects (5 seconds). A test that waits longer fails, naming what
/// it waited for.
pub const WAIT: Duration = Duration::from_secs(5);

/// How long a program the tests start (`redis-server`, nginx, Caddy) may
/// take to serve (10 seconds): they start on a busy two-core machine.
pub const START: Duration = Duration::from_secs(10);

/// Whether these tests run in CI: the `CI` environment variable is set,
/// not empty, and neither `0` nor `false` (any case). In CI a program the
/// tests need (redis-server, nginx, Caddy, openssl, Chromium) must be
/// there: a missing one fails the test rather than skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Raise this process's soft open-file limit to its hard limit; return the
/// new soft limit (the old one if it could not be raised). The server's own
/// function, so tests and server agree. Raising it affects every test in
/// the process, which is harmless: no test relies on a low limit in its
/// own process (a test that needs one gives it to a child).
pub use chat_server::raise_fd_limit;

/// Poll `cond` every 5 ms until it holds or `timeout` passes; return
/// whether it held. Never panics.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `program` on the `PATH` or in the sbin directories (where Debian puts
/// nginx, which a non-root `PATH` may lack), if it is there.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Whether `program` is installed ([`find_program`]). When it is not:
/// outside CI, print `skipped: PROGRAM not found (WHY)` and return false,
/// so the test returns and passes; in CI ([`in_ci`]), panic, since CI
/// installs every program the tests use.
pub fn have_program(program: &str, why: &str) -> bool {
    let found = find_program(program).is_some();
    if !found {
        assert!(!in_ci(), "{program} not found, and CI needs it: {why}");
        println!("skipped: {program} not found ({why})");
    }
    found
}

/// A scratch directory under the system's temporary directory, named after
/// `name`, this process and a counter; created empty, removed on drop.
/// Panics if it cannot be created.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Create `chat-server-NAME-PID-N` in the temporary directory.
    pub fn new(name: &str) -> Scratch {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("chat-server-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    /// The path of `name` in this directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
