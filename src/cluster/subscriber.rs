//! The subscriber thread (`redis-sub`), one per instance: the only reader
//! of this instance's subscription. It listens to every room's channel and
//! hands each message to the broadcaster as an [`Inbound::Event`], in the
//! order Redis delivers them (one order per room for every instance). When
//! the connection breaks it says so once ([`Inbound::Down`]), reconnects
//! with backoff, and on success sends the state of every room
//! ([`Inbound::Up`]) so the core can resynchronize. It also sends the
//! [`Inbound::Up`] another thread's recovery owes (see `Health`), so every
//! `Up` is ordered with the events around it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Connection, RedisResult, Value};

use super::conn::{Backoff, Endpoint};
use super::scripts::Script;
use super::wire;
use super::{parse_states, Deliver, Health, Inbound, Part};
use crate::event::RoomState;
use crate::throttle::Throttle;
use crate::throttled;

/// The subscriber looks at its stop flag this often while no message comes.
const POLL: Duration = Duration::from_millis(250);
/// A subscription silent this long is pinged, so a Redis that vanished
/// without closing the connection is noticed.
const PING_AFTER: Duration = Duration::from_secs(3);

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
            // between the two is in both, and the core drops what it
            // already has by sequence number. Nothing falls in a gap.
            let mut on_subscribed = || -> RedisResult<()> {
                health.take_want_up();
                let rooms = snapshot(endpoint, &health.instance)?;
                // (If another thread still fails, the last to recover owes
                // the `Up`, sent below.)
                if health.ok(Part::Subscriber) {
                    deliver(Inbound::Up(rooms));
                }
                backoff.succeeded();
                if let Some(started) = started.take() {
                    let _ = started.send(Ok(()));
                }
                Ok(())
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
        backoff.failed();
        if !backoff.wait(stop) {
            break;
        }
    }
    log::debug!("redis-sub: stopping");
}

/// Subscribe, call `on_subscribed`, then forward messages (and the
/// [`Inbound::Up`] another thread's recovery owes) until `stop` (`Ok`) or
/// the connection fails (`Err`).
fn listen(
    con: &mut Connection,
    on_subscribed: &mut dyn FnMut() -> RedisResult<()>,
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
    on_subscribed()?;
    let mut heard = Instant::now();
    loop {
        if health.take_want_up() {
            // Read after the events delivered so far: the core drops what
            // follows up to each room's seq.
            deliver(Inbound::Up(snapshot(endpoint, &health.instance)?));
        }
        match pubsub.get_message() {
            Ok(msg) => {
                heard = Instant::now();
                let channel = msg.get_channel_name();
                let payload = String::from_utf8_lossy(msg.get_payload_bytes());
                match wire::decode(channel, &payload, &health.instance) {
                    Some(envelope) => {
                        health.stats.received();
                        let handed_back = wire::published_number(&payload, &health.instance)
                            .is_some_and(|n| !health.echo(n));
                        if handed_back {
                            log::debug!("redis-sub: a late echo of a line delivered already");
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
/// view), as the instance `me` sees it. Opens a connection of its own:
/// blocks for a few round trips.
///
/// # Errors
/// The connection or the script failed.
pub(super) fn snapshot(endpoint: &Endpoint, me: &str) -> RedisResult<Vec<RoomState>> {
    let mut conn = endpoint.connect()?;
    let value = conn.run(Script::Snapshot, &[wire::ROOMS], &[wire::PREFIX])?;
    parse_states(value, me)
}
