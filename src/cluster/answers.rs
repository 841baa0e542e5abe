//! Reading Redis's answers to a pipeline the publisher thread (`redis-pub`)
//! sent: each operation gets its own answer, and what never reached Redis
//! goes back to the room. Runs on the publisher thread only.

use redis::Value;

use super::publisher::{Claim, Op};
use super::{Deliver, Health, Inbound, RoomState};

/// Hand each operation its answer.
pub(super) fn answer(batch: Vec<Op>, values: Vec<Value>, health: &Health, deliver: &Deliver) {
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Nil);
    let published = |n: usize| health.stats.published(n as u64);
    // (A reply the room stopped waiting for, after a timeout, is dropped.)
    for op in batch {
        match op {
            Op::State { room, reply } => {
                let state = RoomState::parse(next()).ok().and_then(|mut s| s.pop());
                if state.is_none() {
                    log::warn!("redis-pub: could not read room {room}");
                }
                let _ = reply.try_send(state);
            }
            Op::Join { nick, reply, .. } => {
                let claim = join_claim(next(), &nick);
                published(usize::from(claim.is_published()));
                let _ = reply.try_send(claim);
            }
            Op::Reclaim { nicks, reply, .. } => {
                let claims: Vec<Claim> =
                    nicks.iter().map(|nick| join_claim(next(), nick)).collect();
                published(claims.iter().filter(|c| c.is_published()).count());
                let _ = reply.try_send(claims);
            }
            Op::Rename { room, reply, .. } => {
                let claim = match number(&next(), &room) {
                    Some(0) => Claim::Taken,
                    Some(seq) if seq > 0 => Claim::Granted(seq as u64),
                    _ => Claim::Offline,
                };
                published(usize::from(claim.is_published()));
                let _ = reply.try_send(claim);
            }
            op @ Op::Publish { .. } => match number(&next(), op.room()) {
                Some(_) => published(1),
                None => give_back(vec![op], deliver),
            },
        }
    }
}

/// A script's integer answer; `None` (logged) for an error or anything else.
fn number(value: &Value, room: &str) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::ServerError(e) => {
            log::warn!("redis-pub: room {room}: refused: {e:?}");
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
    let answer: redis::RedisResult<Vec<Value>> = redis::from_redis_value(value).map_err(Into::into);
    match answer.as_deref() {
        Ok([Value::Int(0)]) => Claim::Taken,
        Ok([Value::Int(-1)]) => Claim::Held,
        Ok([Value::Int(seq), got]) if *seq > 0 => {
            match redis::from_redis_value::<String>(got.clone()) {
                Ok(got) if got != nick => Claim::Restored(*seq as u64, got),
                Ok(_) => Claim::Granted(*seq as u64),
                Err(_) => Claim::Offline,
            }
        }
        other => {
            log::warn!("redis-pub: unexpected answer to a join: {other:?}");
            Claim::Offline
        }
    }
}

/// Operations that did not reach Redis: claims are answered `Offline`,
/// records go back to the room to be delivered locally.
pub(super) fn give_back(batch: Vec<Op>, deliver: &Deliver) {
    for op in batch {
        match op {
            Op::Join { reply, .. } | Op::Rename { reply, .. } => {
                let _ = reply.try_send(Claim::Offline);
            }
            Op::State { reply, .. } => {
                let _ = reply.try_send(None);
            }
            Op::Reclaim { nicks, reply, .. } => {
                let _ = reply.try_send(vec![Claim::Offline; nicks.len()]);
            }
            Op::Publish { room, record } => deliver(Inbound::Unsent { room, record }),
        }
    }
}
