//! Without `--redis`, no Redis thread runs: a server that chats has no
//! thread named `redis*`. (Here because it counts this process's threads.)

use std::time::Duration;

use testkit::{start_server, threads_named, TestClient};

#[test]
fn without_the_flag_no_redis_thread_runs() {
    let _turn = crate::serial();
    let server = start_server();
    let mut ann = TestClient::connect(server.chat_addr());
    ann.send("hello");
    assert_eq!(ann.recv_text(), format!("{}: hello", ann.nick));
    assert_eq!(threads_named(|name| name.starts_with("redis")), 0);
    ann.assert_nothing_for(Duration::from_millis(100));
}
