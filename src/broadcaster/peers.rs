//! The broadcaster's side of `--redis`: where the core's outputs for the
//! other instances go ([`Peers`], the cluster's `Link`), and where the
//! cluster's answers come back in as the core's inputs. Runs on the
//! broadcaster thread. Nothing here waits for Redis: a claim is queued and
//! its answer arrives later as an [`Input::Cluster`](super::Input).
//!
//! Built without the `redis` feature, or run without `--redis`, every room
//! is this instance's alone: nothing is published and every claim is
//! answered `Offline` at once (the core then decides locally).

use super::Broadcaster;
use crate::event::{Claim, Event, Time};
use crate::room::{ClaimOp, RoomName};

/// The way to the other instances, if any.
#[derive(Default)]
pub struct Peers {
    #[cfg(feature = "redis")]
    link: Option<crate::cluster::Link>,
    /// Why this instance is cut off from its peers, while it is.
    cut_off: Option<String>,
}

impl Peers {
    /// Rooms shared through `link` (`--redis`).
    #[cfg(feature = "redis")]
    pub fn through(link: crate::cluster::Link) -> Peers {
        Peers {
            link: Some(link),
            cut_off: None,
        }
    }

    /// Why this instance is cut off from its peers, while it is (for
    /// `/healthz`).
    pub fn cut_off(&self) -> Option<String> {
        self.cut_off.clone()
    }

    /// Whether rooms are shared with other instances.
    pub fn is_shared(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.link.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// Queue `event` for every instance.
    ///
    /// # Errors
    /// The event back when it cannot be sent (Redis away or behind, or no
    /// Redis at all): the core delivers it here.
    pub fn publish(&self, room: &RoomName, event: Event) -> Result<(), Event> {
        #[cfg(feature = "redis")]
        if let Some(link) = &self.link {
            return link
                .publish(room.as_str(), &event)
                .map_err(|unsent| unsent.0);
        }
        let _ = room;
        Err(event)
    }

    /// Ask for the room's state; true if it will come back as an input.
    pub fn open(&self, room: &RoomName) -> bool {
        #[cfg(feature = "redis")]
        if let Some(link) = &self.link {
            return link.open(room.as_str());
        }
        let _ = room;
        false
    }
}

/// An answer given at once, without Redis.
enum Now {
    Claim(Claim),
    Claims(Vec<Claim>),
}

impl Broadcaster {
    /// Queue a claim; an answer that is known at once (no Redis, Redis
    /// away) goes straight back to the core.
    pub(super) fn claim(&mut self, room: &RoomName, ticket: u64, claim: ClaimOp, now: Time) {
        let answer = self.claim_through_redis(room, ticket, &claim, now);
        let answer = match answer {
            Some(answer) => answer,
            None => return, // queued: the answer comes as an input
        };
        match answer {
            Now::Claim(c) => self.core.claimed(room.as_str(), ticket, c, now),
            Now::Claims(c) => self.core.reclaimed(room.as_str(), ticket, c, now),
        }
    }

    #[cfg(feature = "redis")]
    fn claim_through_redis(
        &self,
        room: &RoomName,
        ticket: u64,
        claim: &ClaimOp,
        now: Time,
    ) -> Option<Now> {
        let Some(link) = &self.peers.link else {
            return Some(offline(claim));
        };
        let room = room.as_str();
        match claim {
            ClaimOp::Join { nick, session } => link
                .join(room, ticket, nick, session.as_deref(), now)
                .map(Now::Claim),
            ClaimOp::Rename { old, new, session } => link
                .rename(room, ticket, old, new, session.as_deref(), now)
                .map(Now::Claim),
            ClaimOp::Reclaim { nicks } => link
                .reclaim(room, ticket, nicks.clone(), now)
                .map(Now::Claims),
        }
    }

    #[cfg(not(feature = "redis"))]
    fn claim_through_redis(
        &self,
        _room: &RoomName,
        _ticket: u64,
        claim: &ClaimOp,
        _now: Time,
    ) -> Option<Now> {
        Some(offline(claim))
    }

    /// What the cluster threads report, as the core's inputs.
    #[cfg(feature = "redis")]
    pub(super) fn on_cluster(&mut self, inbound: crate::cluster::Inbound, now: Time) {
        use crate::cluster::Inbound;
        match inbound {
            Inbound::Event(envelope) => self.core.peer_event(envelope, now),
            Inbound::Unsent { room, event } => self.core.unsent(&room, event, now),
            Inbound::Claimed {
                room,
                ticket,
                claim,
            } => self.core.claimed(&room, ticket, claim, now),
            Inbound::Reclaimed {
                room,
                ticket,
                claims,
            } => self.core.reclaimed(&room, ticket, claims, now),
            Inbound::Opened(state) => self.core.opened(state, now),
            // (The cluster logged the cause, once.)
            Inbound::Down { cause } => {
                self.peers.cut_off = Some(cause);
                self.core.peers_lost(now);
            }
            Inbound::Up(states) => {
                self.peers.cut_off = None;
                self.core.peers_back(Some(states), now);
            }
            Inbound::Resync => self.core.peers_back(None, now),
        }
    }
}

/// The answer to `claim` when there is no Redis to ask.
fn offline(claim: &ClaimOp) -> Now {
    match claim {
        ClaimOp::Reclaim { nicks } => Now::Claims(vec![Claim::Offline; nicks.len()]),
        _ => Now::Claim(Claim::Offline),
    }
}
