//! Helpers for the end-to-end tests: a server on loopback port 0 that stops
//! when dropped, and a WebSocket test client whose every wait is bounded.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{self, Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use chat_server::{Config, Limits, Server};

pub mod redis;
use tungstenite::protocol::frame::coding::{CloseCode, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::{Message, WebSocket};

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

/// A server started in-process on `127.0.0.1:0` (both listeners).
pub struct TestServer {
    pub server: Option<Server>,
}

impl TestServer {
    pub fn chat_addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().chat_addr()
    }
    pub fn page_addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().page_addr()
    }
    pub fn clients(&self) -> usize {
        self.server.as_ref().unwrap().clients()
    }
    /// Stop now (every client gets 1001), joining every thread.
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

/// Default limits, but no rate limit unless a test asks for one: most tests
/// send faster than a person types.
pub fn test_config() -> Config {
    Config {
        limits: Limits {
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..Config::default()
    }
}

pub fn start_server() -> TestServer {
    start_server_with(test_config())
}

/// [`start_server`] with the test limits changed by `edit`.
pub fn start_server_with_limits(edit: impl FnOnce(&mut Limits)) -> TestServer {
    let mut config = test_config();
    edit(&mut config.limits);
    start_server_with(config)
}

/// An instance sharing its rooms with others through the Redis at `url`,
/// with this lease (`--redis-lease`).
pub fn start_instance(url: &str, lease: Duration) -> TestServer {
    start_server_with(Config {
        redis: Some(url.to_owned()),
        redis_lease: lease,
        ..test_config()
    })
}

/// Two instances sharing `redis` (the default 15 s lease), a client on
/// each (Ann on the first, Bob on the second); Ann has seen Bob arrive.
pub fn two_instances(
    redis: &redis::RedisServer,
) -> (TestServer, TestServer, TestClient, TestClient) {
    let lease = Duration::from_secs(15);
    let a = start_instance(&redis.url(), lease);
    let b = start_instance(&redis.url(), lease);
    let mut ann = TestClient::connect(a.chat_addr());
    let bob = TestClient::connect(b.chat_addr());
    ann.recv_until(&joined(&bob.nick));
    (a, b, ann, bob)
}

/// The binary as an instance on the Redis at `url`, with a 2 s lease, to
/// be killed by the test.
pub fn doomed_instance(url: &str) -> ChildServer {
    start_binary(None, &["--redis", url, "--redis-lease", "2", "--rate", "0"])
}

pub fn start_server_with(config: Config) -> TestServer {
    let chat = TcpListener::bind("127.0.0.1:0").expect("bind chat listener");
    let page = TcpListener::bind("127.0.0.1:0").expect("bind page listener");
    let server = Server::start(chat, page, &config).expect("start server");
    TestServer {
        server: Some(server),
    }
}

/// A WebSocket client over a plain TCP socket, with a read timeout.
pub struct TestClient {
    pub ws: WebSocket<TcpStream>,
    /// The nickname from the ` .... you are user-N.` line.
    pub nick: String,
    /// The lines before ` .... you are` (the room's history, or a resume's
    /// missed lines).
    pub history: Vec<String>,
    /// The presence line after ` .... you are`.
    pub presence: String,
}

/// The nickname in a ` .... you are NICK.` line, if it is one.
pub fn you_are(line: &str) -> Option<&str> {
    line.strip_prefix(" .... you are ")?.strip_suffix('.')
}

/// ` .... here now (N): A, B.` for these names (at most 50 shown).
pub fn here_now(names: &[&str]) -> String {
    let shown = &names[..names.len().min(50)];
    let more = match names.len() - shown.len() {
        0 => String::new(),
        k => format!(", and {k} more"),
    };
    format!(
        " .... here now ({}): {}{more}.",
        names.len(),
        shown.join(", ")
    )
}

impl TestClient {
    /// Connect to the main room and read the greeting; panics if it does
    /// not come within WAIT.
    pub fn connect(addr: SocketAddr) -> TestClient {
        TestClient::connect_to(addr, "/chat")
    }

    /// Connect with this request target (`/ROOM?session=ID`) and read the
    /// greeting: history, ` .... you are NICK.`, the presence line.
    pub fn connect_to(addr: SocketAddr, target: &str) -> TestClient {
        let mut client = TestClient::connect_quiet_to(addr, target);
        client.read_greeting();
        client
    }

    /// Read the greeting (see [`TestClient::connect_to`]) into `history`,
    /// `nick` and `presence`.
    pub fn read_greeting(&mut self) {
        let deadline = Instant::now() + WAIT;
        self.history.clear();
        loop {
            assert!(Instant::now() < deadline, "no greeting within {WAIT:?}");
            let line = self.recv_text();
            if let Some(nick) = you_are(&line) {
                self.nick = nick.to_owned();
                break;
            }
            self.history.push(line);
        }
        self.presence = self.recv_text();
        assert!(
            self.presence.starts_with(" .... here now ("),
            "not a presence line: {:?}",
            self.presence
        );
    }

    /// Connect to the main room without reading anything.
    pub fn connect_quiet(addr: SocketAddr) -> TestClient {
        TestClient::connect_quiet_to(addr, "/chat")
    }

    /// Connect with this request target without reading anything.
    pub fn connect_quiet_to(addr: SocketAddr, target: &str) -> TestClient {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let url = format!("ws://{addr}{target}");
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("handshake");
        TestClient {
            ws,
            nick: String::new(),
            history: Vec::new(),
            presence: String::new(),
        }
    }

    /// Drop the connection without a close frame (a network gone, a
    /// killed process): the TCP connection ends both ways.
    pub fn vanish(self) {
        let _ = self.ws.get_ref().shutdown(std::net::Shutdown::Both);
    }

    /// Nothing arrives for `quiet` (a short look, for "no one else got
    /// it"; the positive checks always come first).
    pub fn assert_nothing_for(&mut self, quiet: Duration) {
        self.ws.get_ref().set_read_timeout(Some(quiet)).unwrap();
        let got = self.ws.read();
        self.ws.get_ref().set_read_timeout(Some(WAIT)).unwrap();
        match got {
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            other => panic!("expected nothing, got {other:?}"),
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

    /// Read lines until one equals `want`; panics after WAIT. Returns the
    /// lines skipped on the way.
    pub fn recv_until(&mut self, want: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "{want:?} not seen; got {skipped:?}"
            );
            let line = self.recv_text();
            if line == want {
                return skipped;
            }
            skipped.push(line);
        }
    }

    /// Read lines until one passes `pick`, and return it; panics after
    /// WAIT. Lines on the way are skipped.
    pub fn recv_matching(&mut self, pick: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no matching line within {WAIT:?}"
            );
            let line = self.recv_text();
            if pick(&line) {
                return line;
            }
        }
    }

    /// Read until the server's close frame; return its code. Text lines on
    /// the way are skipped. Panics if the connection ends without one.
    pub fn recv_close(&mut self) -> u16 {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no close within {WAIT:?}");
            match self.ws.read() {
                Ok(Message::Close(Some(frame))) => return u16::from(frame.code),
                Ok(Message::Close(None)) => return u16::from(CloseCode::Status),
                Ok(_) => {}
                Err(e) => panic!("expected a close frame, got error {e}"),
            }
        }
    }

    pub fn close(&mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && self.ws.read().is_ok() {}
    }
}

/// `user-N: text`, `.... user-N has left.` and the rest, built the same way
/// the tests read them.
pub fn left(nick: &str) -> String {
    format!(" .... {nick} has left.")
}
pub fn joined(nick: &str) -> String {
    format!(" .... {nick} has joined.")
}

/// Open a WebSocket by hand and return the raw socket, for tests that send
/// bytes no well-behaved client would. The greeting is read and dropped.
pub fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    raw_join(addr).0
}

/// Read a greeting off a raw socket (history, ` .... you are NICK.`, the
/// presence line); return the nickname.
pub fn read_greeting(stream: &mut TcpStream) -> String {
    for _ in 0..10_000 {
        let (opcode, payload) = read_frame(stream).expect("greeting frame");
        assert_eq!(opcode, 1, "greeting is text");
        let line = String::from_utf8(payload).expect("greeting is UTF-8");
        if let Some(nick) = you_are(&line) {
            let (opcode, presence) = read_frame(stream).expect("presence frame");
            assert_eq!(opcode, 1, "presence is text");
            assert!(presence.starts_with(b" .... here now ("), "{presence:?}");
            return nick.to_owned();
        }
    }
    panic!("no greeting in 10000 frames");
}

/// Read an HTTP response head (up to the blank line).
pub fn read_http_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => break,
            Err(e) => panic!(
                "reading HTTP head: {e}; got {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
        assert!(head.len() < 16 * 1024, "HTTP head too long");
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A client frame, masked as RFC 6455 requires (unless `masked` is false);
/// its header written by tungstenite's [`FrameHeader`]. `opcode` is the
/// raw number, so a test can send a reserved one.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let header = FrameHeader {
        is_final: fin,
        opcode: OpCode::from(opcode),
        mask: masked.then_some(key),
        ..FrameHeader::default()
    };
    let mut out = Vec::new();
    header
        .format(payload.len() as u64, &mut out)
        .expect("writing to a Vec never fails");
    if masked {
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Read one server frame: (opcode, payload). Server frames are unmasked and
/// unfragmented here. `Err` on EOF or timeout.
pub fn read_frame(stream: &mut TcpStream) -> io::Result<(u8, Vec<u8>)> {
    read_frame_from(stream)
}

/// Read frames until a close frame; return its code (1005 when it has none).
/// Panics if the connection ends first.
pub fn read_close_code(stream: &mut TcpStream) -> u16 {
    for _ in 0..10_000 {
        let (opcode, payload) = read_frame(stream).expect("close frame");
        if opcode == 8 {
            return if payload.len() >= 2 {
                u16::from_be_bytes([payload[0], payload[1]])
            } else {
                1005
            };
        }
    }
    panic!("no close frame in 10000 frames");
}

/// After a close frame, the server ends the TCP connection: reads hit EOF.
pub fn assert_eof(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "connection still open");
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("expected EOF, got {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers for the robustness tests (slow, hostile and broken clients).
// ---------------------------------------------------------------------------

impl TestClient {
    /// Send `text` and read until this client's own `nick: text` comes back;
    /// return the lines seen on the way. Proves the room still works for us.
    pub fn chat(&mut self, text: &str) -> Vec<String> {
        self.send(text);
        let mine = format!("{}: {text}", self.nick);
        self.recv_until(&mine)
    }
}

/// Poll `cond` every 5 ms until it holds or `timeout` passes; whether it held.
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

/// Threads in this process right now whose name passes `pick` (the
/// in-process server's included).
pub fn threads_named(pick: impl Fn(&str) -> bool) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return usize::MAX;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| pick(name.trim_end()))
        .count()
}

/// Threads in this process right now (the in-process server's included).
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// The upgrade request [`raw_upgrade`] sends, with `extra` header lines
/// (each ending in `\r\n`) before the blank line.
pub fn upgrade_request(addr: SocketAddr, extra: &str) -> String {
    upgrade_request_to(addr, "/", extra)
}

/// [`upgrade_request`] for this request target.
pub fn upgrade_request_to(addr: SocketAddr, target: &str, extra: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Like [`raw_upgrade`], but also return the nickname from the greeting.
pub fn raw_join(addr: SocketAddr) -> (TcpStream, String) {
    raw_join_to(addr, "/")
}

/// [`raw_join`] with this request target (`/ROOM?session=ID`).
pub fn raw_join_to(addr: SocketAddr, target: &str) -> (TcpStream, String) {
    let request = upgrade_request_to(addr, target, "");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    assert_eq!(status, 101, "{head}");
    let nick = read_greeting(&mut stream);
    (stream, nick)
}

/// Connect, write `request`, read the HTTP response head: (status, head,
/// the stream for more reading). Status 0 if there was no status line.
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> (u16, String, TcpStream) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).expect("write request");
    let head = read_http_head(&mut stream);
    (status_of(&head), head, stream)
}

/// The status code of an HTTP response head (0 if there is none).
pub fn status_of(head: &str) -> u16 {
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The value of header `name` in an HTTP head, if present.
pub fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Read until EOF (or a reset), at most `limit` bytes and `timeout`; return
/// whether the server ended the connection in time.
pub fn ends_within(stream: &mut TcpStream, timeout: Duration, limit: usize) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0usize;
    while total <= limit {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(e) => panic!("reading to EOF: {e}"),
        }
    }
    false
}

/// [`read_frame`] over any reader (a `BufReader` when reading many frames).
/// The header is parsed by tungstenite's [`FrameHeader`], a byte at a time
/// (it is at most 14 bytes), so nothing past the frame is consumed.
pub fn read_frame_from(stream: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = Vec::with_capacity(14);
    let mut byte = [0u8];
    loop {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
        match FrameHeader::parse(&mut Cursor::new(&head)) {
            Ok(Some((header, len))) => {
                let mut payload = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
                stream.read_exact(&mut payload)?;
                return Ok((u8::from(header.opcode), payload));
            }
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}

/// A close frame's payload: the code, then the reason bytes.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// The real `chat-server` binary as a child process, its addresses read from
/// its log. Killed (SIGKILL) if still running when dropped.
pub struct ChildServer {
    pub child: std::process::Child,
    pub chat_addr: SocketAddr,
    pub page_addr: SocketAddr,
    /// The child's stderr, line by line, after the two address lines.
    pub log: crossbeam_channel::Receiver<String>,
}

/// Start the binary with `args` (ports default to 0 here), under an
/// open-file limit (soft and hard) of `fd_limit` if given.
pub fn start_binary(fd_limit: Option<u64>, args: &[&str]) -> ChildServer {
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_chat-server");
    let mut command = Command::new("sh");
    let script = match fd_limit {
        Some(n) => format!("ulimit -n {n} && exec \"$0\" \"$@\""),
        None => "exec \"$0\" \"$@\"".to_owned(),
    };
    command
        .arg("-c")
        .arg(script)
        .arg(bin)
        // Tests keep nothing on disk unless they ask (after `args`, so a
        // test's own `--data-dir` wins over nothing: it omits this flag).
        .args(["--http-port", "0", "--ws-port", "0", "--memory-only"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
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
    };
    let addr_after = |line: &str, marker: &str| -> Option<SocketAddr> {
        let rest = &line[line.find(marker)? + marker.len()..];
        rest.trim_end().trim_end_matches('/').parse().ok()
    };
    let (mut chat, mut page) = (None, None);
    let deadline = Instant::now() + WAIT;
    while chat.is_none() || page.is_none() {
        let line = child
            .log
            .recv_deadline(deadline)
            .unwrap_or_else(|_| panic!("chat-server did not log its addresses within {WAIT:?}"));
        page = page.or_else(|| addr_after(&line, "page at http://"));
        chat = chat.or_else(|| addr_after(&line, "chat at ws://"));
    }
    child.chat_addr = chat.unwrap();
    child.page_addr = page.unwrap();
    child
}

impl ChildServer {
    /// Send SIGTERM.
    pub fn sigterm(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill only sends a signal to our own child, by its pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill failed");
    }

    /// Wait at most `timeout` for the child to exit.
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

    /// The first log line (from now on) containing `needle`, within `timeout`.
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

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Raise this process's soft open-file limit to its hard limit; return it.
pub fn raise_fd_limit() -> u64 {
    chat_server::raise_fd_limit()
}

/// Connect and send an upgrade request without waiting for the answer (so
/// many handshakes can overlap); [`finish_upgrade`] reads it.
pub fn begin_upgrade(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(upgrade_request(addr, "").as_bytes())
        .expect("write request");
    stream
}

/// Read the 101 and the greeting of a [`begin_upgrade`]; return the nickname.
pub fn finish_upgrade(stream: &mut TcpStream) -> String {
    let head = read_http_head(stream);
    assert_eq!(status_of(&head), 101, "{head}");
    read_greeting(stream)
}

/// Whether `program` is on the PATH. Outside CI (env `CI` unset) a missing
/// one prints a skip line saying `why` it is needed and the test passes; in
/// CI a missing program fails the test, since `.ci/run` installs it.
pub fn have_program(program: &str, why: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} not found, and CI needs it: {why}"
        );
        println!("skipped: {program} not found ({why})");
    }
    found
}

/// Connect, write `request`, and read everything the server sends until it
/// ends the connection (or WAIT passes, or 1 MiB): (the bytes as text,
/// whether the server ended the connection).
pub fn exchange_to_end(addr: SocketAddr, request: &[u8]) -> (String, bool) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).expect("write request");
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let ended = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || got.len() > 1 << 20 {
            break false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), ended)
}

/// The status codes of every response in `text`, in order.
pub fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}
