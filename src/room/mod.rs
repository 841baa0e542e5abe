//! The rooms: one broadcaster thread, `room`, sole owner of every room's
//! table (members, nicknames, history, away members waiting for a resume).
//!
//! Client threads send it [`Event`]s over one crossbeam channel; it answers by
//! putting lines in the clients' outboxes. Nothing else touches the tables,
//! so there is no `Mutex`, and because one thread handles every event in
//! turn, every client of a room sees the same lines in the same order.
//!
//! The seed's three handlers are in `chat.rs`: `handle-new-connection` is
//! `Room::join`, `broadcast-to-room` is `Room::message` and
//! `handle-close-connection` is `Room::leave`. The files, by job:
//! - this file: the events, and the thread's loop ([`run`]);
//! - `rooms.rs`: every room by name, admission (`--max-rooms`, 503) and
//!   eviction of empty rooms;
//! - `chat.rs`: one room and the seam where a broadcast becomes a line
//!   (`Room::publish` / `Room::apply`, where Redis would come in);
//! - `batch.rs`: the hot path, a batch encoded once and sent to everyone;
//! - `members.rs`: one room's member table, nicknames and presence line;
//! - `commands.rs`: `/nick /who /me /msg /help`;
//! - `history.rs`: a room's last lines for newcomers;
//! - `resume.rs`: away members and `?session=` resumes;
//! - `path.rs`: the request target's room and session (on client threads).

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tungstenite::Utf8Bytes;

use crate::cluster::{Inbound, Link};
use crate::config::Limits;
pub use crate::id::ClientId;
use crate::outbox::Outbox;

mod batch;
mod chat;
mod cluster;
mod commands;
mod history;
mod members;
pub mod path;
mod resume;
mod rooms;

pub use path::Place;
use rooms::Rooms;
#[cfg(test)]
pub(crate) use {
    chat::Room,
    path::{RoomName, SessionId},
};

/// What client threads tell the room. Sent by client threads (and by the
/// server handle for `Shutdown`); received only by the room thread.
#[derive(Debug)]
pub enum Event {
    /// A client asks, before its `101`, to be let into a room. The room
    /// thread answers on `reply` (a channel of one).
    Admit {
        id: ClientId,
        place: Place,
        reply: Sender<Admission>,
    },
    /// An admitted client finished its handshake (the seed's `:open`).
    Join {
        id: ClientId,
        peer: SocketAddr,
        /// Where the room puts this client's lines; the writer drains it.
        outbox: Outbox,
    },
    /// A text message from a client (the seed's `:message`).
    Message { id: ClientId, text: Utf8Bytes },
    /// A client is gone (the seed's `:close` and `:error`). Sent exactly once
    /// per admitted client, by a drop guard in its reader thread.
    Leave { id: ClientId, reason: LeaveReason },
    /// The server is stopping: close every client with 1001.
    Shutdown,
    /// `/healthz` asks whether the room thread answers: it sends `()` back.
    Ping(Sender<()>),
    /// With `--redis`: from the cluster threads (an event of a room, or
    /// Redis going or coming back). See `cluster.rs`.
    Cluster(Inbound),
}

/// Why a client left, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The client sent a close frame with this code (None: no code).
    Closed(Option<u16>),
    /// The TCP connection ended without a close handshake: the client
    /// aborted it, or we did after a failed or stalled write.
    Aborted,
    /// We closed the connection with this code: a protocol error, or a
    /// limit or rule broken; logged by its cause (`close::cause`).
    ProtocolError(u16),
    /// Nothing arrived within the allowed silence.
    TimedOut,
    /// Reading the socket failed.
    ReadFailed(String),
    /// The server is shutting down.
    Shutdown,
    /// The client's thread panicked.
    Panicked,
}

impl fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaveReason::Closed(Some(code)) => write!(f, "closed with {code}"),
            LeaveReason::Closed(None) => write!(f, "closed"),
            LeaveReason::Aborted => write!(f, "connection aborted"),
            LeaveReason::ProtocolError(code) => {
                write!(
                    f,
                    "{}, closed with {code}",
                    crate::protocol::close::cause(*code)
                )
            }
            LeaveReason::TimedOut => write!(f, "silent too long"),
            LeaveReason::ReadFailed(err) => write!(f, "read failed: {err}"),
            LeaveReason::Shutdown => write!(f, "server shutting down"),
            LeaveReason::Panicked => write!(f, "client thread panicked"),
        }
    }
}

/// The room thread's answer to [`Event::Admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Come in: write the `101`, then send `Join`.
    Welcome,
    /// The room does not exist and every room slot is in use by a room
    /// with someone in it (`--max-rooms`): answer 503.
    NoRoom,
    /// The server is shutting down: answer 503.
    Closing,
}

/// Ask the room thread to let connection `id` into `place`, and wait for
/// its answer until `deadline`. Called by a reader before its `101`.
///
/// # Errors
/// Why the connection must be answered 503: no room slot
/// (`--max-rooms`), the server is stopping, or no answer in time.
pub fn admit(
    events: &Sender<Event>,
    id: ClientId,
    place: Place,
    deadline: Instant,
) -> Result<(), &'static str> {
    let (reply, answer) = crossbeam_channel::bounded(1);
    if events.send(Event::Admit { id, place, reply }).is_err() {
        return Err("the server is shutting down");
    }
    match answer.recv_deadline(deadline) {
        Ok(Admission::Welcome) => Ok(()),
        Ok(Admission::NoRoom) => Err("every room slot is in use, try again later"),
        Ok(Admission::Closing) => Err("the server is shutting down"),
        Err(_) => Err("the server is busy, try again later"),
    }
}

/// What the rooms need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Chat lines each room keeps for newcomers (`--history`; 0: none).
    pub history_lines: usize,
    /// Most rooms at once (`--max-rooms`).
    pub max_rooms: usize,
    /// How long a dropped member with a session is kept (`--resume-grace`).
    pub resume_grace: Duration,
    /// Most lines kept for an away member (`--outbox-lines`).
    pub outbox_lines: usize,
}

impl Settings {
    pub fn from_limits(limits: &Limits) -> Settings {
        Settings {
            history_lines: limits.history_lines,
            max_rooms: limits.max_rooms.max(1),
            resume_grace: limits.resume_grace,
            outbox_lines: limits.outbox_lines.max(1),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from_limits(&Limits::default())
    }
}

/// The room thread's body: handle events until every sender is gone,
/// waking also when an away member's grace ends. Blocks on the channel.
/// Returns once the acceptor, the server handle, every client thread (and
/// with `--redis`, the cluster threads) have dropped their senders. With a
/// `link`, rooms are shared with other instances through Redis.
pub fn run(events: Receiver<Event>, settings: Settings, link: Option<Link>) {
    let mut rooms = Rooms::new(settings);
    rooms.share(link);
    loop {
        let first = match rooms.next_expiry() {
            Some(at) => match events.recv_deadline(at) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match events.recv() {
                Ok(event) => Some(event),
                Err(_) => break,
            },
        };
        if let Some(event) = first {
            rooms.handle(event);
            // Whatever else is already waiting joins the same batch.
            for event in events.try_iter().take(batch::MAX_BATCH_EVENTS) {
                rooms.handle(event);
            }
        }
        rooms.expire(Instant::now());
        rooms.flush();
        let (held, clients) = rooms.sizes();
        crate::metrics::room_sizes(held, clients);
    }
    log::debug!("room: all senders gone, stopping");
}

#[cfg(test)]
mod tests;
