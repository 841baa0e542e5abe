//! A small, synchronous WebSocket chat room: a Rust port of the Common Lisp
//! Cookbook's WebSocket chat, one OS thread per connection, no async runtime.
//!
//! # Layout
//! In the order a chat line flows, socket to socket:
//! - `server`: starts and stops everything; the acceptor thread.
//! - `http`: parsers for both ports: the bounded request-head reader, the
//!   WebSocket upgrade (101, every refusal, the origin policy).
//! - `page`: the page port (tiny_http): the page, `/healthz`, `/metrics`,
//!   transcripts, QR codes.
//! - `client`: one client's session, run by its reader thread: frames in,
//!   inputs for the broadcaster out.
//! - `broadcaster`: the one thread that owns the room core, feeds it one
//!   input at a time with the time, and carries out its outputs (deliver,
//!   publish, count, log): the only place the core meets the world.
//! - `room`: the core: every room's members, nicknames, commands, history
//!   and resumes, as plain logic (inputs in, outputs out).
//! - `protocol`: every line's wording, rendered as plain text or JSON.
//! - `outbox`: how lines reach a client's socket: sent at once if it takes
//!   them, else queued for its private child `outbox::writer`, the writer
//!   thread a client has only while it is behind.
//! - `frame`: server frames, encoded once for every client.
//! - `cluster` (feature `redis`) and `store`: threads that take the
//!   broadcaster's outputs and give back inputs.
//!
//! And what they share:
//! - `event`: the one event model (core, broadcaster, cluster and store).
//! - `nickname`: the nickname rules (core and cluster).
//! - `config`: every flag and limit, each spelled once ([`Config`], [`Limits`]).
//! - `id`: [`ClientId`], the one type the core, reader and outbox all name.
//! - `permit`: counted permits (client seats, writer threads).
//! - `throttle`: rate limits (a client's flood limit, the log's).
//! - `health`: `/healthz` and `/metrics` on the page port, for operators.
//! - `logging`: the binary's logger, which makes every line safe
//!   (`protocol::log_safe`: no client bytes can forge a log line).
//! - `metrics`: the counters and gauges `/metrics` shows.
//! - `addr`: one spelling per host (`::ffff:127.0.0.1` is `127.0.0.1`),
//!   for every comparison and log line.
//! - `proxy`: the same-origin rule and the client address behind a proxy.
//! - `startup`: binding, and the start-up lines for a classroom.
//! - `os`: the operating-system edge: the non-blocking send and the
//!   fd/thread/memory-map limits.
//! - `error`: why the server could not start ([`Error`]).
//!
//! # Rules
//! - `room` does no I/O: no socket, thread, channel, clock read, `redis`,
//!   `outbox`, `cluster`, `metrics` or global; the time is an argument.
//! - `cluster` never imports `room`, and `room` never imports `cluster`:
//!   they meet only in `broadcaster`, through `event`'s types.
//! - `metrics` takes labels, never domain types.
//! - `http` imports nothing from the crate.
//! - Nothing on the broadcaster thread waits for Redis or the disk.

//! # How a connection ends
//! One verb each, in code, logs and docs: a connection is **closed** by the
//! close handshake (RFC 6455 section 7: a close frame each way, then TCP
//! ends), or **aborted**: the TCP connection ends both ways without one
//! (the client vanished, a write failed or stalled, the session ended, or
//! the room dropped a slow client after a parting close frame 1008).
//!
//! # Threads
//! One `broadcaster`, one `acceptor`, one `page` (plus tiny_http's accept thread
//! and one `page-conn` per page connection, at most `--page-connections`), and one
//! per client (`client-N`, its reader). A client that falls behind also gets
//! a writer (`client-N-w`) until it catches up. So N clients keeping up cost
//! N + 3 threads (and tiny_http's). With `--redis`, three more:
//! `redis-sub`, `redis-pub` and `redis-lease` (see `cluster`).
//!
//! ```text
//! browser --HTTP--> page (tiny_http) -- web/index.html
//! browser ==WS====> acceptor --spawn--> client-N reader (1 per socket)
//!                                         | Input::Join/Message/Leave
//!                                         v
//!                                       broadcaster (owns the core)
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

mod addr;
mod broadcaster;
mod client;
#[cfg(feature = "redis")]
mod cluster;
mod config;
mod error;
// The core's and the event model's inputs from other instances are part
// of their API in every build; without the redis feature nothing feeds them.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod event;
mod frame;
mod health;
mod http;
mod id;
mod logging;
mod metrics;
mod nickname;
mod os;
mod outbox;
mod page;
mod permit;
mod protocol;
mod proxy;
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod room;
mod server;
mod startup;
pub mod store;
#[cfg(test)]
mod test_support;
mod throttle;
// Crate-wide, so `use crate::throttled;` names it wherever a log is limited.
pub(crate) use throttle::throttled;

pub use config::{Command, Config, Limits, Rooms};
pub use error::Error;
pub use id::ClientId;
pub use logging::init as init_logging;
pub use os::raise_fd_limit;
pub use server::Server;

/// The parsers a client's (or a peer instance's) bytes reach, re-exported
/// for the fuzz targets (`fuzz/`) and nothing else: not part of the API,
/// no stability promised. Exactly the entry points the targets call:
/// the request-head reader and the upgrade checks, the origin parser and
/// policy, `Forwarded`/`X-Forwarded-For`, the room path and session
/// parser, the command parser and nickname rules, the frame encoder, the
/// line rendering and its cleaning, and (feature `redis`) the Redis record
/// decoder.
#[doc(hidden)]
pub mod fuzz_api {
    pub use crate::addr::{canonical, canonical_addr};
    pub use crate::event::{Event, Time, What};
    pub use crate::frame::{encode as encode_frame, encode_close, encode_parts, CLOSE, TEXT};
    pub use crate::http::head::{parse as parse_head, Head, ReadFailure, MAX_HEAD_BYTES};
    pub use crate::http::origin::{Origin, OriginPolicy};
    pub use crate::http::upgrade::{check as check_upgrade, Refusal, Upgrade};
    pub use crate::nickname::{fold, is_allowed, is_server_name};
    pub use crate::protocol::{clean, encode as encode_event, log_safe, Format};
    pub use crate::proxy::{client_addr, client_of};
    pub use crate::room::path::SessionId;
    pub use crate::room::{parse_command, Command, Place, RoomName};

    /// The Redis record decoder (published events and history entries).
    #[cfg(feature = "redis")]
    pub use crate::cluster::wire::{
        decode as decode_record, decode_history, encode as encode_record,
    };
}
