//! A sender over the rate limit is told ` .... slow down.` at most once per
//! 10 seconds, not once each time a line is dropped
//! after one got through.

use testkit::*;

use chat_server::{Config, Limits};

#[test]
fn a_fast_typist_is_told_to_slow_down_once() {
    let server = start_server_with(Config {
        limits: Limits {
            rate_per_second: 10.0,
            burst: 20,
            ..test_config().limits
        },
        ..test_config()
    });
    let mut sender = TestClient::connect(server.chat_addr());
    // 150 lines at 50 a second, five times the rate: after the burst, a
    // token refills every 100 ms, so one line in five gets through and the
    // rest are dropped, for three seconds.
    for i in 0..150 {
        sender.send(&format!("line {i}"));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A close after them: everything the server sent about those lines
    // comes before its close reply.
    sender.ws.close(None).expect("close");
    let mut slow_downs = 0;
    let mut delivered = 0;
    for _ in 0..1000 {
        match sender.ws.read() {
            Ok(tungstenite::Message::Text(t)) if t.as_str() == " .... slow down." => {
                slow_downs += 1
            }
            Ok(tungstenite::Message::Text(_)) => delivered += 1,
            Ok(tungstenite::Message::Close(_)) => break,
            Ok(_) => {}
            Err(e) => panic!("before the close reply: {e}"),
        }
    }
    assert!(delivered >= 20, "only {delivered} lines got through");
    assert!(delivered < 150, "nothing was dropped");
    assert_eq!(slow_downs, 1, "told to slow down {slow_downs} times");
}
