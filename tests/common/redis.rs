//! Not a test helper of its own: `src/cluster/tests.rs` includes this path
//! with `#[path]`, so it stays until that include becomes
//! `use testkit::redis::RedisServer;`. The launcher is `testkit::redis`.

pub use testkit::redis::RedisServer;
