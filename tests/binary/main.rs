//! The real `chat-server` binary (and the seed example) as a child
//! process: start-up, its errors, signals, shutdown under load, the
//! acceptor under a low open-file limit. Run one: `cargo test --test binary
//! shutdown_load`.

mod accept_errors;
mod lifecycle;
mod log_lines;
mod seed_example;
mod shutdown_load;
mod startup_errors;
