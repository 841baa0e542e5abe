//! The real binary as a child process: start on port 0, chat, SIGTERM,
//! every client gets 1001, exit code 0. Also its command-line errors.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::*;

const BIN: &str = env!("CARGO_BIN_EXE_chat-server");

fn exit_code(server: &mut ChildServer) -> Option<i32> {
    server
        .wait_exit(Duration::from_secs(3))
        .and_then(|s| s.code())
}

#[test]
fn sigterm_closes_every_client_with_1001_and_exits_0() {
    let mut server = start_binary!(None, &[]);
    assert_ne!(server.page_addr.port(), 0);
    assert_ne!(server.chat_addr.port(), 0);
    let mut a = TestClient::connect(server.chat_addr);
    let mut b = TestClient::connect(server.chat_addr);
    assert_eq!(a.recv_text(), joined(&b.nick));
    a.send("hi");
    assert_eq!(b.recv_text(), format!("{}: hi", a.nick));
    assert_eq!(a.recv_text(), format!("{}: hi", a.nick));

    server.sigterm();
    assert_eq!(a.recv_close(), 1001);
    assert_eq!(b.recv_close(), 1001);
    assert_eq!(exit_code(&mut server), Some(0));
    // It said why it stopped.
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(log.iter().any(|l| l.contains("stopping")), "{log:?}");
}

#[test]
fn sigint_also_stops_cleanly() {
    let mut server = start_binary!(None, &[]);
    let mut a = TestClient::connect(server.chat_addr);
    // SAFETY: kill(2) with our own child's pid.
    unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(a.recv_close(), 1001);
    assert_eq!(exit_code(&mut server), Some(0));
}

#[test]
fn the_binary_serves_the_page_with_its_chat_port() {
    let mut server = start_binary!(None, &[]);
    let mut s = std::net::TcpStream::connect(server.page_addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    std::io::Write::write_all(
        &mut s,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"));
    assert!(body.contains(&format!("content=\"{}\"", server.chat_addr.port())));
    server.sigterm();
    assert_eq!(exit_code(&mut server), Some(0));
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
