//! The subscriber thread (`redis-sub`), one per instance: the only reader
//! of this instance's subscription. It listens to every room's channel and
//! turns each message into an [`Inbound::Event`] on the room thread's
//! channel, in the order Redis delivers them (one order per room for every
//! instance). When the connection breaks it says so once
//! ([`Inbound::Down`]), reconnects with backoff, and on success sends the
//! state of every room ([`Inbound::Up`]) so the room can resynchronize.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Connection, RedisResult};

use super::conn::{Backoff, Endpoint};
use super::scripts::Script;
use super::wire::{self, Envelope};
use super::{Deliver, Health, Inbound, RoomState};
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
    started: crossbeam_channel::Sender<Result<(), String>>,
) {
    let mut started = Some(started);
    let mut backoff = Backoff::default();
    while !stop.load(Ordering::Acquire) {
        let attempt = endpoint.connect_subscriber(POLL).and_then(|mut con| {
            // Subscribed first, then the snapshot: whatever is published
            // between the two is in both, and the room drops what it
            // already has by sequence number. Nothing falls in a gap.
            let mut on_subscribed = || -> RedisResult<()> {
                let rooms = snapshot(endpoint)?;
                health.up();
                deliver(Inbound::Up(rooms));
                backoff.succeeded();
                if let Some(started) = started.take() {
                    let _ = started.send(Ok(()));
                }
                Ok(())
            };
            listen(&mut con, &mut on_subscribed, health, deliver, stop)
        });
        let Err(e) = attempt else {
            break; // stopped
        };
        if let Some(started) = started.take() {
            let _ = started.send(Err(e.to_string()));
            return;
        }
        health.lost("subscriber", &e, deliver);
        backoff.failed();
        if !backoff.wait(stop) {
            break;
        }
    }
    log::debug!("redis-sub: stopping");
}

/// Subscribe, call `on_subscribed`, then forward messages until `stop`
/// (`Ok`) or the connection fails (`Err`).
fn listen(
    con: &mut Connection,
    on_subscribed: &mut dyn FnMut() -> RedisResult<()>,
    health: &Health,
    deliver: &Deliver,
    stop: &AtomicBool,
) -> RedisResult<()> {
    let mut pubsub = con.as_pubsub();
    pubsub.psubscribe(wire::ROOM_PATTERN)?;
    on_subscribed()?;
    let mut heard = Instant::now();
    loop {
        match pubsub.get_message() {
            Ok(msg) => {
                heard = Instant::now();
                let channel = msg.get_channel_name();
                let payload = String::from_utf8_lossy(msg.get_payload_bytes());
                match Envelope::decode(channel, &payload) {
                    Some(envelope) => {
                        health.stats.received();
                        deliver(Inbound::Event(envelope));
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

/// Every room's state at one instant (one script, so one consistent view).
///
/// # Errors
/// The connection or the script failed.
pub(super) fn snapshot(endpoint: &Endpoint) -> RedisResult<Vec<RoomState>> {
    let mut conn = endpoint.connect()?;
    let value = conn.run(Script::Snapshot, &[wire::ROOMS], &[wire::PREFIX])?;
    RoomState::parse(value)
}
