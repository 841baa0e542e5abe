//! `contrib/chat-server.service` passes
//! `systemd-analyze verify` without a warning, has the hardening the README
//! promises, and the flags in `contrib/chat-server.env` start the server.

use testkit::*;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn contrib(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chat-server-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `systemd-analyze verify` on `unit` (with the binary and environment
/// file pointed at ones that exist here); the lines it says about the unit.
fn verify(unit: &str, dir: &Path) -> Vec<String> {
    let env_file = dir.join("chat-server.env");
    std::fs::write(&env_file, contrib("chat-server.env")).expect("write env");
    let unit = unit
        .replace(
            "/usr/local/bin/chat-server",
            env!("CARGO_BIN_EXE_chat-server"),
        )
        .replace("/etc/default/chat-server", &env_file.display().to_string());
    let path = dir.join("chat-server.service");
    std::fs::write(&path, unit).expect("write unit");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("run systemd-analyze");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| line.contains("chat-server"))
        .map(str::to_owned)
        .collect();
    if !out.status.success() {
        lines.push(format!(
            "systemd-analyze exited with {}: {text}",
            out.status
        ));
    }
    lines
}

#[test]
fn the_unit_verifies_clean() {
    if !have_program("systemd-analyze", "to check contrib/chat-server.service") {
        return;
    }
    let dir = scratch("unit");
    let unit = contrib("chat-server.service");
    assert_eq!(verify(&unit, &dir), Vec::<String>::new());
    // The check can fail: a misspelt key and a bad value are reported.
    let broken = unit
        .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
        .replace("LimitNOFILE=65536", "LimitNOFILE=lots");
    assert_eq!(
        verify(&broken, &dir).len(),
        2,
        "{:?}",
        verify(&broken, &dir)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_unit_has_the_usual_hardening() {
    let unit = contrib("chat-server.service");
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for setting in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "EnvironmentFile=/etc/default/chat-server",
        "StateDirectory=chat-server",
        "ExecStart=/usr/local/bin/chat-server --data-dir /var/lib/chat-server $CHAT_SERVER_ARGS",
    ] {
        assert!(lines.contains(&setting), "{setting} missing");
    }
    let nofile: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .and_then(|v| v.parse().ok())
        .expect("LimitNOFILE=N");
    assert!(
        nofile > 10_000,
        "LimitNOFILE={nofile}: room for --max-clients"
    );
}

#[test]
fn the_environment_files_flags_start_the_server() {
    // Every CHAT_SERVER_ARGS line, the commented-out ones too; ports become
    // 0 (start_binary passes them) so the test needs no fixed port.
    let env = contrib("chat-server.env");
    let variants: Vec<&str> = env
        .lines()
        .filter_map(|l| l.trim_start_matches('#').strip_prefix("CHAT_SERVER_ARGS="))
        .map(|v| v.trim_matches('"'))
        .collect();
    assert!(variants.len() >= 2, "{variants:?}");
    for args in variants {
        let words: Vec<&str> = args.split_whitespace().collect();
        let mut kept = Vec::new();
        let mut skip_value = false;
        for word in words {
            if std::mem::take(&mut skip_value) {
                continue;
            }
            if word == "--http-port" || word == "--ws-port" {
                skip_value = true;
                continue;
            }
            kept.push(word);
        }
        let server = start_binary!(None, &kept);
        let mut client = TestClient::connect(loopback(server.chat_addr));
        client.chat("started from the environment file");
    }
}

/// A listener bound to 0.0.0.0 is reached on loopback.
fn loopback(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}
