//! Several instances sharing a real `redis-server` started on a free port
//! (testkit's `RedisServer`): one order, names, presence, history, resume,
//! an instance killed, start-up with and without Redis, metrics; and
//! Redis failing every way (`redis_*`, one module per kind of failure,
//! sharing `faults`): noticed, healed, consistent. Without
//! `redis-server` the tests print a skip line outside CI and fail in CI.
//! Run one: `cargo test --test scale_out order`.

mod faults;
mod history;
mod instance_killed;
mod metrics;
mod names;
mod order;
mod presence;
mod redis_failover;
mod redis_full;
mod redis_paused;
mod redis_pubsub_limit;
mod redis_refused;
mod redis_restarted;
mod redis_stall;
mod redis_stopped;
mod resume;
mod start;
mod teacher_rules;
