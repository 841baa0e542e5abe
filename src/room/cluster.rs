//! The room side of scale-out (issue 15): what a room does differently
//! when this instance shares its rooms with others through Redis. Runs on
//! the room thread; owns each room's [`Remote`]: the other instances'
//! members (for presence, `/msg` and free names), the room's last sequence
//! number, and the newcomers whose join is on its way through Redis.
//!
//! The rule: everything the whole room hears is published, and delivered
//! here only when it comes back from the subscription ([`Room::receive`]),
//! so every instance delivers a room's lines in one order. A newcomer
//! enters when its own join comes back: it gets the history up to its
//! arrival, then everything after, like a newcomer anywhere else. While
//! Redis is away, the room serves its own members locally
//! ([`Room::redis_lost`]) and claims their names again when it is back
//! ([`Room::resync`]).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use super::chat::{Broadcast, Room};
use super::commands::fold;
use super::history::History;
use super::path::SessionId;
use super::ClientId;
use crate::cluster::{Claim, Envelope, Link, Record, RoomState, Unsent};
use crate::outbox::Outbox;
use crate::protocol::{self, close};

/// Told once to every member when Redis goes away.
pub const RECONNECTING: &str = " .... the server is reconnecting to its peers.";
/// How many `user-N` a newcomer may be refused (held on another
/// instance) before it is let in locally.
const NAME_TRIES: usize = 16;

/// A room's view of the other instances.
pub struct Remote {
    link: Link,
    room: String,
    /// The sequence number of the last event applied: anything at or below
    /// it is already here (from the room's state, read when it opened).
    seq: u64,
    /// Members on other instances: folded nickname -> (arrival, nickname).
    peers: HashMap<String, (u64, String)>,
    /// The same, by arrival, for the presence line.
    arrivals: BTreeMap<u64, String>,
    /// Newcomers whose join was published, by its sequence number.
    joining: HashMap<u64, Newcomer>,
}

/// A client about to enter a room, with the name it will have.
pub struct Newcomer {
    pub id: ClientId,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    pub session: Option<SessionId>,
    pub number: Option<u32>,
    pub nickname: String,
}

/// Where a claim leaves a change: published (it will come back), or to be
/// applied here now (no Redis, or Redis away), or refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Published,
    Local,
    Taken,
}

impl Remote {
    fn add_peer(&mut self, arrival: u64, nick: &str) {
        self.arrivals.insert(arrival, nick.to_owned());
        self.peers.insert(fold(nick), (arrival, nick.to_owned()));
    }

    fn remove_peer(&mut self, nick: &str) -> Option<(u64, String)> {
        let (arrival, nick) = self.peers.remove(&fold(nick))?;
        self.arrivals.remove(&arrival);
        Some((arrival, nick))
    }
}

impl Room {
    /// Share this room through `link`: read its state from Redis (one
    /// round trip) and start from it.
    pub(super) fn attach(&mut self, link: Link) {
        let room = self.name.to_string();
        let state = link.room_state(&room);
        self.remote = Some(Remote {
            link,
            room,
            seq: 0,
            peers: HashMap::new(),
            arrivals: BTreeMap::new(),
            joining: HashMap::new(),
        });
        if let Some(state) = state {
            self.reseed(&state);
        }
    }

    /// Take the other instances' members, the sequence number and the
    /// history from `state`.
    pub(super) fn reseed(&mut self, state: &RoomState) {
        let Some(remote) = self.remote.as_mut() else {
            return;
        };
        remote.seq = state.seq;
        remote.peers.clear();
        remote.arrivals.clear();
        let me = remote.link.instance().to_owned();
        // Arrival order is the list's order; their sequence numbers are
        // not in the snapshot, so number them below any live join.
        for (i, holder) in state.here.iter().enumerate() {
            if holder.instance != me {
                remote.add_peer(i as u64, &holder.nick);
            }
        }
        if !state.history.is_empty() || state.seq > 0 {
            self.history = History::new(self.settings.history_lines);
            for line in &state.history {
                self.history.push(&[line.as_bytes()]);
            }
        }
    }

    /// A number for a `user-N` that no member here or elsewhere has.
    pub(super) fn free_number(&self) -> Option<u32> {
        for _ in 0..NAME_TRIES {
            let n = self.members.free_number()?;
            if !self.held_elsewhere(&protocol::nickname(n)) {
                return Some(n);
            }
        }
        self.members.free_number()
    }

    /// Whether a member on another instance has `nick` (ignoring case).
    pub(super) fn held_elsewhere(&self, nick: &str) -> bool {
        self.remote
            .as_ref()
            .is_some_and(|r| r.peers.contains_key(&fold(nick)))
    }

    /// Claim the newcomer's name in Redis and publish its join; it enters
    /// when the join comes back. Returns it if it must enter now instead
    /// (no Redis, or Redis away).
    pub(super) fn join_through_redis(&mut self, mut newcomer: Newcomer) -> Option<Newcomer> {
        let Some(remote) = self.remote.as_ref() else {
            return Some(newcomer);
        };
        for _ in 0..NAME_TRIES {
            let session = newcomer.session.as_ref().map(SessionId::as_secret);
            let claim = remote.link.join(&remote.room, &newcomer.nickname, session);
            match claim {
                Claim::Granted(seq) => {
                    if let Some(remote) = self.remote.as_mut() {
                        remote.joining.insert(seq, newcomer);
                    }
                    return None;
                }
                Claim::Restored(seq, nick) => {
                    // A resume after its instance died: its name again.
                    log::info!(
                        "room {}: a session came back from a lost instance as {nick}",
                        self.name
                    );
                    newcomer.number = nick.strip_prefix("user-").and_then(|n| n.parse().ok());
                    newcomer.nickname = nick;
                    if let Some(remote) = self.remote.as_mut() {
                        remote.joining.insert(seq, newcomer);
                    }
                    return None;
                }
                Claim::Offline => return Some(newcomer),
                // Held here already (a stale claim of ours) or elsewhere:
                // another number.
                Claim::Held | Claim::Taken => {
                    let Some(n) = self.free_number() else { break };
                    newcomer.number = Some(n);
                    newcomer.nickname = protocol::nickname(n);
                }
            }
        }
        log::warn!(
            "room {}: no free nickname for {}, closing it",
            self.name,
            newcomer.peer
        );
        newcomer.outbox.close(close::GOING_AWAY, "room is full");
        None
    }

    /// If `id` is a newcomer whose join is on its way, forget it (its
    /// connection ended first) and free its name. Returns whether it was.
    pub(super) fn forget_newcomer(&mut self, id: ClientId) -> bool {
        let Some(remote) = self.remote.as_mut() else {
            return false;
        };
        let Some(&seq) = remote
            .joining
            .iter()
            .find(|(_, n)| n.id == id)
            .map(|(s, _)| s)
        else {
            return false;
        };
        if let Some(newcomer) = remote.joining.remove(&seq) {
            // Its join will come back and be announced; so is this leave.
            if let Err(Unsent(record)) = remote.link.leave(&remote.room, &newcomer.nickname) {
                self.apply_record(record);
            }
        }
        true
    }

    /// Whether a newcomer's join is on its way through Redis.
    pub(super) fn has_newcomers(&self) -> bool {
        self.remote.as_ref().is_some_and(|r| !r.joining.is_empty())
    }

    /// At shutdown: newcomers still on their way are closed with 1001.
    pub(super) fn close_newcomers(&mut self) {
        if let Some(remote) = self.remote.as_mut() {
            for (_, newcomer) in remote.joining.drain() {
                newcomer
                    .outbox
                    .close(close::GOING_AWAY, "server shutting down");
            }
        }
    }

    /// Claim `new` for member `id`, called `old`, publishing the rename.
    pub(super) fn rename_through_redis(&self, id: ClientId, old: &str, new: &str) -> Verdict {
        let Some(remote) = self.remote.as_ref() else {
            return Verdict::Local;
        };
        let session = self.members.get(id).and_then(|m| m.session.as_ref());
        match remote
            .link
            .rename(&remote.room, old, new, session.map(SessionId::as_secret))
        {
            Claim::Granted(_) | Claim::Restored(..) => Verdict::Published,
            Claim::Held | Claim::Taken => Verdict::Taken,
            Claim::Offline => Verdict::Local,
        }
    }

    /// Send a broadcast through Redis; false if it is to be applied here
    /// now (no Redis, Redis away, or a line that needs no peer).
    pub(super) fn relay(&mut self, line: &Broadcast<'_>) -> bool {
        let Some(remote) = self.remote.as_ref() else {
            return false;
        };
        let sent = match *line {
            Broadcast::Chat { nick, text } => remote.link.publish(
                &remote.room,
                Record::Line {
                    text: protocol::chat_line(nick, text).concat(),
                },
            ),
            Broadcast::Action { nick, action } => remote.link.publish(
                &remote.room,
                Record::Line {
                    text: protocol::action_line(nick, action).concat(),
                },
            ),
            Broadcast::Left(nick) => remote.link.leave(&remote.room, nick),
            _ => return false,
        };
        if let Err(Unsent(record)) = sent {
            self.apply_record(record);
        }
        true
    }

    /// `/msg` with Redis: to a member here or on another instance, through
    /// the room's channel (the instances holding the two deliver it).
    pub(super) fn private_through_redis(&mut self, id: ClientId, to: &str, text: &str) -> bool {
        let Some(remote) = self.remote.as_ref() else {
            return false;
        };
        let Some(from) = self.nickname(id).map(str::to_owned) else {
            return true;
        };
        let to = match self.members.by_nick(to) {
            Some(target) => self.nickname(target).map(str::to_owned),
            None => remote.peers.get(&fold(to)).map(|(_, nick)| nick.clone()),
        };
        let Some(to) = to else {
            return false; // no one by that name: the usual answer
        };
        let record = Record::Private {
            text: protocol::private_line(&from, &to, text),
            from,
            to,
        };
        if let Err(Unsent(record)) = remote.link.publish(&remote.room, record) {
            self.apply_record(record);
        }
        true
    }

    /// An event that came back from Redis, in the room's order.
    pub(super) fn receive(&mut self, envelope: Envelope) {
        let Some(remote) = self.remote.as_mut() else {
            return;
        };
        if envelope.seq <= remote.seq {
            return; // already in the state this room started from
        }
        if envelope.seq > remote.seq + 1 && remote.seq > 0 {
            log::debug!(
                "room {}: events {}..{} not seen",
                self.name,
                remote.seq + 1,
                envelope.seq
            );
        }
        remote.seq = envelope.seq;
        let mine = envelope.instance == remote.link.instance();
        match envelope.record {
            Record::Joined { nick } if mine => {
                if let Some(newcomer) = remote.joining.remove(&envelope.seq) {
                    self.enter(newcomer, Some(envelope.seq));
                } else if self.members.by_nick(&nick).is_none() {
                    // A newcomer that left before its join came back: the
                    // others hear both, so do the members here.
                    self.apply(&Broadcast::Joined(&nick));
                }
                // Else a member of ours claimed again after an outage:
                // the others are told, we knew.
            }
            Record::Joined { nick } => {
                remote.add_peer(envelope.seq, &nick);
                self.apply(&Broadcast::Joined(&nick));
            }
            Record::Left { nick } if !mine => {
                remote.remove_peer(&nick);
                self.apply(&Broadcast::Left(&nick));
            }
            Record::Renamed { old, new } if !mine => {
                let arrival = remote.remove_peer(&old).map_or(envelope.seq, |(a, _)| a);
                remote.add_peer(arrival, &new);
                self.apply(&Broadcast::Renamed {
                    old: &old,
                    new: &new,
                });
            }
            record => self.apply_record(record),
        }
    }

    /// Deliver a record to the members here: one that came back, or one
    /// that could not be published.
    pub(super) fn apply_record(&mut self, record: Record) {
        match record {
            Record::Line { text } => self.apply(&Broadcast::Relayed(&text)),
            Record::Left { nick } => self.apply(&Broadcast::Left(&nick)),
            Record::Joined { nick } => self.apply(&Broadcast::Joined(&nick)),
            Record::Renamed { old, new } => self.apply(&Broadcast::Renamed {
                old: &old,
                new: &new,
            }),
            Record::Private { from, to, text } => {
                let target = self.members.by_nick(&to);
                let sender = self.members.by_nick(&from).filter(|&s| Some(s) != target);
                for id in [target, sender].into_iter().flatten() {
                    self.tell(id, &[&text]);
                }
            }
        }
    }

    /// The presence line, with the members of every instance.
    pub(super) fn presence(&self) -> String {
        let Some(remote) = self.remote.as_ref().filter(|r| !r.peers.is_empty()) else {
            return self.members.presence();
        };
        let mut all: Vec<(u64, &str)> = self.members.arrivals().collect();
        all.extend(remote.arrivals.iter().map(|(&a, n)| (a, n.as_str())));
        all.sort_unstable_by_key(|&(arrival, _)| arrival);
        protocol::here_now(all.len(), all.into_iter().map(|(_, nick)| nick))
    }

    /// Redis went away: let the waiting newcomers in, and tell everyone
    /// once. Until it is back, the room serves its own members alone.
    pub(super) fn redis_lost(&mut self) {
        let Some(remote) = self.remote.as_mut() else {
            return;
        };
        let mut waiting: Vec<_> = remote.joining.drain().collect();
        waiting.sort_by_key(|&(seq, _)| seq);
        if !self.members.is_empty() {
            self.apply(&Broadcast::System(RECONNECTING));
        }
        for (_, newcomer) in waiting {
            self.enter(newcomer, None);
        }
    }

    /// Redis is back (`state`: the room as Redis has it now, `None` if it
    /// has nothing of it), or our lease lapsed: start again from Redis's
    /// view, and claim again the names of our members. A name another
    /// instance took meanwhile is given up for a fresh `user-N`.
    pub(super) fn resync(&mut self, state: Option<&RoomState>) {
        let Some(remote) = self.remote.as_ref() else {
            return;
        };
        let (link, room) = (remote.link.clone(), remote.room.clone());
        if let Some(state) = state {
            self.reseed(state);
        }
        // In order of arrival, so Redis lists them in that order again.
        let mut ours: Vec<(u64, ClientId, String)> = self
            .members
            .by_id
            .iter()
            .map(|(&id, m)| (m.arrival, id, m.nickname.clone()))
            .collect();
        ours.sort_unstable();
        let ours: Vec<(ClientId, String)> = ours.into_iter().map(|(_, id, n)| (id, n)).collect();
        let nicks = ours.iter().map(|(_, nick)| nick.clone()).collect();
        let claims = link.reclaim(&room, nicks);
        for ((id, nick), claim) in ours.into_iter().zip(claims) {
            if claim != Claim::Taken {
                continue;
            }
            // Another instance handed the name out while Redis was away.
            let Some(n) = self.free_number() else {
                continue;
            };
            let new = protocol::nickname(n);
            if self.members.rename(id, &new).is_ok() {
                log::info!(
                    "room {}: {nick} was taken meanwhile elsewhere; now {new}",
                    self.name
                );
                if link.join(&room, &new, None) == Claim::Offline {
                    continue;
                }
                self.apply(&Broadcast::Renamed {
                    old: &nick,
                    new: &new,
                });
            }
        }
    }
}
