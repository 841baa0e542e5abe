//! A small, synchronous WebSocket chat room: a Rust port of the Common Lisp
//! Cookbook's WebSocket chat, one OS thread per connection, no async runtime.
//!
//! # Layout
//! - [`config`]: defaults and the command line.
//! - [`server`]: starts and stops everything; the acceptor thread.
//! - [`health`]: `/healthz` and `/metrics`, for operators.
//! - [`handshake`]: the WebSocket opening handshake, with HTTP answers.
//! - [`client`]: one client's session and its reader thread.
//! - [`room`]: the broadcaster thread, sole owner of the nickname table.
//! - [`outbox`]: how lines reach a client's socket: sent at once if it
//!   takes them, else queued for a writer.
//! - [`writer`]: the writer thread a client has only while it is behind.
//! - [`frame`]: server frames, encoded once for every client.
//! - [`proxy`]: the same-origin rule and the client address behind a proxy.
//! - [`protocol`]: the wire wording and close codes.
//! - [`page`]: tiny_http serving `web/index.html`.
//! - [`metrics`]: counters and gauges for `/metrics`.
//! - [`rlimit`]: how many clients the OS limits allow.
//! - [`startup`]: binding, and the start-up lines for a classroom.
//!
//! # Threads
//! One `room`, one `acceptor`, one `page` (plus tiny_http's own), and one
//! per client (`client-N`, its reader). A client that falls behind also gets
//! a writer (`client-N-w`) until it catches up.
//!
//! ```text
//! browser --HTTP--> page (tiny_http) -- web/index.html
//! browser ==WS====> acceptor --spawn--> client-N reader (1 per socket)
//!                                         | Event::Join/Message/Leave
//!                                         v
//!                                       room (owns nicknames)
//!                                         | outbox per client: send now,
//!                                         | without blocking...
//!                                         v
//! browser <==WS======================== socket
//!                                         ^
//!                                         | ...or, for what the socket did
//!                                       client-N-w writer   not take, a
//!                                       (only while behind) writer thread
//! ```
//!
//! # Example
//! ```no_run
//! let server = chat_server::Server::bind(&chat_server::Config::default())?;
//! println!("chat at ws://{}/", server.chat_addr());
//! server.shutdown();
//! # Ok::<(), chat_server::Error>(())
//! ```

pub mod client;
pub mod config;
mod error;
pub mod frame;
pub mod handshake;
mod health;
pub mod metrics;
pub mod outbox;
pub mod page;
pub mod protocol;
mod proxy;
pub mod rlimit;
pub mod room;
pub mod server;
pub mod startup;
mod throttle;
pub mod writer;

pub use config::{Command, Config, Limits};
pub use error::Error;
pub use server::Server;
