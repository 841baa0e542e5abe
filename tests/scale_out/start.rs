//! Starting with and without `--redis`: with
//! Redis unreachable, one line on stderr and exit 1; with it, the start-up
//! log names the Redis address and the instance id. (Without the flag no
//! Redis thread runs: that counts threads, so it is
//! `threads::no_redis_thread`.)

use testkit::redis::RedisServer;
use testkit::{start_binary, WAIT};

#[test]
fn unreachable_redis_is_one_line_and_exit_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--http-port", "0", "--ws-port", "0"])
        .args(["--redis", &format!("redis://127.0.0.1:{port}/")])
        .output()
        .expect("run chat-server");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("chat-server: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected in {stderr:?}");
    assert!(
        errors[0].starts_with(&format!(
            "chat-server: could not reach Redis at 127.0.0.1:{port}: "
        )),
        "{}",
        errors[0]
    );
    // A bad URL is refused the same way.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--redis", "http://nowhere/"])
        .output()
        .expect("run chat-server");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_start_up_log_names_redis_and_the_instance() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let child = start_binary!(None, &["--redis", &redis.url()]);
    let line = child
        .wait_log("redis at ", WAIT)
        .expect("a start-up line about Redis");
    let want = format!("redis at 127.0.0.1:{}: instance ", redis.port);
    let rest = &line[line.find(&want).expect(&line) + want.len()..];
    let id: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(id.len(), 16, "{line}");
}
