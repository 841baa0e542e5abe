//! The lease thread (`redis-lease`), one per instance: it renews this
//! instance's lease, and reaps instances whose lease ran out.
//!
//! An instance is alive while its lease key exists: it is set with an
//! expiry of `--redis-lease` (default 15 s) and renewed every third of it
//! (5 s), so two renewals can be missed before it lapses. Every fifteenth
//! of the lease (1 s) the thread looks for listed instances without a
//! lease and runs the reap script on each: the script's `SREM` lets
//! exactly one surviving instance reap a dead one, freeing its members'
//! names and publishing their leave lines, so every instance shows each
//! leave once, within the lease plus a second of the death.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use redis::{RedisResult, Value};

use super::conn::{sleep_unless, Conn, Endpoint, Reconnecting};
use super::scripts::Script;
use super::wire;
use super::{Deliver, Health, Inbound, Part};
use crate::event::Time;

/// The shortest pause between two rounds of renewing and reaping.
const REAP_POLL_MIN: Duration = Duration::from_millis(100);

/// The lease thread's body: renew and reap until `stop` (looked at every
/// 100 ms).
pub(super) fn run(
    endpoint: &Endpoint,
    health: &Health,
    deliver: &Deliver,
    stop: &AtomicBool,
    lease: Duration,
) {
    let renew_every = lease / 3;
    // (At least 100 ms: a tiny --redis-lease must not make this a busy loop.)
    let reap_every = (lease / 15).max(REAP_POLL_MIN);
    let mut redis = Reconnecting::new(endpoint, None);
    // The first renewal finds no lease; later ones that find none mean
    // ours lapsed (we stalled, or could not reach Redis) and were reaped.
    let mut first = true;
    let mut renewed = Instant::now() - renew_every;
    loop {
        let ticked = redis.run(health.is_up(), |c| {
            tick(c, health, deliver, lease, &mut renewed, &mut first)
        });
        match ticked {
            Ok(()) => {
                health.ok(Part::Lease);
            }
            Err(e) => health.lost(Part::Lease, &e, deliver),
        }
        if !sleep_unless(stop, reap_every) {
            break;
        }
    }
    log::debug!("redis-lease: stopping");
}

/// One round: renew if due (telling the core if our lease had lapsed),
/// then reap whoever is dead.
fn tick(
    c: &mut Conn,
    health: &Health,
    deliver: &Deliver,
    lease: Duration,
    renewed: &mut Instant,
    first: &mut bool,
) -> RedisResult<()> {
    if renewed.elapsed() >= lease / 3 {
        let lapsed = !renew(c, &health.instance, lease)?;
        *renewed = Instant::now();
        if lapsed && !*first {
            log::warn!(
                "redis: our lease had run out (others announced our members' leaves); claiming their names again"
            );
            deliver(Inbound::Resync);
        }
        *first = false;
    }
    reap_others(c, &health.instance)
}

/// Set our lease for `lease` and list us. Returns whether a lease was
/// still there.
fn renew(conn: &mut Conn, instance: &str, lease: Duration) -> RedisResult<bool> {
    let ms = lease.as_millis().max(1) as u64;
    let (old, _): (Option<String>, Value) = redis::pipe()
        .cmd("SET")
        .arg(wire::lease_key(instance))
        .arg("1")
        .arg("PX")
        .arg(ms)
        .arg("GET")
        .cmd("SADD")
        .arg(wire::INSTANCES)
        .arg(instance)
        .query(&mut conn.con)?;
    Ok(old.is_some())
}

/// Reap every listed instance whose lease is gone.
fn reap_others(conn: &mut Conn, me: &str) -> RedisResult<()> {
    let listed: Vec<String> = redis::cmd("SMEMBERS")
        .arg(wire::INSTANCES)
        .query(&mut conn.con)?;
    for other in listed.iter().filter(|id| id.as_str() != me) {
        if let Some(n) = reap(conn, other)? {
            log::info!("redis: instance {other} stopped renewing its lease; announced the leave of its {n} member(s)");
        }
    }
    Ok(())
}

/// Run the reap script on `instance`: `Some(members)` if we reaped it,
/// `None` if it is alive or another instance got there first.
pub(super) fn reap(conn: &mut Conn, instance: &str) -> RedisResult<Option<i64>> {
    let lease = wire::lease_key(instance);
    let holdings = wire::holdings_key(instance);
    let now = Time::from_system(SystemTime::now()).0.to_string();
    let n: i64 = redis::from_redis_value(conn.run(
        Script::Reap,
        &[wire::INSTANCES, &lease, &holdings],
        &[instance, wire::PREFIX, &now],
    )?)?;
    Ok((n >= 0).then_some(n))
}

/// On a clean stop: drop our lease and reap ourselves at once, so our
/// members' leaves are announced now rather than after the lease.
pub(super) fn retire(endpoint: &Endpoint, instance: &str) -> RedisResult<Option<i64>> {
    let mut conn = endpoint.connect()?;
    redis::cmd("DEL")
        .arg(wire::lease_key(instance))
        .query::<Value>(&mut conn.con)?;
    reap(&mut conn, instance)
}
