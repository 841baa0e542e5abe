//! Redis refusing what an instance needs, by its ACL. At start (a user
//! without `psubscribe`, or without `evalsha`): one line naming the
//! missing permission, and exit 1. While running (`evalsha` taken away,
//! then given back): a warning and the degraded mode of an outage (503
//! with the refusal), never a silent hang of joins; back in step once
//! Redis takes the scripts again (see `faults`).

use testkit::redis::RedisServer;

use crate::faults::survive;

/// Run the real binary as `user` (a password `pw`); its exit code and its
/// `chat-server: ` lines.
fn start_as(redis: &RedisServer, user: &str) -> (Option<i32>, Vec<String>) {
    let url = format!("redis://{user}:pw@127.0.0.1:{}/", redis.port);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--http-port", "0", "--ws-port", "0", "--memory-only"])
        .args(["--redis", &url])
        .output()
        .expect("run chat-server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors = stderr
        .lines()
        .filter(|l| l.starts_with("chat-server: "))
        .map(str::to_owned)
        .collect();
    (out.status.code(), errors)
}

#[test]
fn a_user_without_a_needed_command_cannot_start() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    for command in ["psubscribe", "evalsha"] {
        let user = format!("no-{command}");
        let minus = format!("-{command}");
        let set = [
            "ACL", "SETUSER", &user, "on", ">pw", "~*", "&*", "+@all", &minus,
        ];
        assert_eq!(redis.command(&set), "+OK");
        let (code, errors) = start_as(&redis, &user);
        assert_eq!(code, Some(1), "{command}: {errors:?}");
        assert_eq!(errors.len(), 1, "{command}: one error line: {errors:?}");
        let want = format!(
            "chat-server: Redis at 127.0.0.1:{} refused this instance: NOPERM ",
            redis.port
        );
        assert!(errors[0].starts_with(&want), "{}", errors[0]);
        assert!(errors[0].contains(&format!("'{command}'")), "{}", errors[0]);
    }
}

#[test]
fn scripts_refused_while_running_is_an_outage_that_heals() {
    let outcome = survive(
        "ACL -evalsha",
        |redis: &mut RedisServer| {
            let set = ["ACL", "SETUSER", "default", "-evalsha"];
            assert_eq!(redis.command(&set), "+OK");
        },
        |redis, ()| {
            let set = ["ACL", "SETUSER", "default", "+evalsha"];
            assert_eq!(redis.command(&set), "+OK");
        },
    );
    if let Some(outcome) = outcome {
        for answers in &outcome.during {
            assert!(
                answers.iter().any(|(_, body)| body.contains("NOPERM")),
                "the cause is named: {answers:?}"
            );
        }
    }
}
