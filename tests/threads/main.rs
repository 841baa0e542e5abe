//! Tests that count this process's threads (the in-process server's
//! writer, client, page and Redis threads): a binary of their own, so no
//! other test's threads are counted, and one test at a time ([`serial`]),
//! so none counts another's. `many_clients` also raises the open-file
//! limit of the process. Run one: `cargo test --test threads catch_up`.

mod catch_up;
mod many_clients;
mod no_redis_thread;
mod page_connection_cap;
mod redis_restart;

use std::sync::{Mutex, MutexGuard};

/// Take this binary's one turn: every test here holds it for its whole
/// run, so the threads it counts are its own. A test that panicked while
/// holding it does not poison it for the others.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
