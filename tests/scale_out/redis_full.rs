//! A full Redis (`maxmemory` reached with `noeviction`: every write
//! answered `OOM`): each instance warns once and serves its own members
//! (503 with the refusal), and is back in step once Redis takes writes
//! again (see `faults`).

use testkit::redis::RedisServer;

use crate::faults::survive;

#[test]
fn a_full_redis_is_an_outage_that_heals() {
    let outcome = survive(
        "maxmemory noeviction",
        |redis: &mut RedisServer| {
            let policy = ["CONFIG", "SET", "maxmemory-policy", "noeviction"];
            assert_eq!(redis.command(&policy), "+OK");
            // Less than it uses already: full.
            assert_eq!(redis.command(&["CONFIG", "SET", "maxmemory", "1"]), "+OK");
        },
        |redis, ()| assert_eq!(redis.command(&["CONFIG", "SET", "maxmemory", "0"]), "+OK"),
    );
    if let Some(outcome) = outcome {
        for answers in &outcome.during {
            assert!(
                answers.iter().any(|(_, body)| body.contains("OOM")),
                "the cause is named: {answers:?}"
            );
        }
    }
}
