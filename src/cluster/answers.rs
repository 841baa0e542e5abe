//! Reading Redis's answers to a pipeline the publisher thread (`redis-pub`)
//! sent, and handing each operation its outcome through [`Deliver`]: every
//! claim and room read queued on the [`Link`](super::Link) gets exactly one
//! answer, whatever happens. Runs on the publisher thread only.

use redis::Value;

use super::publisher::Op;
use super::{parse_states, Deliver, Health, Inbound};
use crate::event::{Claim, Event, RoomState, Time, What};

/// Whether a claim published a join or a rename.
fn is_published(claim: &Claim) -> bool {
    matches!(claim, Claim::Granted(_) | Claim::Restored(..))
}

/// Hand each operation its answer.
pub(super) fn answer(batch: Vec<Op>, values: Vec<Value>, health: &Health, deliver: &Deliver) {
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Nil);
    let published = |n: usize| health.stats.published(n as u64);
    for op in batch {
        match op {
            Op::Open { room } => {
                let state = parse_states(next(), &health.instance)
                    .ok()
                    .and_then(|mut s| s.pop())
                    .filter(|s| s.room == room);
                if state.is_none() {
                    log::warn!("redis-pub: could not read room {room}");
                }
                deliver(Inbound::Opened(state.unwrap_or_else(|| empty(room))));
            }
            Op::Join {
                room,
                ticket,
                nick,
                time,
                ..
            } => {
                let claim = join_claim(next(), &nick);
                published(usize::from(is_published(&claim)));
                expect_join(health, &room, &claim, &nick, time);
                deliver(Inbound::Claimed {
                    room,
                    ticket,
                    claim,
                });
            }
            Op::Reclaim {
                room,
                ticket,
                nicks,
                time,
            } => {
                // (First the release's answer: how many names it freed.)
                let _ = next();
                let claims: Vec<Claim> =
                    nicks.iter().map(|nick| join_claim(next(), nick)).collect();
                published(claims.iter().filter(|c| is_published(c)).count());
                for (claim, nick) in claims.iter().zip(&nicks) {
                    expect_join(health, &room, claim, nick, time);
                }
                deliver(Inbound::Reclaimed {
                    room,
                    ticket,
                    claims,
                });
            }
            Op::Rename {
                room,
                ticket,
                old,
                new,
                time,
                ..
            } => {
                let claim = match number(&next(), &room) {
                    Some(0) => Claim::Taken,
                    Some(seq) if seq > 0 => Claim::Granted(seq.unsigned_abs()),
                    _ => Claim::Offline,
                };
                published(usize::from(is_published(&claim)));
                if let Claim::Granted(seq) = claim {
                    let what = What::Rename { from: old, to: new };
                    health.granted(
                        &room,
                        Event {
                            id: seq,
                            time,
                            what,
                        },
                    );
                }
                deliver(Inbound::Claimed {
                    room,
                    ticket,
                    claim,
                });
            }
            Op::Publish {
                room,
                event,
                number: n,
                ..
            } => match number(&next(), &room) {
                // A leave of a name no longer ours: nothing published, no
                // echo to wait for.
                Some(0) => health.forget(n),
                // Published: its echo comes through the subscription (or,
                // if the subscription breaks first, it is handed back).
                Some(seq) => {
                    health.published_as(n, seq.unsigned_abs());
                    published(1);
                }
                // Refused by Redis (the script did not run): never sent,
                // unless handed back already (a stall before the refusal).
                None => {
                    if health.hand_back(n) {
                        deliver(Inbound::Unsent { room, event });
                    }
                }
            },
        }
    }
}

/// A granted join claim's echo is expected (see `Health::granted`).
fn expect_join(health: &Health, room: &str, claim: &Claim, nick: &str, time: Time) {
    let (seq, nick) = match claim {
        Claim::Granted(seq) => (*seq, nick),
        Claim::Restored(seq, got) => (*seq, got.as_str()),
        _ => return,
    };
    let what = What::Join {
        nick: nick.to_owned(),
    };
    health.granted(
        room,
        Event {
            id: seq,
            time,
            what,
        },
    );
}

/// An empty room (Redis has nothing, or the read failed).
fn empty(room: String) -> RoomState {
    RoomState {
        room,
        ..RoomState::default()
    }
}

/// A script's integer answer; `None` (logged) for an error or anything else.
fn number(value: &Value, room: &str) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        // (Reported once, as the cause of the outage it starts.)
        Value::ServerError(e) => {
            log::debug!("redis-pub: room {room}: refused: {e:?}");
            None
        }
        other => {
            log::warn!("redis-pub: room {room}: unexpected answer {other:?}");
            None
        }
    }
}

/// The join script's answer, `{seq, nick}`, `{0}` or `{-1}`, for a claim
/// of `nick`.
fn join_claim(value: Value, nick: &str) -> Claim {
    if let Value::ServerError(e) = &value {
        // (Reported once, as the cause of the outage it starts.)
        log::debug!("redis-pub: a join refused: {e:?}");
        return Claim::Offline;
    }
    let answer: redis::RedisResult<Vec<Value>> = redis::from_redis_value(value).map_err(Into::into);
    match answer.as_deref() {
        Ok([Value::Int(0)]) => Claim::Taken,
        Ok([Value::Int(-1)]) => Claim::Held,
        Ok([Value::Int(seq), got]) if *seq > 0 => {
            let seq = seq.unsigned_abs();
            match redis::from_redis_value::<String>(got.clone()) {
                Ok(got) if got != nick => Claim::Restored(seq, got),
                Ok(_) => Claim::Granted(seq),
                Err(_) => Claim::Offline,
            }
        }
        other => {
            log::warn!("redis-pub: unexpected answer to a join: {other:?}");
            Claim::Offline
        }
    }
}

/// Operations that never reached Redis: claims are answered `Offline`,
/// reads with an empty room, events go back to be delivered locally.
pub(super) fn give_back(batch: Vec<Op>, health: &Health, deliver: &Deliver) {
    for op in batch {
        match op {
            Op::Publish {
                room,
                event,
                number,
                ..
            } => {
                health.forget(number);
                deliver(Inbound::Unsent { room, event });
            }
            other => unanswered(other, deliver),
        }
    }
}

/// Operations sent that Redis may have run, but whose answer never came:
/// claims are answered `Offline`, reads with an empty room; events are
/// handed back for local delivery unless they came back already (if Redis
/// runs them later, their echo is dropped here: see `Health::echo`).
pub(super) fn lost(batch: Vec<Op>, health: &Health, deliver: &Deliver) {
    let mut handed = 0;
    for op in batch {
        match op {
            Op::Publish {
                room,
                event,
                number,
                ..
            } => {
                if health.hand_back(number) {
                    handed += 1;
                    deliver(Inbound::Unsent { room, event });
                }
            }
            other => unanswered(other, deliver),
        }
    }
    if handed > 0 {
        log::debug!("redis-pub: {handed} event(s) sent without an answer, delivered here");
    }
}

/// The answer to a claim or read that got none from Redis.
fn unanswered(op: Op, deliver: &Deliver) {
    match op {
        Op::Join { room, ticket, .. } | Op::Rename { room, ticket, .. } => {
            deliver(Inbound::Claimed {
                room,
                ticket,
                claim: Claim::Offline,
            });
        }
        Op::Reclaim {
            room,
            ticket,
            nicks,
            ..
        } => deliver(Inbound::Reclaimed {
            room,
            ticket,
            claims: vec![Claim::Offline; nicks.len()],
        }),
        Op::Open { room } => deliver(Inbound::Opened(empty(room))),
        Op::Publish { room, event, .. } => deliver(Inbound::Unsent { room, event }),
    }
}
