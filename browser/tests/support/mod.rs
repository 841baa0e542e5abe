//! What every browser test needs: headless Chromium (or an honest skip when
//! it is missing), a chat server on loopback port 0 that stops when dropped,
//! a plain WebSocket client for the other side of a conversation, and
//! bounded waits.
//!
//! Runs on the test's own thread. Chromium is started with its background
//! networking off, so it talks to nothing but the test's servers.

#![allow(dead_code)] // each test binary uses a different part of this

pub mod relay;
pub mod shots;
pub mod tab;

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits, Server};
use headless_chrome::{Browser, LaunchOptions};
use tungstenite::{Message, WebSocket};

/// The longest any single wait on the page may take. Generous: Chromium on a
/// busy two-core machine is slow to start a tab.
pub const WAIT: Duration = Duration::from_secs(15);
/// Waiting for the page to reconnect by itself: its backoff is capped at 5 s.
pub const RECONNECT_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(50);
/// The browser window's size, and the desktop screenshot's.
pub const DESKTOP: (u32, u32) = (960, 600);
pub const PHONE: (u32, u32) = (390, 844);

/// True when running in CI (`CI` set to anything but empty, `0` or `false`),
/// where a missing program is a failure rather than a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Headless Chromium for the test `test`, or `None` after a clear skip line
/// when no Chromium is installed (outside CI; in CI that is a failure).
/// Looks where headless_chrome does: `$CHROME`, then `chromium`,
/// `google-chrome-stable` and the like on the `PATH`.
pub fn chromium_or_skip(test: &str) -> Option<Browser> {
    chromium_path_or_skip(test).map(|path| launch(&path))
}

/// Where Chromium is, as [`chromium_or_skip`] finds it, for a test that
/// launches it with switches of its own ([`launch_with`]).
pub fn chromium_path_or_skip(test: &str) -> Option<PathBuf> {
    match headless_chrome::browser::default_executable() {
        Ok(path) => Some(path),
        Err(e) if in_ci() => panic!("{test}: Chromium is required in CI: {e}"),
        Err(e) => {
            println!("{test}: skipped, Chromium not found ({e}); `make test-browser` installs it");
            None
        }
    }
}

/// Headless Chromium, no sandbox (we may be root), no background traffic, and
/// a fresh profile in a temporary folder that headless_chrome deletes when
/// the browser is dropped (so nothing a page stores outlives its test).
pub fn launch(path: &Path) -> Browser {
    launch_with(path, &[])
}

/// [`launch`] with more command-line switches (for example
/// `--ignore-certificate-errors-spki-list=...` for a test certificate).
pub fn launch_with(path: &Path, extra: &[&str]) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ]
    .iter()
    .chain(extra)
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(path.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(None)
        .window_size(Some(DESKTOP))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options).expect("start chromium")
}

/// A chat server started in-process on loopback (both listeners); it stops
/// (every client gets 1001) when dropped.
pub struct TestServer {
    pub server: Option<Server>,
}

impl TestServer {
    pub fn chat_addr(&self) -> SocketAddr {
        self.running().chat_addr()
    }
    pub fn page_addr(&self) -> SocketAddr {
        self.running().page_addr()
    }
    /// The page's address for room `room` ("" for the main room).
    pub fn page_url(&self, room: &str) -> String {
        format!("http://{}/{room}", self.page_addr())
    }
    fn running(&self) -> &Server {
        self.server.as_ref().expect("the server was shut down")
    }
    /// Stop now, joining every thread.
    pub fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Default limits, but no rate limit: tests send faster than a person types.
pub fn test_config() -> Config {
    Config {
        limits: Limits {
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// A server on `127.0.0.1:0` with [`test_config`].
pub fn start_server() -> TestServer {
    start_server_with(&test_config())
}

pub fn start_server_with(config: &Config) -> TestServer {
    let chat = TcpListener::bind("127.0.0.1:0").expect("bind chat listener");
    let page = TcpListener::bind("127.0.0.1:0").expect("bind page listener");
    start_on_listeners(chat, page, config)
}

pub fn start_on_listeners(chat: TcpListener, page: TcpListener, config: &Config) -> TestServer {
    let server = Server::start(chat, page, config).expect("start server");
    TestServer {
        server: Some(server),
    }
}

/// Start a server on these exact addresses (an open page knows only them),
/// retrying the bind while the old sockets let go.
pub fn start_on(chat: SocketAddr, page: SocketAddr) -> TestServer {
    let bind = |addr: SocketAddr| {
        wait_for(&format!("{addr} to be free again"), WAIT, || {
            TcpListener::bind(addr).ok()
        })
    };
    start_on_listeners(bind(chat), bind(page), &test_config())
}

/// Call `f` until it gives a value; panic after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {timeout:?} for {what}");
        sleep(POLL);
    }
}

/// A terminal-style WebSocket client (plain text frames), with every read
/// bounded by [`WAIT`].
pub struct TestClient {
    pub ws: WebSocket<TcpStream>,
    /// The nickname from the ` .... you are NICK.` line.
    pub nick: String,
    /// The lines that came before the greeting (the room's history).
    pub before: Vec<String>,
}

impl TestClient {
    /// Connect to `path` (`/` or `/ROOM`, with a query if wanted) and read up
    /// to the greeting.
    pub fn connect(addr: SocketAddr, path: &str) -> TestClient {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        stream.set_write_timeout(Some(WAIT)).expect("write timeout");
        let url = format!("ws://{addr}{path}");
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("handshake");
        let mut client = TestClient {
            ws,
            nick: String::new(),
            before: Vec::new(),
        };
        loop {
            let line = client.recv_text();
            if let Some(nick) = line
                .strip_prefix(" .... you are ")
                .and_then(|s| s.strip_suffix('.'))
            {
                client.nick = nick.to_owned();
                return client;
            }
            assert!(client.before.len() < 10_000, "no greeting: {line:?}");
            client.before.push(line);
        }
    }

    pub fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// The next text line (pings and pongs skipped); panics after WAIT.
    pub fn recv_text(&mut self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no text within {WAIT:?}");
            match self.ws.read() {
                Ok(Message::Text(t)) => return t.as_str().to_owned(),
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                Ok(other) => panic!("expected text, got {other:?}"),
                Err(e) => panic!("expected text, got error {e}"),
            }
        }
    }

    /// Read lines until one equals `want`; returns the lines skipped.
    pub fn recv_until(&mut self, want: &str) -> Vec<String> {
        let mut skipped = Vec::new();
        loop {
            let line = self.recv_text();
            if line == want {
                return skipped;
            }
            assert!(skipped.len() < 10_000, "{want:?} not seen");
            skipped.push(line);
        }
    }

    /// Read lines until one `pick` likes; returns it.
    pub fn recv_matching(&mut self, pick: impl Fn(&str) -> bool) -> String {
        for _ in 0..10_000 {
            let line = self.recv_text();
            if pick(&line) {
                return line;
            }
        }
        panic!("no matching line in 10000");
    }

    /// Close with a close frame (a terminal client quitting).
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// Where the build's output goes: `$CARGO_TARGET_DIR` when set, else the
/// workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_path(Path::new(&dir)),
        _ => workspace_root().join("target"),
    }
}

/// The repository's root (this package is `browser/` in it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("browser/ has a parent")
        .to_path_buf()
}

/// A path given relative to the repository's root (as `make` gives them),
/// made absolute: tests run in `browser/`.
pub fn workspace_path(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        workspace_root().join(path)
    }
}
