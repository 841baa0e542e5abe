//! A failover, as an instance sees it: its Redis becomes a replica (every
//! write answered `READONLY`), then a primary again (`REPLICAOF NO ONE`).
//! Meanwhile each instance serves its own members (503 with the refusal);
//! afterwards it is back in step (see `faults`).

use testkit::redis::RedisServer;

use crate::faults::survive;

#[test]
fn a_redis_turned_replica_is_an_outage_that_heals() {
    let outcome = survive(
        "REPLICAOF",
        |redis: &mut RedisServer| {
            // A primary that is not there: the data stays, writes are refused.
            let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
                .to_string();
            let set = ["REPLICAOF", "127.0.0.1", &nowhere];
            assert!(redis.command(&set).starts_with("+OK"));
        },
        |redis, ()| {
            assert!(redis
                .command(&["REPLICAOF", "NO", "ONE"])
                .starts_with("+OK"))
        },
    );
    if let Some(outcome) = outcome {
        for answers in &outcome.during {
            assert!(
                answers.iter().any(|(_, body)| body.contains("READONLY")),
                "the cause is named: {answers:?}"
            );
        }
    }
}
