//! `--redis rediss://`: the instances reach Redis over TLS (the redis
//! crate's rustls, no async runtime), verifying Redis's certificate
//! against the system's roots, here a test CA given by `SSL_CERT_FILE`.
//! Redis and its certificates are made by the test:
//! `redis-server --tls-port`, certificates from `openssl`.

use std::process::Command;

use testkit::redis::RedisServer;
use testkit::{start_binary, TestClient, WAIT};

#[test]
fn instances_share_rooms_over_tls_and_verify_redis() {
    let Some(redis) = RedisServer::start_tls() else {
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
    // (This test binary is its own process: the children inherit this.)
    std::env::set_var("SSL_CERT_FILE", redis.ca());
    let a = start_binary!(None, &["--redis", &url, "--rate", "0"]);
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
    let b = start_binary!(None, &["--redis", &url, "--rate", "0"]);
    let mut ann = TestClient::connect(a.chat_addr);
    let mut bob = TestClient::connect(b.chat_addr);
    ann.recv_until(&testkit::joined(&bob.nick));
    bob.send("over TLS");
    assert_eq!(ann.recv_text(), format!("{}: over TLS", bob.nick));
}
