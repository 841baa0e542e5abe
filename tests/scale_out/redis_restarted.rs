//! Redis killed and started again, with its data (saved just before) and
//! without (empty): each instance notices at once (503 with the cause),
//! serves its own members meanwhile, and is back in step within a second
//! or two of Redis answering again, with exact presence, unique names and
//! no line twice (see `faults`). An empty Redis forgot every name: the
//! instances claim their members' names again.

use testkit::redis::RedisServer;

use crate::faults::survive;

#[test]
fn a_redis_restarted_without_its_data() {
    survive("restart without data", RedisServer::kill, |redis, ()| {
        redis.restart()
    });
}

#[test]
fn a_redis_restarted_with_its_data() {
    survive(
        "restart with data",
        |redis: &mut RedisServer| {
            assert_eq!(redis.command(&["SAVE"]), "+OK");
            redis.kill();
        },
        |redis, ()| redis.start_again(),
    );
}
