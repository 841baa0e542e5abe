//! A real `redis-server`, started on a free loopback port with persistence
//! off and killed when dropped. Outside CI a missing `redis-server` makes
//! the test print a skip line and pass; with `CI` set it fails.
//! (Also used by the cluster unit tests, through `#[path]`.)

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long redis-server may take to listen.
const START: Duration = Duration::from_secs(5);

/// A `redis-server` child process on a free loopback port.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// Start one, or `None` (after printing why) if it is not installed
    /// and this is not CI.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is missing (CI installs the redis-server package)"
            );
            eprintln!("skipped: redis-server not found (apt-get install redis-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Some(RedisServer::on(port))
    }

    fn on(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = RedisServer { child, port };
        let deadline = Instant::now() + START;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL it and wait until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start a fresh one (empty: it kept nothing) on the same port.
    pub fn restart(&mut self) {
        self.kill();
        *self = RedisServer::on(self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
