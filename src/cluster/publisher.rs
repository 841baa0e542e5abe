//! The publisher thread (`redis-pub`) and the room thread's handle to it,
//! [`Link`]. The only writer of shared state on behalf of this instance's
//! rooms.
//!
//! The room never waits on Redis for a chat line: it puts the line on a
//! bounded channel and goes on. The publisher takes everything waiting,
//! sends it as one pipeline and reads the answers: one round trip for the
//! whole batch, so a busy room costs Redis round trips per batch, not per
//! line. A claim (a join or `/nick`) goes down the same channel, so it is
//! ordered with the lines before it, and the room waits for its answer:
//! one round trip, bounded by [`CLAIM_TIMEOUT`].
//!
//! When Redis is away the handle says so at once ([`Claim::Offline`],
//! [`Unsent`]) and the room serves its own clients; whatever was queued
//! when the connection broke comes back to the room as
//! [`Inbound::Unsent`](super::Inbound::Unsent), to be delivered locally.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use redis::Value;

use super::answers::{answer, give_back};
use super::conn::{Conn, Endpoint, Reconnecting};
use super::scripts::Script;
use super::wire::{self, name_key, Record, RoomKeys};
use super::{Deliver, Health, RoomState};

/// Operations waiting for the publisher at most; past that Redis is not
/// keeping up and the room delivers locally rather than wait.
const QUEUE: usize = 16 * 1024;
/// Most operations in one pipeline.
const MAX_PIPELINE: usize = 512;
/// How long the room waits for a claim's answer before serving locally.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(2);
/// The publisher looks at its stop flag this often while idle.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// The answer to a nickname claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The name is ours, taken at this room sequence number (its place in
    /// the arrival order).
    Granted(u64),
    /// The session's earlier name (free again: its instance died) was
    /// claimed instead of the one proposed, at this sequence number.
    Restored(u64, String),
    /// This instance already held it (after a resync).
    Held,
    /// Another instance's member holds it.
    Taken,
    /// Redis is away: decide locally.
    Offline,
}

impl Claim {
    /// Whether the claim published a join or a rename.
    pub(super) fn is_published(&self) -> bool {
        matches!(self, Claim::Granted(_) | Claim::Restored(..))
    }
}

/// A record the publisher could not take: deliver it locally.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsent(pub Record);

pub(super) enum Op {
    Join {
        room: String,
        nick: String,
        session: String,
        reply: Sender<Claim>,
    },
    Rename {
        room: String,
        old: String,
        new: String,
        session: String,
        reply: Sender<Claim>,
    },
    /// Claims again, in one go, the names our members hold (a resync).
    Reclaim {
        room: String,
        nicks: Vec<String>,
        reply: Sender<Vec<Claim>>,
    },
    /// A record for the room: a leave (`Left`, which frees the name), a
    /// line or a private line. Joins and renames are claims, above.
    Publish { room: String, record: Record },
    State {
        room: String,
        reply: Sender<Option<RoomState>>,
    },
}

/// The room thread's handle on the publisher. Cheap to clone.
#[derive(Clone)]
pub struct Link {
    ops: Sender<Op>,
    health: Arc<Health>,
}

impl Link {
    /// Whether Redis is reachable (as of the last attempt).
    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.health.instance
    }

    /// Claim `nick` in `room` for a newcomer and announce its join; or,
    /// after an outage, claim again a member's name (announced only if it
    /// had been freed meanwhile). Blocks for one round trip (at most
    /// [`CLAIM_TIMEOUT`]).
    ///
    /// With the `session` the client gave, Redis remembers its name, and a
    /// session whose earlier name is free again gets that name back
    /// ([`Claim::Restored`]): a resume after its instance died.
    pub fn join(&self, room: &str, nick: &str, session: Option<&str>) -> Claim {
        self.claim(|reply| Op::Join {
            room: room.to_owned(),
            nick: nick.to_owned(),
            session: session.map(wire::session_digest).unwrap_or_default(),
            reply,
        })
    }

    /// Claim again, after an outage or a lapsed lease, the names our
    /// members in `room` have: one round trip for all of them, however
    /// many (at most [`CLAIM_TIMEOUT`]). A name we still hold is left as it
    /// is; a freed one is claimed and its join announced again. One claim
    /// per name, in order.
    pub fn reclaim(&self, room: &str, nicks: Vec<String>) -> Vec<Claim> {
        let n = nicks.len();
        let offline = || vec![Claim::Offline; n];
        if !self.is_up() || n == 0 {
            return offline();
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        let op = Op::Reclaim {
            room: room.to_owned(),
            nicks,
            reply,
        };
        if self.ops.try_send(op).is_err() {
            return offline();
        }
        answer
            .recv_timeout(CLAIM_TIMEOUT)
            .unwrap_or_else(|_| offline())
    }

    /// Move a member of ours from `old` to `new` and announce it. Blocks
    /// like [`Link::join`].
    pub fn rename(&self, room: &str, old: &str, new: &str, session: Option<&str>) -> Claim {
        self.claim(|reply| Op::Rename {
            room: room.to_owned(),
            old: old.to_owned(),
            new: new.to_owned(),
            session: session.map(wire::session_digest).unwrap_or_default(),
            reply,
        })
    }

    /// Free a member's name and announce its leave. Does not block.
    ///
    /// # Errors
    /// [`Unsent`] (a `Left` record) when Redis is away or behind.
    pub fn leave(&self, room: &str, nick: &str) -> Result<(), Unsent> {
        let record = Record::Left {
            nick: nick.to_owned(),
        };
        self.publish(room, record)
    }

    /// Publish a line (history), a private line, or (through
    /// [`Link::leave`]) a leave. Does not block.
    ///
    /// # Errors
    /// [`Unsent`] with the record when Redis is away or behind.
    pub fn publish(&self, room: &str, record: Record) -> Result<(), Unsent> {
        self.queue(room, record)
    }

    /// The room's members (every instance's) and history, as of its
    /// sequence number: read when this instance opens the room. Blocks
    /// like [`Link::join`]; `None` if Redis is away.
    pub fn room_state(&self, room: &str) -> Option<RoomState> {
        if !self.is_up() {
            return None;
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        let op = Op::State {
            room: room.to_owned(),
            reply,
        };
        self.ops.try_send(op).ok()?;
        answer.recv_timeout(CLAIM_TIMEOUT).ok().flatten()
    }

    fn queue(&self, room: &str, record: Record) -> Result<(), Unsent> {
        if !self.is_up() {
            return Err(Unsent(record));
        }
        let op = Op::Publish {
            room: room.to_owned(),
            record,
        };
        match self.ops.try_send(op) {
            Ok(()) => Ok(()),
            Err(e) => {
                if let TrySendError::Full(_) = e {
                    log::warn!(
                        "redis: publisher {QUEUE} operations behind; room {room} delivers locally"
                    );
                }
                match e.into_inner() {
                    Op::Publish { record, .. } => Err(Unsent(record)),
                    _ => Ok(()), // (only a Publish was sent above)
                }
            }
        }
    }

    fn claim(&self, op: impl FnOnce(Sender<Claim>) -> Op) -> Claim {
        if !self.is_up() {
            return Claim::Offline;
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        if self.ops.try_send(op(reply)).is_err() {
            return Claim::Offline;
        }
        answer.recv_timeout(CLAIM_TIMEOUT).unwrap_or(Claim::Offline)
    }
}

impl Op {
    pub(super) fn room(&self) -> &str {
        match self {
            Op::Join { room, .. }
            | Op::Rename { room, .. }
            | Op::Reclaim { room, .. }
            | Op::Publish { room, .. }
            | Op::State { room, .. } => room,
        }
    }
}

/// A new publisher queue: the room's handle and the thread's end.
pub(super) fn channel(health: Arc<Health>) -> (Link, Receiver<Op>) {
    let (ops, queue) = crossbeam_channel::bounded(QUEUE);
    (Link { ops, health }, queue)
}

/// The publisher thread's body: send what the room queued, batch by batch,
/// until the queue is empty and either every [`Link`] is dropped or `stop`
/// is set. Blocks on the queue, then on Redis for one round trip per
/// batch. `conn` is the connection made at start-up, if any.
pub(super) fn run(
    endpoint: &Endpoint,
    stop: &AtomicBool,
    conn: Option<Conn>,
    queue: &Receiver<Op>,
    health: &Health,
    deliver: &Deliver,
    history: usize,
) {
    let mut redis = Reconnecting::new(endpoint, conn);
    loop {
        let first = match queue.recv_timeout(IDLE_POLL) {
            Ok(op) => op,
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Acquire) => break,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_PIPELINE - 1));
        let started = Instant::now();
        match redis.run(health.is_up(), |c| {
            send(c, &batch, &health.instance, history)
        }) {
            Ok(values) => {
                health.stats.round_trip(started.elapsed());
                answer(batch, values, health, deliver);
            }
            Err(e) => {
                health.lost("publisher", &e, deliver);
                give_back(batch, deliver);
            }
        }
    }
    log::debug!("redis-pub: stopping");
}

/// One pipeline for the whole batch; one answer per operation.
fn send(
    conn: &mut Conn,
    batch: &[Op],
    instance: &str,
    history: usize,
) -> redis::RedisResult<Vec<Value>> {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    let cap = history.to_string();
    let remember = wire::SESSION_MEMORY.as_millis().to_string();
    for op in batch {
        let room = op.room();
        let keys = RoomKeys::new(room);
        let channel = wire::room_channel(room);
        let holdings = wire::holdings_key(instance);
        match op {
            Op::Join { nick, session, .. } => {
                let lower = name_key(nick);
                conn.call(&mut pipe, Script::Join)
                    .arg(5)
                    .arg(&[&keys.names, &keys.here, &keys.seq, wire::ROOMS, &holdings])
                    .arg(&[room, &lower, nick, instance, &channel, session, &remember]);
            }
            Op::Reclaim { nicks, .. } => {
                for nick in nicks {
                    conn.call(&mut pipe, Script::Join)
                        .arg(5)
                        .arg(&[&keys.names, &keys.here, &keys.seq, wire::ROOMS, &holdings])
                        .arg(&[
                            room,
                            &name_key(nick),
                            nick,
                            instance,
                            &channel,
                            "",
                            &remember,
                        ]);
                }
            }
            Op::Rename {
                old, new, session, ..
            } => {
                conn.call(&mut pipe, Script::Rename)
                    .arg(4)
                    .arg(&[&keys.names, &keys.here, &keys.seq, &holdings])
                    .arg(&[
                        room,
                        &name_key(old),
                        &name_key(new),
                        old,
                        new,
                        instance,
                        &channel,
                        session,
                        &remember,
                    ]);
            }
            Op::Publish {
                record: Record::Left { nick },
                ..
            } => {
                conn.call(&mut pipe, Script::Leave)
                    .arg(4)
                    .arg(&[&keys.names, &keys.here, &keys.seq, &holdings])
                    .arg(&[room, &name_key(nick), nick, instance, &channel]);
            }
            Op::Publish { record, .. } => {
                let text = match record {
                    Record::Line { text } => text.as_str(),
                    _ => "",
                };
                conn.call(&mut pipe, Script::Publish)
                    .arg(3)
                    .arg(&[&keys.seq, &keys.history, wire::ROOMS])
                    .arg(&[room, instance, &record.encode(), &channel, &cap, text]);
            }
            Op::State { .. } => {
                conn.call(&mut pipe, Script::Snapshot)
                    .arg(1)
                    .arg(wire::ROOMS)
                    .arg(&[wire::PREFIX, room]);
            }
        }
    }
    pipe.query(&mut conn.con)
}
