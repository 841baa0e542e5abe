//! Several instances sharing their rooms over Redis, started only with
//! `--redis` (and built only with the `redis` feature): without it no
//! thread here runs and no connection is made. Owns the Redis
//! connections; never the rooms (the room core never calls in here: the
//! broadcaster does, and nothing here waits).
//!
//! # Threads (one each per instance)
//! - `redis-sub` ([`subscriber`]): the subscription to every room's
//!   channel; turns each message into an [`Inbound::Event`] for the
//!   broadcaster.
//! - `redis-pub` ([`publisher`]): takes what the broadcaster queues on its
//!   [`Link`] and sends it to Redis, one pipeline (one round trip) a batch;
//!   claims and room reads are answered through [`Deliver`] too
//!   ([`Inbound::Claimed`], [`Inbound::Reclaimed`], [`Inbound::Opened`]).
//! - `redis-lease` ([`lease`]): renews this instance's lease and reaps
//!   instances whose lease ran out.
//!
//! ```text
//!  broadcaster --Link (queue, never waits)--> redis-pub --EVALSHA--> Redis
//!      ^   ^                                      |                  |
//!      |   +---- Claimed/Reclaimed/Opened --------+                  |
//!      +-------- Inbound::Event <------ redis-sub <-- pattern sub ---+
//! ```
//!
//! A room's events reach its members only after the round trip through
//! Redis, on every instance alike: one order per room everywhere (except
//! for the lines of a stalled window, delivered here at once: see
//! [`publisher`]).
//!
//! However Redis fails (it stalls, goes away, restarts, refuses, cuts the
//! subscription), the first thread to notice tells the core once
//! ([`Inbound::Down`], with the cause, for `/healthz` and one warning);
//! each thread retries on its own; once every one reaches Redis again the
//! core hears [`Inbound::Up`] with fresh states. Each event of ours
//! reaches the core exactly once, as its echo or handed back
//! ([`Inbound::Unsent`]), whatever broke (see `Health`'s echoes). Events
//! travel typed (`wire.rs`), so each instance renders them for its own
//! clients. Nicknames are claimed in Redis by atomic scripts ([`scripts`]),
//! under their fold (`nickname::fold`); each room's members and history
//! live there too, so an instance that starts or comes back reads them
//! ([`Inbound::Up`]).

mod answers;
mod conn;
mod lease;
mod publisher;
mod scripts;
mod subscriber;
pub mod wire;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use conn::Endpoint;
pub use publisher::Link;

use crate::event::{Claim, Envelope, Event, Holder, RoomState};
use crate::Error;

/// What the cluster threads hand the broadcaster (through [`Deliver`]),
/// which passes it to the room core as an input.
#[derive(Debug)]
pub enum Inbound {
    /// A room event some instance (this one included) published, in the
    /// room's order; `event.id == seq`.
    Event(Envelope),
    /// An event queued on [`Link::publish`] that did not come back: it
    /// never reached Redis (the connection broke before it was sent, or
    /// Redis refused it), Redis stalled before answering it (it may still
    /// run it: its late echo is then dropped here, see [`Health::echo`],
    /// and the other instances get it once), or the subscription broke
    /// before its echo came. Deliver it
    /// to the members here, as if it had come back.
    Unsent { room: String, event: Event },
    /// The answer to [`Link::join`] or [`Link::rename`] that returned
    /// `None`: exactly one per such call, with its ticket.
    Claimed {
        room: String,
        ticket: u64,
        claim: Claim,
    },
    /// The answer to [`Link::reclaim`] that returned `None`: one claim per
    /// name, in order.
    Reclaimed {
        room: String,
        ticket: u64,
        claims: Vec<Claim>,
    },
    /// The answer to [`Link::open`] that returned true: the room's state
    /// (empty, `seq` 0, if Redis has nothing or the read failed).
    Opened(RoomState),
    /// Redis is unreachable (or too slow to answer): once per outage, with
    /// the cause in words, for `/healthz` and the log.
    Down { cause: String },
    /// Connected (at start, or back after an outage): every room's state
    /// in Redis, consistent with the events that follow (drop those whose
    /// seq is not above a room's).
    Up(Vec<RoomState>),
    /// Our lease had lapsed and our members' names were freed: claim them
    /// again.
    Resync,
}

/// Read the snapshot script's answer, as the instance `me` sees it.
fn parse_states(value: redis::Value, me: &str) -> redis::RedisResult<Vec<RoomState>> {
    let rooms: Vec<(String, u64, Vec<String>, Vec<String>)> = redis::from_redis_value(value)?;
    Ok(rooms
        .into_iter()
        .map(|(room, seq, here, history)| RoomState {
            room,
            seq,
            here: here
                .iter()
                .filter_map(|held| {
                    let (instance, nick) = held.split_once('\t')?;
                    Some(Holder {
                        mine: instance == me,
                        nick: nick.to_owned(),
                    })
                })
                .collect(),
            history: history
                .iter()
                .filter_map(|entry| wire::decode_history(entry))
                .collect(),
        })
        .collect())
}

/// How the cluster threads hand an [`Inbound`] to the broadcaster: called
/// on the cluster threads, so it must not block for long (a channel send).
pub type Deliver = Arc<dyn Fn(Inbound) + Send + Sync>;

/// What `--redis` asked for.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://HOST:PORT/DB` or `rediss://` (TLS, with the system's roots).
    pub url: String,
    /// How long the instance's lease lasts unless renewed (renewed every
    /// third of it): `--redis-lease`, default 15 s (renewed every 5 s).
    pub lease: Duration,
    /// History lines kept per room (`--history`).
    pub history: usize,
}

/// Counters for `/metrics`, shared by the cluster threads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events published (chat lines, joins, leaves, renames, private lines).
    pub published: AtomicU64,
    /// Events received from the subscription.
    pub received: AtomicU64,
    /// Publisher round trips measured...
    pub round_trips: AtomicU64,
    /// ...their total, in microseconds...
    pub round_trip_micros: AtomicU64,
    /// ...and the longest, in microseconds.
    pub round_trip_max_micros: AtomicU64,
}

/// Each count also feeds `/metrics` (`chat_redis_*`).
impl Stats {
    fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::Relaxed);
        crate::metrics::redis_published(n);
    }

    fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
        crate::metrics::redis_received();
    }

    fn round_trip(&self, took: Duration) {
        crate::metrics::redis_round_trip(took);
        let micros = took.as_micros().min(u128::from(u64::MAX)) as u64;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.round_trip_micros.fetch_add(micros, Ordering::Relaxed);
        self.round_trip_max_micros
            .fetch_max(micros, Ordering::Relaxed);
    }
}

/// A cluster thread, as far as reaching Redis goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Subscriber = 1,
    Publisher = 2,
    Lease = 4,
}

impl Part {
    const ALL: u8 = Part::Subscriber as u8 | Part::Publisher as u8 | Part::Lease as u8;

    fn name(self) -> &'static str {
        match self {
            Part::Subscriber => "subscriber",
            Part::Publisher => "publisher",
            Part::Lease => "lease",
        }
    }
}

/// Whether Redis is reachable, shared by the cluster threads and the
/// broadcaster's [`Link`]; and the counters.
///
/// Each thread says for itself whether its last round trip worked; Redis
/// is up while none is failing. The first thread to fail tells the core
/// ([`Inbound::Down`], once per outage). Whichever thread's success ends
/// the outage, the core hears [`Inbound::Up`] with fresh states: the
/// subscriber sends it (after its own resubscription, or when another
/// thread asks through `want_up`), so it is ordered with the events.
pub struct Health {
    instance: String,
    /// [`Part`] bits of the threads whose last round trip failed.
    failing: AtomicU8,
    /// The subscriber owes the core an [`Inbound::Up`].
    want_up: AtomicBool,
    /// The last publish number given (see `wire::tag`).
    published: AtomicU64,
    echoes: Mutex<Echoes>,
    /// The last outage's cause warned about, and when: the same cause
    /// again soon after (a failure that comes and goes) is logged at debug
    /// level, so the log has one warning per cause, not one per flap.
    warned: Mutex<Option<(std::time::Instant, String)>>,
    pub stats: Stats,
}

/// The kind of an outage, from its cause in words, for `/metrics`.
fn kind_of(cause: &str) -> &'static str {
    let has = |words: &[&str]| words.iter().any(|w| cause.contains(w));
    if has(&["refused:", "NOPERM", "OOM", "READONLY", "NOSCRIPT"]) {
        "refused"
    } else if has(&["no answer within", "timed out", "temporarily unavailable"]) {
        "unanswered"
    } else if has(&["end of file", "reset", "broken pipe", "aborted"]) {
        "closed"
    } else {
        "unreachable"
    }
}

/// How long the same cause of an outage is not warned about again.
const WARN_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// This instance's published events whose echo has not come yet, by
/// publish number: each reaches the core exactly once, either as its echo
/// from the subscription or handed back for local delivery (Redis stalled
/// or refused before answering, or the subscription broke before the echo
/// came), whichever comes first (both are decided under one lock).
#[derive(Default)]
struct Echoes {
    /// Sent to Redis; neither echoed nor handed back yet.
    in_flight: HashMap<u64, Sent>,
    /// Handed back: an echo that comes later (a stalled Redis that ran it
    /// after all) is dropped. Bounded by [`HANDED_BACK_MAX`] (the oldest
    /// go first: a Redis that was killed never runs them).
    handed_back: BTreeSet<u64>,
    /// Joins and renames Redis granted (and published), by room and
    /// sequence number, whose echo has not come yet.
    granted: HashMap<(String, u64), Event>,
    /// Echoes of our joins and renames that came before their answer was
    /// read (bounded like `handed_back`).
    echoed: HashSet<(String, u64)>,
}

/// An event sent to Redis, waiting for its echo.
struct Sent {
    room: String,
    event: Event,
    /// Its sequence number, once Redis answered.
    seq: Option<u64>,
}

/// Most handed-back publish numbers remembered.
const HANDED_BACK_MAX: usize = 4096;

impl Echoes {
    fn remember_handed_back(&mut self, number: u64) {
        self.handed_back.insert(number);
        while self.handed_back.len() > HANDED_BACK_MAX {
            self.handed_back.pop_first();
        }
    }
}

impl Health {
    fn new(instance: String) -> Health {
        Health {
            instance,
            // Not subscribed yet; the publisher and lease threads start
            // with a connection that just worked (or will say otherwise).
            failing: AtomicU8::new(Part::Subscriber as u8),
            want_up: AtomicBool::new(false),
            published: AtomicU64::new(0),
            echoes: Mutex::default(),
            warned: Mutex::default(),
            stats: Stats::default(),
        }
    }

    fn is_up(&self) -> bool {
        self.failing.load(Ordering::Acquire) == 0
    }

    /// `part`'s round trip worked. Returns whether that ended an outage
    /// (no thread fails any more); if so and `part` is not the subscriber
    /// (which sends its own), an [`Inbound::Up`] is owed. So the core
    /// hears `Up` only once every thread reaches Redis again, when
    /// [`Link::is_up`] is true.
    fn ok(&self, part: Part) -> bool {
        let bit = part as u8;
        let before = self.failing.fetch_and(!bit, Ordering::AcqRel);
        if before != bit {
            return false;
        }
        log::info!(
            "redis: connected; instance {} in step with its peers",
            self.instance
        );
        crate::metrics::redis_in_step();
        if part != Part::Subscriber {
            self.want_up.store(true, Ordering::Release);
        }
        true
    }

    /// `part` lost Redis. The first thread to notice logs a warning and
    /// tells the core, once per outage; the others say it at debug level.
    fn lost(&self, part: Part, err: &dyn fmt::Display, deliver: &Deliver) {
        let before = self.failing.fetch_or(part as u8, Ordering::AcqRel);
        let thread = part.name();
        if before == 0 {
            let cause = format!("{thread}: {err}");
            crate::metrics::redis_cut_off(kind_of(&cause));
            let again = {
                let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
                let again = warned
                    .as_ref()
                    .is_some_and(|(at, c)| *c == cause && at.elapsed() < WARN_AGAIN_AFTER);
                if !again {
                    *warned = Some((std::time::Instant::now(), cause.clone()));
                }
                again
            };
            if again {
                log::debug!("redis: lost again ({cause}); serving this instance's clients alone");
            } else {
                log::warn!(
                    "redis: lost ({cause}); serving this instance's clients alone, reconnecting"
                );
            }
            deliver(Inbound::Down { cause });
        } else {
            log::debug!("redis: {thread}: still unreachable: {err}");
        }
    }

    /// A new publish number (see `wire::tag`).
    fn next_number(&self) -> u64 {
        self.published.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn echoes(&self) -> std::sync::MutexGuard<'_, Echoes> {
        self.echoes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Events (number, room, event) are about to be sent.
    fn sending<'a>(&self, events: impl IntoIterator<Item = (u64, &'a String, &'a Event)>) {
        let mut echoes = self.echoes();
        for (number, room, event) in events {
            let sent = Sent {
                room: room.clone(),
                event: event.clone(),
                seq: None,
            };
            echoes.in_flight.insert(number, sent);
        }
    }

    /// Event `number` will not come back (never sent, or nothing was
    /// published): no echo to wait for.
    fn forget(&self, number: u64) {
        self.echoes().in_flight.remove(&number);
    }

    /// Whether event `number`, sent but unanswered, is to be handed back
    /// for local delivery: true unless its echo was delivered already (or
    /// it was handed back already); an echo that comes later is dropped.
    fn hand_back(&self, number: u64) -> bool {
        let mut echoes = self.echoes();
        if echoes.in_flight.remove(&number).is_none() {
            return false;
        }
        echoes.remember_handed_back(number);
        true
    }

    /// The subscription broke: every event whose echo has not come is
    /// handed back (its echo, if any, was lost with the subscription, or
    /// is dropped if it comes on the next one), in the order published.
    fn hand_back_unechoed(&self, deliver: &Deliver) {
        let mut unechoed: Vec<(u64, Sent)> = {
            let mut echoes = self.echoes();
            let taken: Vec<_> = echoes.in_flight.drain().collect();
            for (number, _) in &taken {
                echoes.remember_handed_back(*number);
            }
            taken
        };
        unechoed.sort_unstable_by_key(|(number, _)| *number);
        if !unechoed.is_empty() {
            log::debug!(
                "redis-sub: {} line(s) without their echo, delivered here",
                unechoed.len()
            );
        }
        for (_, Sent { room, event, .. }) in unechoed {
            deliver(Inbound::Unsent { room, event });
        }
    }

    /// Redis ran event `number` as `seq` in its room.
    fn published_as(&self, number: u64, seq: u64) {
        if let Some(sent) = self.echoes().in_flight.get_mut(&number) {
            sent.seq = Some(seq);
        }
    }

    /// Redis granted a join or rename of ours in `room` and published it
    /// (`event`, with its sequence number as id): its echo is expected.
    fn granted(&self, room: &str, event: Event) {
        let mut echoes = self.echoes();
        let key = (room.to_owned(), event.id);
        if !echoes.echoed.remove(&key) {
            echoes.granted.insert(key, event);
        }
    }

    /// The echo of our join or rename number `seq` in `room` came.
    fn granted_echo(&self, room: &str, seq: u64) {
        let mut echoes = self.echoes();
        let key = (room.to_owned(), seq);
        if echoes.granted.remove(&key).is_none() {
            if echoes.echoed.len() >= HANDED_BACK_MAX {
                echoes.echoed.clear(); // (answers long gone: nothing to match)
            }
            echoes.echoed.insert(key);
        }
    }

    /// A new subscription caught up with `states`, read after it began:
    /// whatever of ours Redis ran before it began (its sequence number is
    /// within the state) and whose echo never came was published while no
    /// subscription listened, and will never come. Returns those events:
    /// lines to hand back, and our joins and renames as the echoes they
    /// would have been (in the order Redis ran them).
    fn lost_echoes(&self, states: &[RoomState]) -> (Vec<Inbound>, Vec<Envelope>) {
        let within = |room: &str, seq: u64| {
            states
                .iter()
                .any(|state| state.room == room && seq <= state.seq)
        };
        let mut echoes = self.echoes();
        let lost: Vec<u64> = echoes
            .in_flight
            .iter()
            .filter(|(_, sent)| sent.seq.is_some_and(|seq| within(&sent.room, seq)))
            .map(|(&number, _)| number)
            .collect();
        let mut lines = Vec::new();
        for number in lost {
            if let Some(Sent { room, event, .. }) = echoes.in_flight.remove(&number) {
                echoes.remember_handed_back(number);
                lines.push((number, Inbound::Unsent { room, event }));
            }
        }
        lines.sort_unstable_by_key(|(number, _)| *number);
        let claims: Vec<(String, u64)> = echoes
            .granted
            .keys()
            .filter(|(room, seq)| within(room, *seq))
            .cloned()
            .collect();
        let mut envelopes: Vec<Envelope> = claims
            .into_iter()
            .filter_map(|key| {
                let event = echoes.granted.remove(&key)?;
                Some(Envelope {
                    room: key.0,
                    seq: key.1,
                    mine: true,
                    event,
                })
            })
            .collect();
        envelopes.sort_unstable_by_key(|e| e.seq);
        // A room Redis no longer has (it lost its data): nothing to wait for.
        echoes
            .granted
            .retain(|(room, _), _| states.iter().any(|state| state.room == *room));
        (lines.into_iter().map(|(_, l)| l).collect(), envelopes)
    }

    /// Whether our own echo of event `number` is to be delivered: false if
    /// it was handed back already.
    fn echo(&self, number: u64) -> bool {
        let mut echoes = self.echoes();
        echoes.in_flight.remove(&number);
        !echoes.handed_back.remove(&number)
    }

    /// Stopping: every [`Link`] answers as if Redis were away.
    fn stopped(&self) {
        self.failing.store(Part::ALL, Ordering::Release);
    }

    /// Whether an [`Inbound::Up`] is owed (and now no longer).
    fn take_want_up(&self) -> bool {
        self.want_up.swap(false, Ordering::AcqRel)
    }
}

/// The running cluster threads. [`Cluster::stop`] ends them.
pub struct Cluster {
    endpoint: Endpoint,
    health: Arc<Health>,
    stop: Arc<AtomicBool>,
    /// Ends when `stop` is set, once its queue is sent.
    publisher: Option<JoinHandle<()>>,
    /// End when `stop` is set.
    listeners: Vec<JoinHandle<()>>,
}

impl Cluster {
    /// Connect, subscribe, read every room's state (handed to `deliver`
    /// as [`Inbound::Up`] before this returns) and start the threads.
    /// Returns the broadcaster's [`Link`]. Blocks for a few round trips
    /// (called once, at start-up, before any room runs).
    ///
    /// # Errors
    /// [`Error::RedisRefused`] if Redis refuses what the instance needs
    /// (its words name the missing permission); [`Error::Redis`] if the
    /// URL is bad or Redis is unreachable (each
    /// step bounded by a 2 s connect and 1 s command timeout), or
    /// [`Error::Spawn`].
    pub fn start(config: &ClusterConfig, deliver: Deliver) -> Result<(Cluster, Link), Error> {
        let endpoint = Endpoint::parse(&config.url).map_err(|reason| Error::Redis {
            addr: config.url.clone(),
            reason,
        })?;
        let unreachable = |reason: String| Error::Redis {
            addr: endpoint.to_string(),
            reason,
        };
        // A refusal (an ACL without `psubscribe`, `evalsha`, `script`...)
        // says so in Redis's words, which name the missing permission.
        let failed = |e: redis::RedisError| match conn::refused(&e) {
            Some(reason) => Error::RedisRefused {
                addr: endpoint.to_string(),
                reason,
            },
            None => unreachable(e.to_string()),
        };
        let first = endpoint.connect().map_err(failed)?;
        let instance = format!("{:016x}", rand::random::<u64>());
        crate::metrics::redis_enabled();
        let health = Arc::new(Health::new(instance));
        let stop = Arc::new(AtomicBool::new(false));
        let spawn = |name: &'static str, body: Box<dyn FnOnce() + Send>| {
            thread::Builder::new()
                .name(name.into())
                .spawn(body)
                .map_err(|source| Error::Spawn { what: name, source })
        };
        let mut cluster = Cluster {
            endpoint: endpoint.clone(),
            health: health.clone(),
            stop: stop.clone(),
            publisher: None,
            listeners: Vec::new(),
        };

        let (started_tx, started) = crossbeam_channel::bounded(1);
        let (e, h, d, s) = (
            endpoint.clone(),
            health.clone(),
            deliver.clone(),
            stop.clone(),
        );
        cluster.listeners.push(spawn(
            "redis-sub",
            Box::new(move || subscriber::run(&e, &h, &d, &s, started_tx)),
        )?);
        let subscribed = started
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the subscriber thread ended").into()));
        if let Err(e) = subscribed {
            cluster.stop_threads();
            return Err(failed(e));
        }

        let (link, queue) = publisher::channel(health.clone());
        let history = config.history;
        let (e, h, d, s) = (
            endpoint.clone(),
            health.clone(),
            deliver.clone(),
            stop.clone(),
        );
        cluster.publisher = Some(spawn(
            "redis-pub",
            Box::new(move || publisher::run(&e, &s, Some(first), &queue, &h, &d, history)),
        )?);
        let lease = config.lease;
        let (e, h, d, s) = (endpoint.clone(), health.clone(), deliver, stop);
        cluster.listeners.push(spawn(
            "redis-lease",
            Box::new(move || lease::run(&e, &h, &d, &s, lease)),
        )?);
        Ok((cluster, link))
    }

    /// This instance's id (random, new at each start).
    pub fn instance(&self) -> &str {
        &self.health.instance
    }

    /// Where Redis is (`host:port`, never a password).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.health.stats
    }

    /// Whether Redis is reachable now.
    #[cfg(test)]
    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    /// Stop: the threads end (within a quarter second; the publisher once
    /// what is queued is sent, which may take a stalled Redis
    /// `publisher::STALL_AFTER` plus `publisher::LATE_WAIT`, 5.3 s), then our lease is dropped and our remaining
    /// members' leaves are announced to the other instances at once.
    /// Blocks until then (each Redis step bounded by its timeout). A
    /// [`Link`] still held afterwards answers as if Redis were away.
    pub fn stop(self) {
        drop(self);
    }

    fn stop_threads(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.health.stopped();
        for thread in self.listeners.drain(..).chain(self.publisher.take()) {
            let name = thread.thread().name().unwrap_or("redis").to_owned();
            if thread.join().is_err() {
                log::error!("{name} panicked");
            }
        }
    }
}

impl Drop for Cluster {
    /// [`Cluster::stop`].
    fn drop(&mut self) {
        if self.stop.swap(true, Ordering::AcqRel) {
            return; // stopped already
        }
        self.stop_threads();
        let stats = self.stats();
        let trips = stats.round_trips.load(Ordering::Relaxed).max(1);
        log::info!(
            "redis: published {}, received {}; publish round trip {} µs on average, {} µs at most",
            stats.published.load(Ordering::Relaxed),
            stats.received.load(Ordering::Relaxed),
            stats.round_trip_micros.load(Ordering::Relaxed) / trips,
            stats.round_trip_max_micros.load(Ordering::Relaxed),
        );
        match lease::retire(&self.endpoint, &self.health.instance) {
            Ok(Some(n)) if n > 0 => log::info!("redis: announced the leave of {n} member(s)"),
            Ok(_) => {}
            Err(e) => log::warn!(
                "redis: could not retire instance {} ({e}); its lease will lapse",
                self.health.instance
            ),
        }
    }
}

#[cfg(test)]
mod tests;
