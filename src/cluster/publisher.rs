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
//! delivered locally.
//!
//! # A stalled Redis
//! Every pipeline starts with a script that does nothing (`PING` would
//! not do: a `CLIENT PAUSE WRITE` answers it), and when idle the
//! publisher sends that script alone every [`HEARTBEAT`]. If its answer
//! does not come within [`STALL_AFTER`], Redis is reported down at once,
//! and everything that would wait for it is served here instead: the
//! batch's events are handed back ([`Inbound::Unsent`]) and so is every
//! operation queued behind it. So no room's line waits on a stall longer
//! than [`STALL_AFTER`], whichever room's batch stalled. The claims of
//! the stalled batch wait for their late answer (up to [`LATE_WAIT`]);
//! Redis may still run the batch then: each event is tagged with its
//! publish number (`wire::tag`), and the subscriber drops the late echo
//! of one handed back, so nobody here sees a line twice and the other
//! instances see it once.
//!
//! The trade-off: the lines of the stalled window reach this instance's
//! members before they reach Redis, so during a stall a room's order may
//! differ between instances for those lines (each instance still shows
//! each line once). Outside a stall every instance has the same order.
//!
//! # A refusing Redis
//! An answer that refuses (`OOM`, `NOPERM`, `READONLY`, ...) reports
//! Redis down with the refusal as the cause, like an outage: the refused
//! lines are delivered here, refused claims are decided here. While down,
//! the publisher probes (the do-nothing script and a short-lived write of
//! its own key) every [`IDLE_POLL`] within its backoff, and Redis is back
//! once a probe succeeds.

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
use super::{Deliver, Health, Inbound, Part};
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
/// How long the first answer of a pipeline may take before Redis is taken
/// for stalled (far above a round trip, well under what a member notices).
pub const STALL_AFTER: Duration = Duration::from_millis(300);
/// While idle and up, the publisher sends its do-nothing script this often,
/// so a stall is noticed without a line to send.
const HEARTBEAT: Duration = Duration::from_millis(500);

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
        /// Its publish number (`wire::tag`).
        number: u64,
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
            number: self.health.next_number(),
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
    /// claimed and its join published again; a name we hold there that
    /// none of `nicks` is (its member left, or took another name, while
    /// Redis was away) is freed, its leave published for the others.
    /// Called on the broadcaster thread; returns at once.
    ///
    /// Returns `Some` (one [`Claim::Offline`] per name) if Redis is away
    /// or the queue is full: no answer follows. `None`: queued; exactly one
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
/// batch (at most [`STALL_AFTER`] plus [`LATE_WAIT`]). While up and idle,
/// it sends its heartbeat every [`HEARTBEAT`]. While Redis is down for
/// this thread and nothing is queued, it probes every [`IDLE_POLL`]
/// (within its backoff), so Redis comes back up without waiting for the
/// core to queue something (it queues nothing while Redis is down).
/// `conn` is the connection made at start-up.
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
    let mut last = Instant::now();
    loop {
        let batch = match queue.recv_timeout(IDLE_POLL) {
            Ok(first) => {
                let mut batch = vec![first];
                batch.extend(queue.try_iter().take(MAX_PIPELINE - 1));
                batch
            }
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Acquire) => break,
            Err(RecvTimeoutError::Timeout) => {
                let failing = failing();
                if failing & publisher != 0 {
                    // Only we are failing: the others reach Redis, so try
                    // now rather than wait out the backoff.
                    match redis.run(failing == publisher, |c| probe(c, &health.instance)) {
                        Ok(()) => {
                            health.ok(Part::Publisher);
                        }
                        Err(e) => health.lost(Part::Publisher, &e, deliver),
                    }
                    continue;
                }
                if failing != 0 || last.elapsed() < HEARTBEAT {
                    continue;
                }
                Vec::new() // the heartbeat: the do-nothing script alone
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        send(&mut redis, batch, queue, health, deliver, history);
        last = Instant::now();
    }
    log::debug!("redis-pub: stopping");
}

/// Send one batch and hand each operation its outcome (see the module's
/// doc for a stall and a refusal).
fn send(
    redis: &mut Reconnecting<'_>,
    batch: Vec<Op>,
    queue: &Receiver<Op>,
    health: &Health,
    deliver: &Deliver,
    history: usize,
) {
    health.sending(batch.iter().filter_map(|op| match op {
        Op::Publish {
            room,
            event,
            number,
            ..
        } => Some((*number, room, event)),
        _ => None,
    }));
    let started = Instant::now();
    let mut sent = false;
    let stalled = Cell::new(false);
    let late = || {
        stalled.set(true);
        let slow = format!("no answer within {} ms", STALL_AFTER.as_millis());
        health.lost(Part::Publisher, &slow, deliver);
        // Serve here what would wait: this batch's events (Redis may still
        // run them: their late echo is dropped) and everything queued.
        hand_back(&batch, health, deliver);
        give_back(queue.try_iter().collect(), health, deliver);
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
            if !batch.is_empty() {
                health.stats.round_trip(started.elapsed());
            }
            match refusal(&values) {
                Some(cause) => health.lost(Part::Publisher, &cause, deliver),
                None => {
                    health.ok(Part::Publisher);
                }
            }
            // (The first answer is the do-nothing script's.)
            answer(batch, values.into_iter().skip(1).collect(), health, deliver);
        }
        Err(e) => {
            health.lost(Part::Publisher, &e, deliver);
            if sent {
                // Redis may still run it: events handed back are dropped
                // if they come back.
                lost(batch, health, deliver);
            } else {
                give_back(batch, health, deliver);
            }
        }
    }
}

/// The first refusal among `values`, in words (`OOM`, `NOPERM`,
/// `READONLY`, ...): none of our scripts answers an error otherwise.
fn refusal(values: &[Value]) -> Option<String> {
    values.iter().find_map(|v| match v {
        Value::ServerError(e) => Some(format!("refused: {}", super::conn::refusal(e))),
        _ => None,
    })
}

/// The events of a batch whose answer is late: handed back for local
/// delivery, each unless its echo came already.
fn hand_back(batch: &[Op], health: &Health, deliver: &Deliver) {
    for op in batch {
        if let Op::Publish {
            room,
            event,
            number,
            ..
        } = op
        {
            if health.hand_back(*number) {
                deliver(Inbound::Unsent {
                    room: room.clone(),
                    event: event.clone(),
                });
            }
        }
    }
}

/// One round trip that runs a script and writes (a short-lived key of our
/// own), to learn whether Redis answers and takes writes again.
fn probe(conn: &mut Conn, instance: &str) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    conn.call(&mut pipe, Script::Ping).arg(0);
    pipe.cmd("SET")
        .arg(wire::probe_key(instance))
        .arg(1)
        .arg("PX")
        .arg(1000);
    let values: Vec<Value> = pipe.query(&mut conn.con)?;
    match refusal(&values) {
        Some(cause) => Err(io::Error::other(cause).into()),
        None => Ok(()),
    }
}

/// Send the batch as one pipeline behind the do-nothing script, and read
/// its answer then one per operation (the script's first). The script's
/// answer is read within [`STALL_AFTER`]; if it does not come, `late` is
/// called (Redis is reported down, the batch's events handed back) and
/// the rest is waited for up to [`LATE_WAIT`], on this connection (the
/// client skips the late answer itself, and it stands as `Nil`). Sets
/// `sent` once the batch may have reached Redis (written, or a write that
/// timed out part way).
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
    let mut lead = redis::pipe();
    conn.call(&mut lead, Script::Ping).arg(0);
    let mut packed = lead.get_packed_pipeline();
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

/// The do-nothing script's answer, then `n` answers (see [`exchange`]).
fn read_answers(conn: &mut Conn, n: usize, late: &dyn Fn()) -> redis::RedisResult<Vec<Value>> {
    conn.con.set_read_timeout(Some(STALL_AFTER))?;
    let mut answers = Vec::with_capacity(n + 1);
    match conn.con.recv_response() {
        Ok(value) => answers.push(value),
        Err(e) if e.is_timeout() => {
            late();
            answers.push(Value::Nil);
        }
        Err(e) => return Err(e),
    }
    conn.con.set_read_timeout(Some(LATE_WAIT))?;
    for _ in 0..n {
        answers.push(conn.con.recv_response()?);
    }
    Ok(answers)
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
                let lowers: Vec<String> = nicks.iter().map(|n| fold(n)).collect();
                conn.call(&mut pipe, Script::Release)
                    .arg(4)
                    .arg(&[&keys.names, &keys.here, &keys.seq, &holdings])
                    .arg(&[room, instance, &channel, &ms])
                    .arg(&lowers);
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
                number,
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
                        &wire::tag(*number),
                    ]);
            }
            Op::Publish {
                event,
                body,
                number,
                ..
            } => {
                let keep = if event.is_kept() { "1" } else { "0" };
                let tagged = format!("{instance}{}", wire::tag(*number));
                let removed = match &event.what {
                    What::Removed { nick, .. } => fold(nick),
                    _ => String::new(),
                };
                conn.call(&mut pipe, Script::Publish)
                    .arg(3)
                    .arg(&[&keys.seq, &keys.history, wire::ROOMS])
                    .arg(&[
                        room,
                        &tagged,
                        body,
                        &channel,
                        &cap,
                        keep,
                        &removed,
                        wire::PREFIX,
                    ]);
            }
            Op::Open { .. } => {
                conn.call(&mut pipe, Script::Snapshot)
                    .arg(1)
                    .arg(wire::ROOMS)
                    .arg(&[wire::PREFIX, "", "", room]);
            }
        }
    }
    pipe
}
