//! What was said outlives the process: the store in `--data-dir`
//! (SQLite, `chat.sqlite3`), end to end. One module per behaviour.
//! Run one: `cargo test --test store restart`.

mod durability;
mod restart;
mod transcripts;
