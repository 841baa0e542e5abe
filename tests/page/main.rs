//! The page port (the page, `/healthz`, `/metrics`), end to end over
//! loopback: raw HTTP requests to a server started in-process on port 0
//! (and the real binary for `/metrics`), and the exact answers. Run one:
//! `cargo test --test page conditional`.

mod bad_request_line;
mod conditional;
mod connection_close;
mod content_framing;
mod head_size;
mod healthz;
mod http10;
mod metrics;
mod paths;
mod slow_content;
mod slow_head;
mod slowloris;
mod tolerance;
