//! Start-up errors a person can act on: the real binary,
//! started with a mistake, exits 1 with one line on stderr that says what to
//! change; `--bind localhost` resolves and serves.

use testkit::*;

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Stdio};

/// Run the binary with `args` to its end (bounded by WAIT, else killed);
/// return whether it succeeded and its stderr.
fn run_to_end(wrapper: &[&str], args: &[&str]) -> (bool, String) {
    let bin = env!("CARGO_BIN_EXE_chat-server");
    let (program, before) = match wrapper.split_first() {
        Some((program, rest)) => (*program, [rest, &[bin]].concat()),
        None => (bin, Vec::new()),
    };
    let mut child = Command::new(program)
        .args(before)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chat-server");
    let stderr = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let ok = wait_until(WAIT, || matches!(child.try_wait(), Ok(Some(_))));
    if !ok {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait");
    let stderr = reader.join().expect("stderr reader");
    assert!(ok, "chat-server did not exit within {WAIT:?}: {stderr}");
    (status.success(), stderr)
}

/// The one line `chat-server: ...` a failed start prints.
fn the_error(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("chat-server: "))
        .collect();
    assert_eq!(lines.len(), 1, "one error line expected in {stderr:?}");
    lines[0]
}

fn free_port() -> (TcpListener, u16) {
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = holder.local_addr().expect("local addr").port();
    (holder, port)
}

#[test]
fn a_port_in_use_names_the_flag_to_change() {
    let (_holder, port) = free_port();
    let port = port.to_string();
    for (flag, other) in [("--ws-port", "--http-port"), ("--http-port", "--ws-port")] {
        let (ok, stderr) = run_to_end(&[], &[flag, &port, other, "0"]);
        assert!(!ok, "started on a port in use: {stderr}");
        let line = the_error(&stderr);
        assert!(line.contains(&format!("port {port} is in use")), "{line}");
        assert!(
            line.contains(&format!("choose another with {flag}")),
            "{line}"
        );
    }
}

#[test]
fn one_port_for_both_is_refused_before_binding() {
    // We hold the port: had the server tried to bind it, it would say
    // "in use" instead.
    let (_holder, port) = free_port();
    let port = port.to_string();
    let (ok, stderr) = run_to_end(&[], &["--http-port", &port, "--ws-port", &port]);
    assert!(!ok);
    let line = the_error(&stderr);
    assert!(
        line.contains(&format!("--http-port and --ws-port are both {port}")),
        "{line}"
    );
    assert!(!line.contains("in use"), "{line}");
}

#[test]
fn a_mistyped_flag_suggests_the_right_one() {
    for (typo, meant) in [
        ("--ws-prot", "--ws-port"),
        ("--htp-port", "--http-port"),
        ("--public-ulr", "--public-url"),
        ("--max-client", "--max-clients"),
    ] {
        let (ok, stderr) = run_to_end(&[], &[typo, "1"]);
        assert!(!ok);
        let line = the_error(&stderr);
        assert!(line.contains(&format!("'{meant}'")), "{typo}: {line}");
    }
}

#[test]
fn bind_resolves_host_names_or_says_to_use_an_address() {
    let server = start_binary!(None, &["--bind", "localhost"]);
    assert!(server.page_addr.ip().is_loopback(), "{}", server.page_addr);
    let mut client = TestClient::connect(server.chat_addr);
    client.chat("bound by name");

    let (ok, stderr) = run_to_end(&[], &["--bind", "no-such-host.invalid"]);
    assert!(!ok);
    let line = the_error(&stderr);
    assert!(line.contains("give an address such as 127.0.0.1"), "{line}");

    // An address this machine does not have (TEST-NET-3, RFC 5737).
    let (ok, stderr) = run_to_end(
        &[],
        &[
            "--bind",
            "203.0.113.7",
            "--http-port",
            "0",
            "--ws-port",
            "0",
        ],
    );
    assert!(!ok);
    let line = the_error(&stderr);
    assert!(line.contains("not an address of this machine"), "{line}");
}

#[test]
fn a_privileged_port_without_permission_says_so() {
    let Some(start) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    else {
        return println!("skipped: no /proc/sys/net/ipv4/ip_unprivileged_port_start");
    };
    if start == 0 {
        return println!(
            "skipped: this system lets anyone bind any port (ip_unprivileged_port_start = 0)"
        );
    }
    // Root may bind anywhere: drop to nobody for the run.
    // SAFETY: geteuid has no preconditions.
    let wrapper: &[&str] = if unsafe { libc::geteuid() } == 0 {
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    if !wrapper.is_empty()
        && !have_program("setpriv", "util-linux's setpriv, to drop root for the run")
    {
        return;
    }
    let port = (start.saturating_sub(1)).min(1023).to_string();
    let (ok, stderr) = run_to_end(wrapper, &["--http-port", &port, "--ws-port", "0"]);
    assert!(!ok, "bound a privileged port without permission: {stderr}");
    let line = the_error(&stderr);
    assert!(
        line.contains("need root or the CAP_NET_BIND_SERVICE capability"),
        "{line}"
    );
    assert!(line.contains("--http-port"), "{line}");
}
