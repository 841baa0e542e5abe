//! The real binary as a child process: start on port 0, chat, SIGTERM,
//! every client gets 1001, exit code 0. Also its command-line errors.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chat-server");

/// The running binary and the addresses it logged.
struct Running {
    child: Child,
    page: SocketAddr,
    chat: SocketAddr,
    /// Later stderr lines, read by a thread so the pipe never fills.
    log: mpsc::Receiver<String>,
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(["--http-port", "0", "--ws-port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chat-server");
    let stderr = child.stderr.take().unwrap();
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut page, mut chat) = (None, None);
    let deadline = Instant::now() + WAIT;
    while page.is_none() || chat.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = log.recv_timeout(left).expect("start-up log lines");
        let addr = |prefix: &str| -> Option<SocketAddr> {
            let rest = &line[line.find(prefix)? + prefix.len()..];
            rest.trim_end_matches('/').parse().ok()
        };
        page = page.or(addr("page at http://"));
        chat = chat.or(addr("chat at ws://"));
    }
    Running {
        child,
        page: page.unwrap(),
        chat: chat.unwrap(),
        log,
    }
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

fn sigterm(child: &Child) {
    // SAFETY: kill(2) with our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
}

#[test]
fn sigterm_closes_every_client_with_1001_and_exits_0() {
    let mut server = start(&[]);
    assert_ne!(server.page.port(), 0);
    assert_ne!(server.chat.port(), 0);
    let mut a = TestClient::connect(server.chat);
    let mut b = TestClient::connect(server.chat);
    assert_eq!(a.recv_text(), joined(&b.nick));
    a.send("hi");
    assert_eq!(b.recv_text(), format!("{}: hi", a.nick));
    assert_eq!(a.recv_text(), format!("{}: hi", a.nick));

    sigterm(&server.child);
    assert_eq!(a.recv_close(), 1001);
    assert_eq!(b.recv_close(), 1001);
    assert_eq!(
        wait_exit(&mut server.child, Duration::from_secs(3)),
        Some(0)
    );
    // It said why it stopped.
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(log.iter().any(|l| l.contains("stopping")), "{log:?}");
}

#[test]
fn sigint_also_stops_cleanly() {
    let mut server = start(&[]);
    let mut a = TestClient::connect(server.chat);
    // SAFETY: kill(2) with our own child's pid.
    unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(a.recv_close(), 1001);
    assert_eq!(
        wait_exit(&mut server.child, Duration::from_secs(3)),
        Some(0)
    );
}

#[test]
fn the_binary_serves_the_page_with_its_chat_port() {
    let mut server = start(&[]);
    let mut s = std::net::TcpStream::connect(server.page).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    std::io::Write::write_all(
        &mut s,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"));
    assert!(body.contains(&format!("content=\"{}\"", server.chat.port())));
    sigterm(&server.child);
    assert_eq!(
        wait_exit(&mut server.child, Duration::from_secs(3)),
        Some(0)
    );
}

/// Run the binary to completion; return (exit code, stderr).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run chat-server");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_flag_is_one_line_and_exit_1() {
    let (code, stderr) = run(&["--no-such-flag"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("chat-server: "), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let (code, _) = run(&["--ws-port", "not-a-port"]);
    assert_eq!(code, Some(1));
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = run(&["--http-port", "0", "--ws-port", &port, "--log-level", "off"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("could not bind chat listener"), "{stderr}");
    assert!(stderr.contains(&port), "{stderr}");
}

#[test]
fn help_lists_the_flags() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--http-port",
        "--ws-port",
        "--log-level",
        "--max-clients",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}
