//! Several instances sharing their rooms over Redis (issue 15), started
//! only with `--redis`: without it no thread here runs and no connection
//! is made.
//!
//! # Threads (one each per instance)
//! - `redis-sub` ([`subscriber`]): the subscription to every room's
//!   channel; turns each message into an [`Inbound`] on the room thread's
//!   channel.
//! - `redis-pub` ([`publisher`]): takes what the room thread queues on its
//!   [`Link`] and sends it to Redis, one pipeline (one round trip) a batch.
//! - `redis-lease` ([`lease`]): renews this instance's lease and reaps
//!   instances whose lease ran out.
//!
//! ```text
//!  room thread --Link (queue)--> redis-pub --EVALSHA/PUBLISH--> Redis
//!      ^                                                          |
//!      +---- Inbound::Event <------ redis-sub <--- pattern sub ----+
//! ```
//!
//! A room's events reach its members only after the round trip through
//! Redis, on every instance alike: one order per room everywhere.
//! Nicknames are claimed in Redis by atomic scripts ([`scripts`]); each
//! room's members and history live there too, so an instance that starts
//! or comes back reads them ([`Inbound::Up`]).

mod answers;
mod conn;
mod lease;
mod publisher;
mod scripts;
mod subscriber;
pub mod wire;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use conn::Endpoint;
pub use publisher::{Claim, Link, Unsent};
pub use wire::{name_key, Envelope, Record};

use crate::Error;

/// What the cluster threads tell the room thread.
#[derive(Debug)]
pub enum Inbound {
    /// An event published by some instance (this one included), in the
    /// room's order. The room delivers it to its members here.
    Event(Envelope),
    /// A record this instance could not publish (Redis away or behind):
    /// deliver it to the members here, as if it had come back.
    Unsent { room: String, record: Record },
    /// Redis is unreachable. Sent once per outage.
    Down,
    /// Connected (at start, or back after an outage): every room's state
    /// in Redis, consistent with the events that follow.
    Up(Vec<RoomState>),
    /// Our lease had lapsed and our members' names were freed: claim them
    /// again.
    Resync,
}

/// One room as Redis holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomState {
    pub room: String,
    /// The sequence number of the room's last event: the room's members
    /// and history are as of it.
    pub seq: u64,
    /// Who is in the room, on every instance, in order of arrival.
    pub here: Vec<Holder>,
    /// The room's last chat lines, oldest first.
    pub history: Vec<String>,
}

impl RoomState {
    /// Read the snapshot script's answer.
    fn parse(value: redis::Value) -> redis::RedisResult<Vec<RoomState>> {
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
                            instance: instance.to_owned(),
                            nick: nick.to_owned(),
                        })
                    })
                    .collect(),
                history,
            })
            .collect())
    }
}

/// A member, and the instance holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub instance: String,
    pub nick: String,
}

/// How the cluster threads hand an [`Inbound`] to the room thread.
pub type Deliver = Arc<dyn Fn(Inbound) + Send + Sync>;

/// What `--redis` asked for.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://HOST:PORT/DB` or `rediss://` (TLS, with the system's roots).
    pub url: String,
    /// How long the instance's lease lasts unless renewed (renewed every
    /// third of it): `--redis-lease`, default 15 s (issue 15: renew every
    /// 5 s, expire after 15 s).
    pub lease: Duration,
    /// History lines kept per room (`--history`).
    pub history: usize,
}

/// Counters for `/metrics`, shared by the cluster threads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Records published (chat lines, joins, leaves, renames, private lines).
    pub published: AtomicU64,
    /// Records received from the subscription.
    pub received: AtomicU64,
    /// Publisher round trips measured...
    pub round_trips: AtomicU64,
    /// ...their total, in microseconds...
    pub round_trip_micros: AtomicU64,
    /// ...and the longest, in microseconds.
    pub round_trip_max_micros: AtomicU64,
}

/// Each count also feeds `/metrics` (`chat_redis_*`, issue 15 point 6).
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

/// Whether Redis is reachable, shared by the cluster threads and the room's
/// [`Link`]; and the counters.
pub struct Health {
    instance: String,
    up: AtomicBool,
    pub stats: Stats,
}

impl Health {
    fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    fn up(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            log::info!(
                "redis: connected; instance {} in step with its peers",
                self.instance
            );
        }
    }

    /// A thread lost Redis. The first to notice logs a warning and tells
    /// the room, once per outage; the others say it at debug level.
    fn lost(&self, thread: &str, err: &dyn fmt::Display, deliver: &Deliver) {
        if self.up.swap(false, Ordering::AcqRel) {
            log::warn!(
                "redis: lost ({thread}: {err}); serving this instance's clients alone, reconnecting"
            );
            deliver(Inbound::Down);
        } else {
            log::debug!("redis: {thread}: still unreachable: {err}");
        }
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
    /// Returns the room thread's [`Link`]. Blocks for a few round trips.
    ///
    /// # Errors
    /// [`Error::Redis`] if the URL is bad or Redis is unreachable (each
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
        let first = endpoint.connect().map_err(|e| unreachable(e.to_string()))?;
        let instance = format!("{:016x}", rand::random::<u64>());
        crate::metrics::redis_enabled();
        let health = Arc::new(Health {
            instance,
            up: AtomicBool::new(false),
            stats: Stats::default(),
        });
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
            .unwrap_or_else(|_| Err("the subscriber thread ended".into()));
        if let Err(reason) = subscribed {
            cluster.stop_threads();
            return Err(unreachable(reason));
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
    /// what is queued is sent), then our lease is dropped and our remaining
    /// members' leaves are announced to the other instances at once.
    /// Blocks until then (each Redis step bounded by its timeout). A
    /// [`Link`] still held afterwards answers as if Redis were away.
    pub fn stop(self) {
        drop(self);
    }

    fn stop_threads(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.health.up.store(false, Ordering::Release);
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
