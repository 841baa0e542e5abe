//! `--redis rediss://`: the instances reach Redis over TLS (the redis
//! crate's rustls, no async runtime), verifying Redis's certificate
//! against the system's roots, here a test CA given by `SSL_CERT_FILE`
//! (issue 15, point 1). Redis and its certificates are made by the test:
//! `redis-server --tls-port`, certificates from `openssl`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{start_binary, TestClient, WAIT};

/// A TLS-only redis-server with a fresh CA and server certificate.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    fn start() -> Option<TlsRedis> {
        let have = |program: &str| Command::new(program).arg("version").output().is_ok();
        if !have("openssl")
            || Command::new("redis-server")
                .arg("--version")
                .output()
                .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "openssl and redis-server are needed in CI"
            );
            eprintln!("skipped: openssl or redis-server not found");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("chat-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let openssl = |args: &[&str]| {
            let ok = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .stderr(Stdio::null())
                .status()
                .unwrap()
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
        std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1").unwrap();
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(TlsRedis { child, port, dir })
    }

    fn ca(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn instances_share_rooms_over_tls_and_verify_redis() {
    let Some(redis) = TlsRedis::start() else {
        return;
    };
    let url = format!("rediss://localhost:{}/", redis.port);

    // Not trusting the test CA: the certificate is refused, exit 1.
    let out = Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--http-port", "0", "--ws-port", "0", "--redis", &url])
        .env("SSL_CERT_FILE", "/nonexistent")
        .env("SSL_CERT_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not reach Redis at localhost:"),
        "{stderr}"
    );

    // Trusting it (as a system root): two instances chat through it.
    // (This test file is its own process: the children inherit this.)
    std::env::set_var("SSL_CERT_FILE", redis.ca().join("ca.crt"));
    let a = start_binary(None, &["--redis", &url, "--rate", "0"]);
    let line = a
        .wait_log("redis at ", WAIT)
        .expect("a start-up line about Redis");
    assert!(
        line.contains(&format!(
            "redis at localhost:{} (TLS): instance ",
            redis.port
        )),
        "{line}"
    );
    let b = start_binary(None, &["--redis", &url, "--rate", "0"]);
    let mut ann = TestClient::connect(a.chat_addr);
    let mut bob = TestClient::connect(b.chat_addr);
    ann.recv_until(&common::joined(&bob.nick));
    bob.send("over TLS");
    assert_eq!(ann.recv_text(), format!("{}: over TLS", bob.nick));
}
