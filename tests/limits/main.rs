//! Slow, hostile and broken clients, end to end over loopback: a server
//! started in-process on port 0 and clients that stop reading, flood,
//! ping, send too much or send broken frames. Each module checks one bound
//! and that everyone else carries on. Run one: `cargo test --test limits
//! slow_consumer`.

mod close_codes;
mod dead_peers;
mod flood;
mod leave_reasons;
mod message_size;
mod ping_flood;
mod slow_consumer;
mod slow_down_once;
