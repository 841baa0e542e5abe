//! The seed's scenario against `examples/seed.rs` itself, run as a child process (built with
//! `cargo build --example seed`), so the tutorial the README starts from can never rot: the
//! tutorial's page pointing at the chat port, `user-N: message` to everyone, ` .... user-N has
//! left.` to the rest, a close answered, a ping answered by its writer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use testkit::{TestClient, WAIT};
use tungstenite::Message;

#[test]
fn two_clients_chat_and_one_leaves() {
    let seed = Seed::start();
    // The seed greets nobody: a client learns its nickname from its own first line.
    let mut a = TestClient::connect_quiet(seed.chat);
    let nick_a = say_and_learn_nick(&mut a, "I am A");
    let n: u32 = nick_a["user-".len()..].parse().expect("user-N");
    assert!(n < 100_000, "{nick_a}");

    // B's own echo proves the room has B; A, already in, hears B too.
    let mut b = TestClient::connect_quiet(seed.chat);
    let nick_b = say_and_learn_nick(&mut b, "I am B");
    assert_eq!(a.recv_text(), format!("{nick_b}: I am B"));

    // A speaks: both receive `user-N: hello`, the sender included.
    a.send("hello");
    assert_eq!(a.recv_text(), format!("{nick_a}: hello"));
    assert_eq!(b.recv_text(), format!("{nick_a}: hello"));

    // A closes: its close is answered and the connection ends; B is told A left, once.
    a.ws.close(None).expect("send close");
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "A's connection did not end");
        match a.ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("expected the close answered, got {e}"),
        }
    }
    assert_eq!(b.recv_text(), format!(" .... {nick_a} has left."));
    b.send("still here");
    assert_eq!(b.recv_text(), format!("{nick_b}: still here"));
}

#[test]
fn a_ping_is_answered_with_its_payload() {
    let seed = Seed::start();
    let mut a = TestClient::connect_quiet(seed.chat);
    a.ws.send(Message::Ping(b"are you there".to_vec().into()))
        .expect("send ping");
    // Nothing else is sent to a client that has not spoken: the next frame is the pong
    // (a read times out after WAIT).
    match a.ws.read().expect("pong") {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // The socket still carries chat after the writer's pong.
    let nick = say_and_learn_nick(&mut a, "after the pong");
    assert!(nick.starts_with("user-"));
}

#[test]
fn the_page_is_the_tutorials_and_points_at_the_chat_port() {
    let seed = Seed::start();
    let mut stream = TcpStream::connect_timeout(&seed.page, WAIT).expect("connect to page");
    stream.set_read_timeout(Some(WAIT)).expect("read timeout");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read page");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(body.contains("<title>LISP-CHAT</title>"), "{body}");
    assert!(body.contains(r#"placeholder="say something""#), "{body}");
    let ws_url = format!(r#"new WebSocket("ws://localhost:{}/")"#, seed.chat.port());
    assert!(body.contains(&ws_url), "{ws_url} not in {body}");
}

/// Send `text` and read it back as `user-N: text`; return `user-N`.
/// A port already taken (the server running, say): one line that says how
/// to pick free ports, and exit code 1.
#[test]
fn a_port_in_use_says_how_to_pick_free_ones() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(seed_binary())
        .args([port.as_str(), "0"])
        .stdin(Stdio::null())
        .output()
        .expect("run examples/seed");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("port {port}:")), "{err}");
    assert!(err.contains("make seed ARGS=\"0 0\""), "{err}");
}

fn say_and_learn_nick(client: &mut TestClient, text: &str) -> String {
    client.send(text);
    let line = client.recv_text();
    let nick = line
        .strip_suffix(&format!(": {text}"))
        .unwrap_or_else(|| panic!("expected `user-N: {text}`, got {line:?}"));
    assert!(nick.starts_with("user-"), "{line:?}");
    nick.to_owned()
}

/// What cargo sets for a test process, besides `CARGO_PKG_*` and `CARGO_MANIFEST_*`.
const CARGO_SETS_FOR_TESTS: [&str; 6] = [
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// `examples/seed.rs` running on free loopback ports; killed when dropped.
struct Seed {
    child: Child,
    chat: SocketAddr,
    page: SocketAddr,
}

impl Seed {
    /// Start the example with `0 0` (any free ports) and read the ports it prints.
    fn start() -> Seed {
        let mut child = Command::new(seed_binary())
            .args(["0", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start examples/seed");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, lines) = crossbeam_channel::bounded(2);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().take(2) {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + WAIT;
        let port_after = |prefix: &str| -> u16 {
            let line = lines
                .recv_deadline(deadline)
                .unwrap_or_else(|_| panic!("the seed did not print {prefix:?} within {WAIT:?}"));
            line.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix('/'))
                .and_then(|port| port.parse().ok())
                .unwrap_or_else(|| panic!("expected `{prefix}PORT/`, got {line:?}"))
        };
        let chat = port_after("chat at ws://localhost:");
        let page = port_after("page at http://localhost:");
        Seed {
            child,
            chat: SocketAddr::from(([127, 0, 0, 1], chat)),
            page: SocketAddr::from(([127, 0, 0, 1], page)),
        }
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example's executable, built once per test run with the cargo that runs the tests
/// (a no-op when it is fresh). Its path comes from cargo's own JSON report.
fn seed_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let mut cargo = Command::new(env!("CARGO"));
            // Cargo gives this test process the package's variables (CARGO_PKG_NAME...); build
            // scripts that read them (ring's) would see a change and rebuild on every run.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if name.starts_with("CARGO_PKG_")
                    || name.starts_with("CARGO_MANIFEST_")
                    || CARGO_SETS_FOR_TESTS.contains(&&*name)
                {
                    cargo.env_remove(&*name);
                }
            }
            let output = cargo
                .args(["build", "-q", "--example", "seed", "--message-format=json"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stderr(Stdio::inherit())
                .output()
                .expect("run cargo build --example seed");
            assert!(output.status.success(), "cargo build --example seed failed");
            let report = String::from_utf8_lossy(&output.stdout);
            let marker = r#""executable":""#;
            report
                .lines()
                .filter(|line| line.contains(r#""name":"seed""#))
                .find_map(|line| {
                    let rest = &line[line.find(marker)? + marker.len()..];
                    Some(PathBuf::from(&rest[..rest.find('"')?]))
                })
                .expect("cargo reported no executable for examples/seed")
        })
        .clone()
}
