//! A real `redis-server`, started on a free loopback port in a scratch
//! directory with persistence off, and killed when dropped: plain
//! ([`RedisServer::start`]) or TLS-only with a test CA
//! ([`RedisServer::start_tls`]). Outside CI a missing `redis-server` (or
//! `openssl`, for TLS) makes the test print a skip line and pass; in CI
//! ([`crate::in_ci`]) it fails.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{have_program, Scratch, START, WAIT};

/// A `redis-server` child process on a free loopback port.
pub struct RedisServer {
    child: Child,
    /// The port it listens on (its TLS port for [`RedisServer::start_tls`]).
    pub port: u16,
    /// Its working directory, and the TLS certificates if any.
    dir: Scratch,
    /// Whether it serves TLS only (kept for a restart).
    tls: bool,
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl RedisServer {
    /// Start one on a free port, or `None` (after printing a skip line) if
    /// `redis-server` is not installed and this is not CI. Panics if it does
    /// not listen within [`START`].
    pub fn start() -> Option<RedisServer> {
        if !have_program("redis-server", "apt-get install redis-server") {
            return None;
        }
        Some(RedisServer::on(free_port(), Scratch::new("redis"), false))
    }

    /// Start a TLS-only one (no plain port) with a fresh CA and a server
    /// certificate for `localhost` and `127.0.0.1` made by `openssl`; the
    /// CA is at [`RedisServer::ca`]. `None` (after a skip line) if
    /// `redis-server` or `openssl` is missing outside CI. Panics if openssl
    /// fails or it does not listen within [`START`].
    pub fn start_tls() -> Option<RedisServer> {
        if !have_program("redis-server", "apt-get install redis-server")
            || !have_program("openssl", "apt-get install openssl")
        {
            return None;
        }
        let dir = Scratch::new("redis-tls");
        make_certificates(&dir);
        Some(RedisServer::on(free_port(), dir, true))
    }

    fn on(port: u16, dir: Scratch, tls: bool) -> RedisServer {
        let mut command = Command::new("redis-server");
        if tls {
            command
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--tls-cert-file", "server.crt"])
                .args(["--tls-key-file", "server.key"])
                .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &port.to_string()]);
        }
        let child = command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(&dir.0)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = RedisServer {
            child,
            port,
            dir,
            tls,
        };
        let deadline = Instant::now() + START;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// `redis://127.0.0.1:PORT/` (for a plain one).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The test CA's certificate (`ca.crt`) of a [`RedisServer::start_tls`]
    /// one, for the instances to trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.path("ca.crt")
    }

    /// SIGKILL it and wait until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start a fresh one (empty: it kept nothing) on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let dir = std::mem::replace(&mut self.dir, Scratch::new("redis"));
        *self = RedisServer::on(self.port, dir, self.tls);
    }

    /// Start it again (after [`RedisServer::kill`]) on the same port and in
    /// the same directory, so with whatever it saved there (`SAVE` before
    /// the kill: a restart that keeps its data); returns once it answers.
    pub fn start_again(&mut self) {
        self.kill();
        let dir = std::mem::replace(&mut self.dir, Scratch::new("redis"));
        *self = RedisServer::on(self.port, dir, self.tls);
        // Listening comes before loading: wait until it answers.
        assert!(
            crate::wait_until(START, || self.try_command(&["PING"]).as_deref()
                == Some("+PONG")),
            "redis-server did not load its data"
        );
    }

    /// Send one command on a connection of its own (RESP) and return the
    /// first line of the answer (`+OK`, `-ERR ...`, `:1`, `$5`...). Panics
    /// if it does not answer within [`WAIT`] (a plain one only).
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|| panic!("redis did not answer {args:?}"))
    }

    /// [`RedisServer::command`], or `None` if it does not answer within
    /// [`WAIT`].
    pub fn try_command(&self, args: &[&str]) -> Option<String> {
        command_at(self.port, args)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Send one command to the plain Redis on loopback `port`, on a connection
/// of its own (RESP), and return the first line of the answer; `None` if
/// it does not answer within [`WAIT`]. (For a thread of the test's own.)
pub fn command_at(port: u16, args: &[&str]) -> Option<String> {
    let mut con = TcpStream::connect(("127.0.0.1", port)).ok()?;
    con.set_read_timeout(Some(WAIT)).ok()?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    con.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let mut byte = [0u8];
    while !answer.ends_with(b"\r\n") {
        con.read_exact(&mut byte).ok()?;
        answer.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&answer).trim_end().to_owned())
}

/// A CA (`ca.crt`, `ca.key`) and a server certificate it signed for
/// `localhost` and `127.0.0.1` (`server.crt`, `server.key`), in `dir`.
fn make_certificates(dir: &Scratch) {
    let openssl = |args: &[&str]| {
        let ok = Command::new("openssl")
            .args(args)
            .current_dir(&dir.0)
            .stderr(Stdio::null())
            .status()
            .expect("run openssl")
            .success();
        assert!(ok, "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=chat test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.path("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1")
        .expect("write ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
}
