//! The subscriber thread (`redis-sub`), one per instance: the only reader
//! of this instance's subscription. It listens to every room's channel and
//! hands each message to the broadcaster as an [`Inbound::Event`], in the
//! order Redis delivers them (one order per room for every instance). When
//! the connection breaks it says so once ([`Inbound::Down`]), reconnects
//! with backoff, and on success sends the state of every room
//! ([`Inbound::Up`]) so the core can resynchronize. It also sends the
//! [`Inbound::Up`] another thread's recovery owes (see `Health`), so every
//! `Up` is ordered with the events around it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Connection, RedisResult, Value};

use super::conn::{Backoff, Endpoint};
use super::scripts::Script;
use super::wire;
use super::{parse_states, Deliver, Health, Inbound, Part};
use crate::event::{Envelope, RoomState, What};
use crate::throttle::Throttle;
use crate::throttled;

/// The subscriber looks at its stop flag this often while no message comes.
const POLL: Duration = Duration::from_millis(250);
/// A subscription silent this long is pinged, so a Redis that vanished
/// without closing the connection is noticed.
const PING_AFTER: Duration = Duration::from_secs(3);
/// How long a state's token may take to come back through the
/// subscription before the subscription is taken for broken.
const TOKEN_WAIT: Duration = Duration::from_secs(2);

static MALFORMED: Throttle = Throttle::new(5);

/// The subscriber thread's body. Sends the outcome of its first
/// subscription on `started` (start-up waits for it), then runs until
/// `stop` is set, within [`POLL`].
pub(super) fn run(
    endpoint: &Endpoint,
    health: &Health,
    deliver: &Deliver,
    stop: &AtomicBool,
    started: crossbeam_channel::Sender<RedisResult<()>>,
) {
    let mut started = Some(started);
    let mut backoff = Backoff::default();
    while !stop.load(Ordering::Acquire) {
        let attempt = endpoint.connect_subscriber(POLL).and_then(|mut con| {
            // Subscribed first, then the snapshot: whatever is published
            // between the two comes before the snapshot's token and is in
            // the state; the core drops it by sequence number. Nothing
            // falls in a gap.
            let mut on_subscribed = |rooms: Vec<RoomState>| {
                // (If another thread still fails, the last to recover owes
                // the `Up`, sent by `listen`.)
                if health.ok(Part::Subscriber) {
                    deliver(Inbound::Up(rooms));
                }
                backoff.succeeded();
                if let Some(started) = started.take() {
                    let _ = started.send(Ok(()));
                }
            };
            listen(
                &mut con,
                &mut on_subscribed,
                endpoint,
                health,
                deliver,
                stop,
            )
        });
        let Err(e) = attempt else {
            break; // stopped
        };
        if let Some(started) = started.take() {
            let _ = started.send(Err(e));
            return;
        }
        health.lost(Part::Subscriber, &e, deliver);
        health.hand_back_unechoed(deliver);
        backoff.failed();
        if !backoff.wait(stop) {
            break;
        }
    }
    log::debug!("redis-sub: stopping");
}

/// A state read, waiting for its token to come through the subscription.
struct Reading {
    token: String,
    rooms: Vec<RoomState>,
    /// Read on subscribing (else owed by another thread's recovery).
    first: bool,
    since: Instant,
}

/// Subscribe, read every room's state, then forward messages until `stop`
/// (`Ok`) or the connection fails (`Err`). A state (the first, then the
/// [`Inbound::Up`] another thread's recovery owes) is handed on when its
/// token comes through the subscription (see `scripts::SNAPSHOT`): after
/// every event published before it was read, so none of those is dropped
/// as old by a core that never saw it. The first goes to `on_subscribed`,
/// after the events this instance published while no subscription
/// listened (their echo was lost: see `Health::lost_echoes`), merged in
/// order with the events held back until then.
fn listen(
    con: &mut Connection,
    on_subscribed: &mut dyn FnMut(Vec<RoomState>),
    endpoint: &Endpoint,
    health: &Health,
    deliver: &Deliver,
    stop: &AtomicBool,
) -> RedisResult<()> {
    // (Not `PubSub::psubscribe`, which takes a refusal for a confirmation.)
    let reply: Value = redis::cmd("PSUBSCRIBE")
        .arg(wire::ROOM_PATTERN)
        .query(con)?;
    if let Value::ServerError(e) = reply {
        return Err(e.into());
    }
    let mut pubsub = con.as_pubsub();
    let sync = wire::sync_channel(&health.instance);
    let mut tokens = 0u64;
    let mut read = |first: bool| -> RedisResult<Reading> {
        tokens += 1;
        let token = tokens.to_string();
        let rooms = snapshot(endpoint, &health.instance, Some((&sync, &token)))?;
        Ok(Reading {
            token,
            rooms,
            first,
            since: Instant::now(),
        })
    };
    health.take_want_up();
    let mut reading = Some(read(true)?);
    // Until the first state's token: the events received, held back to
    // be merged with those whose echo was lost (see `Health::lost_echoes`).
    let mut held: Option<Vec<Envelope>> = Some(Vec::new());
    let mut heard = Instant::now();
    loop {
        if reading.is_none() && health.take_want_up() {
            reading = Some(read(false)?);
        }
        if reading
            .as_ref()
            .is_some_and(|r| r.since.elapsed() > TOKEN_WAIT)
        {
            let lost = io::Error::new(
                io::ErrorKind::TimedOut,
                "the subscription did not bring back the state's token",
            );
            return Err(lost.into());
        }
        match pubsub.get_message() {
            Ok(msg) => {
                heard = Instant::now();
                let channel = msg.get_channel_name();
                let payload = String::from_utf8_lossy(msg.get_payload_bytes());
                if channel == sync {
                    if let Some(r) = reading.take_if(|r| r.token == payload) {
                        if r.first {
                            // What of ours ran while no subscription
                            // listened, then what came since, in order.
                            let (lines, mut echoes) = health.lost_echoes(&r.rooms);
                            for line in lines {
                                deliver(line);
                            }
                            echoes.extend(held.take().unwrap_or_default());
                            echoes.sort_by_key(|e| e.seq);
                            for envelope in echoes {
                                deliver(Inbound::Event(envelope));
                            }
                            on_subscribed(r.rooms);
                        } else {
                            deliver(Inbound::Up(r.rooms));
                        }
                    }
                    continue;
                }
                if wire::is_sync_channel(channel) {
                    continue; // another instance's
                }
                match wire::decode(channel, &payload, &health.instance) {
                    Some(envelope) => {
                        health.stats.received();
                        let number = wire::published_number(&payload, &health.instance);
                        // `#0`: a leave for the others only (see `wire::tag`).
                        let handed_back = number.is_some_and(|n| n == 0 || !health.echo(n));
                        if envelope.mine
                            && matches!(
                                envelope.event.what,
                                What::Join { .. } | What::Rename { .. }
                            )
                        {
                            health.granted_echo(&envelope.room, envelope.seq);
                        }
                        if handed_back {
                            log::debug!("redis-sub: a late echo of a line delivered already");
                        } else if let Some(held) = held.as_mut() {
                            held.push(envelope);
                        } else {
                            deliver(Inbound::Event(envelope));
                        }
                    }
                    None => throttled!(
                        MALFORMED,
                        log::Level::Warn,
                        "redis-sub: ignored a malformed message on {channel}"
                    ),
                }
            }
            Err(e) if e.is_timeout() => {
                if stop.load(Ordering::Acquire) {
                    return Ok(());
                }
                if heard.elapsed() >= PING_AFTER {
                    pubsub.ping::<redis::Value>()?;
                    heard = Instant::now();
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Every room's state at one instant (one script, so one consistent
/// view), as the instance `me` sees it; with `mark` (a channel, a token),
/// the script publishes the token there once it has read. Opens a
/// connection of its own: blocks for a few round trips.
///
/// # Errors
/// The connection or the script failed.
pub(super) fn snapshot(
    endpoint: &Endpoint,
    me: &str,
    mark: Option<(&str, &str)>,
) -> RedisResult<Vec<RoomState>> {
    let mut conn = endpoint.connect()?;
    let (channel, token) = mark.unwrap_or_default();
    let value = conn.run(
        Script::Snapshot,
        &[wire::ROOMS],
        &[wire::PREFIX, channel, token],
    )?;
    parse_states(value, me)
}
