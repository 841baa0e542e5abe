//! The publisher thread (`redis-pub`) and the broadcaster's handle to it,
//! [`Link`]. The only writer of shared state on behalf of this instance's
//! rooms.
//!
//! Nothing on the [`Link`] waits: the broadcaster puts an operation on a
//! bounded channel and goes on. The publisher takes everything waiting,
//! sends it as one pipeline and reads the answers: one round trip for the
//! whole batch, so a busy room costs Redis round trips per batch, not per
//! line. A claim (a join or `/nick`) goes down the same channel, so it is
//! ordered with the lines before it; its answer comes back later through
//! [`Deliver`] ([`Inbound::Claimed`]), exactly once.
//!
//! When Redis is away the handle says so at once ([`Claim::Offline`],
//! [`Unsent`], `false`) and the core serves its own clients; whatever was
//! queued and never sent comes back as [`Inbound::Unsent`], to be
//! delivered locally. A batch that was sent but not answered within
//! [`COMMAND_TIMEOUT`] may still run: Redis is reported down, and the
//! publisher waits on that connection for the late answer (up to
//! [`LATE_WAIT`]) rather than hand its lines back (they would be shown
//! twice). A successful round trip brings Redis back up.

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use redis::Value;

use super::answers::{answer, give_back, lost};
use super::conn::{Conn, Endpoint, Reconnecting, COMMAND_TIMEOUT};
use super::scripts::Script;
use super::wire::{self, RoomKeys};
use super::{Deliver, Health, Part};
use crate::event::{Claim, Event, Time, What};
use crate::nickname::fold;

/// Operations waiting for the publisher at most; past that Redis is not
/// keeping up and the core delivers locally rather than wait.
const QUEUE: usize = 16 * 1024;
/// Most operations in one pipeline.
const MAX_PIPELINE: usize = 512;
/// How long the publisher waits, after [`COMMAND_TIMEOUT`], for the late
/// answer to a batch Redis may still run (a stalled or paused Redis).
/// Past it the connection is dropped: its claims are answered
/// [`Claim::Offline`], its lines taken as published.
pub const LATE_WAIT: Duration = Duration::from_secs(5);
/// The publisher looks at its stop flag this often while idle (and, while
/// Redis is down, tries a round trip of its own this often at most).
const IDLE_POLL: Duration = Duration::from_millis(200);

/// An event the publisher could not take: deliver it locally.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsent(pub Event);

pub(super) enum Op {
    Join {
        room: String,
        ticket: u64,
        nick: String,
        session: String,
        time: Time,
    },
    Rename {
        room: String,
        ticket: u64,
        old: String,
        new: String,
        session: String,
        time: Time,
    },
    /// Claims again, in one go, the names our members hold (a resync).
    Reclaim {
        room: String,
        ticket: u64,
        nicks: Vec<String>,
        time: Time,
    },
    /// An event for the room: a leave (which frees the name), a chat or
    /// `/me` line, a private line, a notice. Joins and renames are claims,
    /// above. `body` is the event as it travels (`wire::encode`).
    Publish {
        room: String,
        event: Event,
        body: String,
    },
    /// Read the room's state.
    Open { room: String },
}

/// The broadcaster's handle on the publisher. Cheap to clone. No method
/// blocks: each queues an operation, or says at once that it cannot.
#[derive(Clone)]
pub struct Link {
    ops: Sender<Op>,
    health: Arc<Health>,
}

impl Link {
    /// Whether Redis is reachable (as of each thread's last round trip).
    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    /// Queue `event` of `room` for every instance: a chat or `/me` line
    /// (kept in the room's history), a private line, a room-wide notice,
    /// or a leave (which frees the name in Redis). It comes back, with
    /// its sequence number, as an [`Inbound::Event`](super::Inbound::Event)
    /// on every instance, this one included; or, if the connection breaks
    /// before it is sent, as [`Inbound::Unsent`](super::Inbound::Unsent).
    /// Called on the broadcaster thread; returns at once.
    ///
    /// # Errors
    /// [`Unsent`] with the event when Redis is away, the queue is full, or
    /// the event never travels (a welcome or presence line): deliver it
    /// locally now.
    pub fn publish(&self, room: &str, event: &Event) -> Result<(), Unsent> {
        let unsent = || Err(Unsent(event.clone()));
        if !self.is_up() {
            return unsent();
        }
        let Some(body) = wire::encode(event) else {
            log::debug!("redis: room {room}: an event that does not travel, delivered here");
            return unsent();
        };
        let op = Op::Publish {
            room: room.to_owned(),
            event: event.clone(),
            body,
        };
        match self.ops.try_send(op) {
            Ok(()) => Ok(()),
            Err(e) => {
                if let TrySendError::Full(_) = e {
                    log::warn!(
                        "redis: publisher {QUEUE} operations behind; room {room} delivers locally"
                    );
                }
                unsent()
            }
        }
    }

    /// Claim `nick` in `room` for a newcomer and publish its join; or,
    /// after an outage, claim again a member's name (published only if it
    /// had been freed meanwhile: else [`Claim::Held`]). `time` is the
    /// join's time. Called on the broadcaster thread; returns at once.
    ///
    /// With the `session` the client gave, Redis remembers its name, and a
    /// session whose earlier name is free again gets that name back
    /// ([`Claim::Restored`]): a resume after its instance died.
    ///
    /// Returns `Some(Claim::Offline)` if Redis is away or the queue is
    /// full: no answer follows, decide locally. `None`: queued; exactly one
    /// [`Inbound::Claimed`](super::Inbound::Claimed) with this `ticket`
    /// follows ([`Claim::Offline`] if the connection broke before the
    /// answer, or it did not come within [`COMMAND_TIMEOUT`] plus
    /// [`LATE_WAIT`]).
    pub fn join(
        &self,
        room: &str,
        ticket: u64,
        nick: &str,
        session: Option<&str>,
        time: Time,
    ) -> Option<Claim> {
        self.queue(Op::Join {
            room: room.to_owned(),
            ticket,
            nick: nick.to_owned(),
            session: session.map(wire::session_digest).unwrap_or_default(),
            time,
        })
        .then_some(Claim::Offline)
    }

    /// Move a member of ours from `old` to `new` and publish the rename
    /// (at `time`). Same contract as [`Link::join`]: `Some(Offline)` now,
    /// or `None` and one [`Inbound::Claimed`](super::Inbound::Claimed)
    /// later ([`Claim::Granted`] or [`Claim::Taken`], else `Offline`).
    pub fn rename(
        &self,
        room: &str,
        ticket: u64,
        old: &str,
        new: &str,
        session: Option<&str>,
        time: Time,
    ) -> Option<Claim> {
        self.queue(Op::Rename {
            room: room.to_owned(),
            ticket,
            old: old.to_owned(),
            new: new.to_owned(),
            session: session.map(wire::session_digest).unwrap_or_default(),
            time,
        })
        .then_some(Claim::Offline)
    }

    /// Claim again, after an outage or a lapsed lease, the names our
    /// members in `room` have, in one round trip however many. A name we
    /// still hold is left as it is ([`Claim::Held`]); a freed one is
    /// claimed and its join published again. Called on the broadcaster
    /// thread; returns at once.
    ///
    /// Returns `Some` (one [`Claim::Offline`] per name; empty for no
    /// names) if Redis is away, the queue is full or there is nothing to
    /// claim: no answer follows. `None`: queued; exactly one
    /// [`Inbound::Reclaimed`](super::Inbound::Reclaimed) with this
    /// `ticket` follows, one claim per name, in order.
    pub fn reclaim(
        &self,
        room: &str,
        ticket: u64,
        nicks: Vec<String>,
        time: Time,
    ) -> Option<Vec<Claim>> {
        let n = nicks.len();
        if n == 0 {
            return Some(Vec::new());
        }
        self.queue(Op::Reclaim {
            room: room.to_owned(),
            ticket,
            nicks,
            time,
        })
        .then(|| vec![Claim::Offline; n])
    }

    /// Ask for `room`'s members (every instance's) and history, as of its
    /// sequence number: when this instance opens the room. Called on the
    /// broadcaster thread; returns at once.
    ///
    /// Returns true if asked: exactly one
    /// [`Inbound::Opened`](super::Inbound::Opened) follows (an empty state,
    /// `seq` 0, if Redis has nothing or the read failed). False if Redis is
    /// away or the queue is full: nothing follows.
    pub fn open(&self, room: &str) -> bool {
        !self.queue(Op::Open {
            room: room.to_owned(),
        })
    }

    /// Queue `op` unless Redis is away or the queue is full. Returns
    /// whether it was refused.
    fn queue(&self, op: Op) -> bool {
        if !self.is_up() {
            return true;
        }
        match self.ops.try_send(op) {
            Ok(()) => false,
            Err(TrySendError::Full(op)) => {
                log::warn!(
                    "redis: publisher {QUEUE} operations behind; room {} decides locally",
                    op.room()
                );
                true
            }
            Err(TrySendError::Disconnected(_)) => true,
        }
    }
}

impl Op {
    pub(super) fn room(&self) -> &str {
        match self {
            Op::Join { room, .. }
            | Op::Rename { room, .. }
            | Op::Reclaim { room, .. }
            | Op::Publish { room, .. }
            | Op::Open { room } => room,
        }
    }
}

/// A new publisher queue: the broadcaster's handle and the thread's end.
pub(super) fn channel(health: Arc<Health>) -> (Link, Receiver<Op>) {
    let (ops, queue) = crossbeam_channel::bounded(QUEUE);
    (Link { ops, health }, queue)
}

/// The publisher thread's body: send what the broadcaster queued, batch by
/// batch, until the queue is empty and either every [`Link`] is dropped or
/// `stop` is set. Blocks on the queue, then on Redis for one round trip per
/// batch (at most [`COMMAND_TIMEOUT`] plus [`LATE_WAIT`]). While Redis is
/// down for this thread and nothing is queued, it tries a round trip of
/// its own every [`IDLE_POLL`] (within its backoff), so Redis comes back
/// up without waiting for the core to queue something (it queues nothing
/// while Redis is down). `conn` is the connection made at start-up.
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
    let publisher = Part::Publisher as u8;
    let failing = || health.failing.load(Ordering::Acquire);
    loop {
        let first = match queue.recv_timeout(IDLE_POLL) {
            Ok(op) => op,
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Acquire) => break,
            Err(RecvTimeoutError::Timeout) => {
                let failing = failing();
                if failing & publisher != 0 {
                    // Only we are failing: the others reach Redis, so try
                    // now rather than wait out the backoff.
                    match redis.run(failing == publisher, probe) {
                        Ok(()) => health.ok(Part::Publisher),
                        Err(e) => health.lost(Part::Publisher, &e, deliver),
                    }
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_PIPELINE - 1));
        let started = Instant::now();
        let mut sent = false;
        let stalled = Cell::new(false);
        let late = || {
            stalled.set(true);
            let slow = format!("no answer within {} ms", COMMAND_TIMEOUT.as_millis());
            health.lost(Part::Publisher, &slow, deliver);
        };
        let result = redis.run(health.is_up(), |c| {
            if stalled.get() {
                // The connection broke while we waited for a late answer:
                // Redis may have run the batch, so it is never sent again.
                let gone = io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "connection lost while waiting for a late answer",
                );
                return Err(gone.into());
            }
            exchange(c, &batch, &health.instance, history, &mut sent, &late)
        });
        match result {
            Ok(values) => {
                health.stats.round_trip(started.elapsed());
                health.ok(Part::Publisher);
                answer(batch, values, health, deliver);
            }
            Err(e) => {
                health.lost(Part::Publisher, &e, deliver);
                if sent {
                    // Redis may still run it: never handed back.
                    lost(batch, deliver);
                } else {
                    give_back(batch, deliver);
                }
            }
        }
    }
    log::debug!("redis-pub: stopping");
}

/// One `PING` round trip, to learn whether Redis answers again.
fn probe(conn: &mut Conn) -> redis::RedisResult<()> {
    redis::cmd("PING").query::<Value>(&mut conn.con).map(drop)
}

/// Send the batch as one pipeline behind a `PING`, and read one answer per
/// operation. The `PING`'s answer is read within [`COMMAND_TIMEOUT`]; if it
/// does not come, `late` is called (Redis is reported down) and the rest
/// is waited for up to [`LATE_WAIT`], on this connection (the client skips
/// the late `PONG` itself). Sets `sent` once the batch may have reached
/// Redis (written, or a write that timed out part way).
///
/// # Errors
/// The write or a read failed, or timed out past [`LATE_WAIT`].
fn exchange(
    conn: &mut Conn,
    batch: &[Op],
    instance: &str,
    history: usize,
    sent: &mut bool,
    late: &dyn Fn(),
) -> redis::RedisResult<Vec<Value>> {
    *sent = false;
    let pipe = pipeline(conn, batch, instance, history);
    let mut packed = redis::cmd("PING").get_packed_command();
    packed.extend(pipe.get_packed_pipeline());
    if let Err(e) = conn.con.send_packed_command(&packed) {
        *sent = e.is_timeout();
        return Err(e);
    }
    *sent = true;
    let answers = read_answers(conn, pipe.len(), late);
    let restored = conn.con.set_read_timeout(Some(COMMAND_TIMEOUT));
    let answers = answers?;
    restored?;
    Ok(answers)
}

/// The `PONG`, then `n` answers (see [`exchange`]).
fn read_answers(conn: &mut Conn, n: usize, late: &dyn Fn()) -> redis::RedisResult<Vec<Value>> {
    match conn.con.recv_response() {
        Ok(_) => {}
        Err(e) if e.is_timeout() => late(),
        Err(e) => return Err(e),
    }
    conn.con.set_read_timeout(Some(LATE_WAIT))?;
    (0..n).map(|_| conn.con.recv_response()).collect()
}

/// One pipeline for the whole batch; one answer per operation (a reclaim:
/// one per name).
fn pipeline(conn: &Conn, batch: &[Op], instance: &str, history: usize) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    let cap = history.to_string();
    let remember = wire::SESSION_MEMORY.as_millis().to_string();
    let holdings = wire::holdings_key(instance);
    for op in batch {
        let room = op.room();
        let keys = RoomKeys::new(room);
        let channel = wire::room_channel(room);
        let join_keys = [
            keys.names.as_str(),
            &keys.here,
            &keys.seq,
            wire::ROOMS,
            &holdings,
        ];
        match op {
            Op::Join {
                nick,
                session,
                time,
                ..
            } => {
                let ms = time.0.to_string();
                let lower = fold(nick);
                conn.call(&mut pipe, Script::Join)
                    .arg(5)
                    .arg(&join_keys)
                    .arg(&[
                        room, &lower, nick, instance, &channel, session, &remember, &ms,
                    ]);
            }
            Op::Reclaim { nicks, time, .. } => {
                let ms = time.0.to_string();
                for nick in nicks {
                    conn.call(&mut pipe, Script::Join)
                        .arg(5)
                        .arg(&join_keys)
                        .arg(&[
                            room,
                            &fold(nick),
                            nick,
                            instance,
                            &channel,
                            "",
                            &remember,
                            &ms,
                        ]);
                }
            }
            Op::Rename {
                old,
                new,
                session,
                time,
                ..
            } => {
                conn.call(&mut pipe, Script::Rename)
                    .arg(4)
                    .arg(&[&keys.names, &keys.here, &keys.seq, &holdings])
                    .arg(&[
                        room,
                        &fold(old),
                        &fold(new),
                        old,
                        new,
                        instance,
                        &channel,
                        session,
                        &remember,
                        &time.0.to_string(),
                    ]);
            }
            Op::Publish {
                event:
                    Event {
                        what: What::Leave { nick },
                        time,
                        ..
                    },
                ..
            } => {
                conn.call(&mut pipe, Script::Leave)
                    .arg(4)
                    .arg(&[&keys.names, &keys.here, &keys.seq, &holdings])
                    .arg(&[
                        room,
                        &fold(nick),
                        nick,
                        instance,
                        &channel,
                        &time.0.to_string(),
                    ]);
            }
            Op::Publish { event, body, .. } => {
                let keep = if event.is_kept() { "1" } else { "0" };
                conn.call(&mut pipe, Script::Publish)
                    .arg(3)
                    .arg(&[&keys.seq, &keys.history, wire::ROOMS])
                    .arg(&[room, instance, body, &channel, &cap, keep]);
            }
            Op::Open { .. } => {
                conn.call(&mut pipe, Script::Snapshot)
                    .arg(1)
                    .arg(wire::ROOMS)
                    .arg(&[wire::PREFIX, room]);
            }
        }
    }
    pipe
}
