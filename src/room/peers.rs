//! With `--redis`: a room shared with other instances. Owns each room's
//! [`Peers`]: the other instances' members (for presence, `/msg` and free
//! names), the room's last sequence number, and the claims on their way.
//!
//! The core never waits for Redis. A claim (a newcomer's name, a `/nick`,
//! our names again after an outage) is an [`Output::Claim`] with a ticket;
//! its answer comes back later as an input ([`Room::claimed`]), while the
//! room goes on serving everyone else. Everything the whole room hears is
//! published ([`Room::publish`]) and announced here only when it comes back
//! ([`Room::receive`]), so every instance has one order, and an event's id
//! is the sequence number Redis gave it. A newcomer enters when its own
//! join comes back: it gets the history up to its arrival, then everything
//! after, like a newcomer anywhere else. While Redis is away the room serves
//! its own members ([`Room::peers_lost`]) and claims their names again when
//! it is back ([`Room::resync`]).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use super::history::History;
use super::path::SessionId;
use super::room::Room;
use super::{ClaimOp, ClientId, Output};
use crate::event::{Claim, Envelope, Event, RoomState, What};
use crate::nickname::fold;
use crate::protocol::{self, close};

/// How many `user-N` a newcomer may be refused (held on another
/// instance) before it is let in locally.
const NAME_TRIES: u32 = 16;

/// A client about to enter a room, with the name it will have.
pub struct Newcomer<H> {
    pub id: ClientId,
    pub peer: SocketAddr,
    pub handle: H,
    pub session: Option<SessionId>,
    pub number: Option<u32>,
    pub nickname: String,
    /// It comes in as a teacher (through the lobby, with the key).
    pub teacher: bool,
}

/// A room's view of the other instances, and its claims in flight.
pub struct Peers<H> {
    /// Whether the room's state has come (see [`Room::reseed`]): until it
    /// has, events that come back wait in `early`, so no newcomer is
    /// greeted without the history.
    opened: bool,
    early: Vec<Envelope>,
    /// The sequence number of the last event received: anything at or
    /// below it is already here.
    seq: u64,
    /// Members on other instances: folded nickname -> (arrival, nickname).
    names: HashMap<String, (u64, String)>,
    /// The same, by arrival, for the presence line.
    arrivals: BTreeMap<u64, String>,
    next_ticket: u64,
    /// Newcomers whose name is being claimed, by ticket, with the tries so far.
    claiming: HashMap<u64, (Newcomer<H>, u32)>,
    /// Newcomers that left while their name was being claimed: if the
    /// claim is granted, the name is given back.
    abandoned: HashMap<u64, String>,
    /// Newcomers whose join was published, by its sequence number.
    joining: HashMap<u64, Newcomer<H>>,
    /// `/nick` claims: ticket -> (member, old, new).
    renames: HashMap<u64, (ClientId, String, String)>,
    /// Reclaims after an outage: ticket -> our members, in order.
    reclaims: HashMap<u64, Vec<(ClientId, String)>>,
}

impl<H> Default for Peers<H> {
    fn default() -> Self {
        Peers {
            opened: false,
            early: Vec::new(),
            seq: 0,
            names: HashMap::new(),
            arrivals: BTreeMap::new(),
            next_ticket: 0,
            claiming: HashMap::new(),
            abandoned: HashMap::new(),
            joining: HashMap::new(),
            renames: HashMap::new(),
            reclaims: HashMap::new(),
        }
    }
}

impl<H> Peers<H> {
    fn add(&mut self, arrival: u64, nick: &str) {
        self.arrivals.insert(arrival, nick.to_owned());
        self.names.insert(fold(nick), (arrival, nick.to_owned()));
    }

    fn remove(&mut self, nick: &str) -> Option<(u64, String)> {
        let (arrival, nick) = self.names.remove(&fold(nick))?;
        self.arrivals.remove(&arrival);
        Some((arrival, nick))
    }

    fn ticket(&mut self) -> u64 {
        self.next_ticket += 1;
        self.next_ticket
    }

    /// The other instances' members, by arrival.
    pub fn arrivals(&self) -> impl Iterator<Item = (u64, &str)> {
        self.arrivals.iter().map(|(&a, n)| (a, n.as_str()))
    }
}

impl<H: Clone> Room<H> {
    /// Share this room: ask Redis for its state (it comes back as
    /// [`Room::reseed`]).
    pub(super) fn open(&mut self) {
        self.peers = Some(Peers::default());
        self.out.push(Output::Open(self.name.clone()));
    }

    /// A number for a `user-N` that no member here or elsewhere has.
    pub(super) fn free_number(&mut self) -> Option<u32> {
        for _ in 0..NAME_TRIES {
            let n = self.members.free_number(&mut self.rng)?;
            if !self.held_elsewhere(&protocol::nickname(n)) {
                return Some(n);
            }
        }
        self.members.free_number(&mut self.rng)
    }

    /// Whether a member on another instance has `nick` (ignoring case).
    pub(super) fn held_elsewhere(&self, nick: &str) -> bool {
        self.peers
            .as_ref()
            .is_some_and(|p| p.names.contains_key(&fold(nick)))
    }

    /// The nickname of the member on another instance called `nick`.
    pub(super) fn peer_named(&self, nick: &str) -> Option<String> {
        let peers = self.peers.as_ref()?;
        peers.names.get(&fold(nick)).map(|(_, n)| n.clone())
    }

    /// Claim the newcomer's name; it enters when its join comes back.
    pub(super) fn claim_join(&mut self, newcomer: Newcomer<H>) {
        self.claim_join_try(newcomer, 1);
    }

    fn claim_join_try(&mut self, newcomer: Newcomer<H>, tries: u32) {
        let Some(peers) = self.peers.as_mut() else {
            return self.enter(newcomer, None);
        };
        let ticket = peers.ticket();
        let claim = ClaimOp::Join {
            nick: newcomer.nickname.clone(),
            session: newcomer.session.as_ref().map(|s| s.as_secret().to_owned()),
        };
        peers.claiming.insert(ticket, (newcomer, tries));
        self.out.push(Output::Claim {
            room: self.name.clone(),
            ticket,
            claim,
        });
    }

    /// Claim `new` for member `id`, called `old`.
    pub(super) fn claim_rename(&mut self, id: ClientId, old: &str, new: &str) {
        let session = self
            .members
            .get(id)
            .and_then(|m| m.session.as_ref())
            .map(|s| s.as_secret().to_owned());
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        let ticket = peers.ticket();
        peers
            .renames
            .insert(ticket, (id, old.to_owned(), new.to_owned()));
        self.out.push(Output::Claim {
            room: self.name.clone(),
            ticket,
            claim: ClaimOp::Rename {
                old: old.to_owned(),
                new: new.to_owned(),
                session,
            },
        });
    }

    /// The answer to a join or rename claim.
    pub fn claimed(&mut self, ticket: u64, claim: Claim) {
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        if let Some((id, old, new)) = peers.renames.remove(&ticket) {
            return match claim {
                // Ours: the rename line comes back through Redis.
                Claim::Granted(_) | Claim::Restored(..) => self.rename(id, &new, false),
                Claim::Held | Claim::Taken => self.tell(id, &[&protocol::is_taken(&new)]),
                Claim::Offline if self.nickname(id) == Some(old.as_str()) => {
                    self.rename(id, &new, true)
                }
                Claim::Offline => {}
            };
        }
        if let Some(nick) = peers.abandoned.remove(&ticket) {
            // The newcomer went before its name was granted: give it back.
            if matches!(claim, Claim::Granted(_)) {
                self.publish(What::Leave { nick });
            }
            return;
        }
        let Some((mut newcomer, tries)) = peers.claiming.remove(&ticket) else {
            return; // entered already (its join came back first)
        };
        match claim {
            Claim::Granted(seq) | Claim::Restored(seq, _) if seq <= peers.seq => {
                // Its join came back before this answer, under another name.
                if let Claim::Restored(_, nick) = claim {
                    newcomer.number = number_of(&nick);
                    newcomer.nickname = nick;
                }
                self.enter_as(newcomer, Some(seq), false);
            }
            Claim::Granted(seq) => {
                peers.joining.insert(seq, newcomer);
            }
            Claim::Restored(seq, nick) => {
                self.log(
                    log::Level::Info,
                    format!(
                        "room {}: a session came back from a lost instance as {nick}",
                        self.name
                    ),
                );
                newcomer.number = number_of(&nick);
                newcomer.nickname = nick;
                if let Some(peers) = self.peers.as_mut() {
                    peers.joining.insert(seq, newcomer);
                }
            }
            Claim::Offline => self.enter(newcomer, None),
            // Held here already (a stale claim of ours) or elsewhere.
            Claim::Held | Claim::Taken if tries < NAME_TRIES => match self.free_number() {
                Some(n) => {
                    newcomer.number = Some(n);
                    newcomer.nickname = protocol::nickname(n);
                    self.claim_join_try(newcomer, tries + 1);
                }
                None => self.turn_away(newcomer),
            },
            Claim::Held | Claim::Taken => self.turn_away(newcomer),
        }
    }

    /// A newcomer for whom no name could be had.
    fn turn_away(&mut self, newcomer: Newcomer<H>) {
        self.log(
            log::Level::Warn,
            format!(
                "room {}: no free nickname for {}, closing it",
                self.name, newcomer.peer
            ),
        );
        self.out.push(Output::Close {
            to: newcomer.handle,
            code: close::GOING_AWAY,
            reason: "room is full",
        });
    }

    /// If `id` is a newcomer whose name or join is on its way, forget it
    /// (its connection ended first) and free its name. Returns whether it
    /// was.
    pub(super) fn forget_newcomer(&mut self, id: ClientId) -> bool {
        let Some(peers) = self.peers.as_mut() else {
            return false;
        };
        if let Some(ticket) = peers
            .claiming
            .iter()
            .find(|(_, (n, _))| n.id == id)
            .map(|(&t, _)| t)
        {
            if let Some((newcomer, _)) = peers.claiming.remove(&ticket) {
                peers.abandoned.insert(ticket, newcomer.nickname);
            }
            return true;
        }
        let Some(seq) = peers
            .joining
            .iter()
            .find(|(_, n)| n.id == id)
            .map(|(&s, _)| s)
        else {
            return false;
        };
        if let Some(newcomer) = peers.joining.remove(&seq) {
            // Its join will come back and be announced; so is this leave.
            self.publish(What::Leave {
                nick: newcomer.nickname,
            });
        }
        true
    }

    /// Whether a newcomer's name or join is on its way through Redis.
    pub(super) fn has_newcomers(&self) -> bool {
        self.peers
            .as_ref()
            .is_some_and(|p| !p.claiming.is_empty() || !p.joining.is_empty())
    }

    /// At shutdown: newcomers still on their way are closed with 1001.
    pub(super) fn close_newcomers(&mut self) {
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        let waiting: Vec<H> = peers
            .claiming
            .drain()
            .map(|(_, (n, _))| n.handle)
            .chain(peers.joining.drain().map(|(_, n)| n.handle))
            .collect();
        for to in waiting {
            self.out.push(Output::Close {
                to,
                code: close::GOING_AWAY,
                reason: "server shutting down",
            });
        }
    }

    /// An event that came back from Redis, in the room's order.
    pub fn receive(&mut self, envelope: Envelope) {
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        if !peers.opened {
            return peers.early.push(envelope);
        }
        if envelope.seq <= peers.seq {
            return; // already in the state this room started from
        }
        peers.seq = envelope.seq;
        let seq = envelope.seq;
        let mut event = envelope.event;
        event.id = seq;
        match (&event.what, envelope.mine) {
            (What::Join { nick }, true) => {
                if let Some(newcomer) = peers.joining.remove(&seq) {
                    return self.enter(newcomer, Some(seq));
                }
                // Its answer may still be on its way: the join came first.
                let key = fold(nick);
                let waiting = peers
                    .claiming
                    .iter()
                    .find(|(_, (n, _))| fold(&n.nickname) == key)
                    .map(|(&t, _)| t);
                if let Some((newcomer, _)) = waiting.and_then(|t| peers.claiming.remove(&t)) {
                    return self.enter(newcomer, Some(seq));
                }
                if self.members.by_nick(nick).is_none() {
                    // A newcomer that left before its join came back: the
                    // others hear both, so do the members here.
                    self.announce_event(event);
                }
                // Else a member of ours claimed again after an outage.
            }
            (What::Join { nick }, false) => {
                peers.add(seq, nick);
                self.announce_event(event);
            }
            (What::Leave { nick }, false) => {
                peers.remove(nick);
                self.announce_event(event);
            }
            (What::Rename { from, to }, false) => {
                let arrival = peers.remove(from).map_or(seq, |(a, _)| a);
                peers.add(arrival, to);
                self.announce_event(event);
            }
            (What::Rename { from, to }, true) => {
                // Ours: if the claim's answer is still on its way, rename now.
                let ticket = peers
                    .renames
                    .iter()
                    .find(|(_, (_, old, new))| old == from && new == to)
                    .map(|(&t, _)| t);
                if let Some((id, _, new)) = ticket.and_then(|t| peers.renames.remove(&t)) {
                    self.rename(id, &new, false);
                }
                self.announce_event(event);
            }
            (What::Private { .. }, _) => self.deliver_private(event.what),
            (what, mine) if is_rule(what) => {
                if let What::Removed { nick, .. } = what {
                    // Its name is free again (Redis freed it with this).
                    peers.remove(nick);
                }
                if let What::Renamed { from, to, .. } = what {
                    if let Some((arrival, _)) = peers.remove(from) {
                        peers.add(arrival, to);
                    }
                }
                if !mine {
                    self.apply_rule(&event);
                }
                self.announce_event(event);
            }
            _ => self.announce_event(event),
        }
    }

    /// A published event that could not be sent: deliver it here.
    pub fn apply_unsent(&mut self, event: Event) {
        match event.what {
            What::Private { .. } => self.deliver_private(event.what),
            _ => self.announce_event(Event { id: 0, ..event }),
        }
    }

    /// Take the other instances' members, the sequence number and the
    /// history from `state`.
    pub fn reseed(&mut self, state: &RoomState) {
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        peers.seq = state.seq;
        let early = std::mem::take(&mut peers.early);
        let first = !std::mem::replace(&mut peers.opened, true);
        // Newcomers granted a name whose join is in this state already: its
        // line came back during the outage, or will be dropped as old, so
        // they would wait for it forever. Let them in below.
        let mut arrived: Vec<u64> = peers
            .joining
            .keys()
            .copied()
            .filter(|&seq| seq <= peers.seq)
            .collect();
        arrived.sort_unstable();
        let arrived: Vec<_> = arrived
            .into_iter()
            .filter_map(|seq| peers.joining.remove(&seq).map(|n| (seq, n)))
            .collect();
        peers.names.clear();
        peers.arrivals.clear();
        // Arrival order is the list's order; their sequence numbers are
        // not in the snapshot, so number them below any live join.
        for (i, holder) in state.here.iter().enumerate() {
            if !holder.mine {
                peers.add(i as u64, &holder.nick);
            }
        }
        self.last_id = self.last_id.max(state.seq);
        if !state.history.is_empty() || state.seq > 0 {
            self.history = History::new(self.settings.history_lines);
            for line in &state.history {
                self.history.push(Arc::new(line.clone()));
            }
        }
        for (seq, newcomer) in arrived {
            self.enter(newcomer, Some(seq));
        }
        if first {
            // What came back before the state, after it.
            for envelope in early {
                self.receive(envelope);
            }
        }
    }

    /// Whether the room waits for its state.
    fn opening(&self) -> bool {
        self.peers.as_ref().is_some_and(|p| !p.opened)
    }

    /// Redis went away: let the newcomers whose join was granted in, and
    /// tell everyone once. Until it is back, the room serves its own
    /// members alone. (Claims still on their way are answered `Offline`.)
    pub fn peers_lost(&mut self) {
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        let mut waiting: Vec<_> = peers.joining.drain().collect();
        waiting.sort_by_key(|&(seq, _)| seq);
        if self.opening() {
            self.reseed(&RoomState::default());
        }
        if !self.members.is_empty() {
            self.announce(
                0,
                What::Notice {
                    text: protocol::RECONNECTING.to_owned(),
                },
            );
        }
        for (_, newcomer) in waiting {
            self.enter(newcomer, None);
        }
    }

    /// Redis is back (`state`: the room as it holds it now), or our lease
    /// lapsed (`None`): start again from its view, and claim again the
    /// names of our members, in order of arrival (which also frees the
    /// names of those who left or took another name meanwhile).
    pub fn resync(&mut self, state: Option<&RoomState>) {
        if self.peers.is_none() {
            return;
        }
        if let Some(state) = state {
            self.reseed(state);
        }
        let mut ours: Vec<(u64, ClientId, String)> = self
            .members
            .iter()
            .map(|(&id, m)| (m.arrival, id, m.nickname.clone()))
            .collect();
        // (Even with no member left: the claim frees the names they had.)
        ours.sort_unstable();
        let ours: Vec<(ClientId, String)> = ours.into_iter().map(|(_, id, n)| (id, n)).collect();
        let nicks = ours.iter().map(|(_, nick)| nick.clone()).collect();
        let Some(peers) = self.peers.as_mut() else {
            return;
        };
        let ticket = peers.ticket();
        peers.reclaims.insert(ticket, ours);
        self.out.push(Output::Claim {
            room: self.name.clone(),
            ticket,
            claim: ClaimOp::Reclaim { nicks },
        });
    }

    /// The answer to a reclaim: a name another instance handed out while
    /// Redis was away is given up for a fresh `user-N`.
    pub fn reclaimed(&mut self, ticket: u64, claims: Vec<Claim>) {
        let Some(ours) = self.peers.as_mut().and_then(|p| p.reclaims.remove(&ticket)) else {
            return;
        };
        for ((id, nick), claim) in ours.into_iter().zip(claims) {
            if claim != Claim::Taken || self.nickname(id) != Some(nick.as_str()) {
                continue;
            }
            let Some(n) = self.free_number() else {
                continue;
            };
            let new = protocol::nickname(n);
            if self.members.rename(id, &new).is_err() {
                continue;
            }
            self.log(
                log::Level::Info,
                format!(
                    "room {}: {nick} was taken meanwhile elsewhere; now {new}",
                    self.name
                ),
            );
            // Claimed for the others (its answer needs nothing more).
            if let Some(peers) = self.peers.as_mut() {
                let ticket = peers.ticket();
                self.out.push(Output::Claim {
                    room: self.name.clone(),
                    ticket,
                    claim: ClaimOp::Join {
                        nick: new.clone(),
                        session: None,
                    },
                });
            }
            self.announce(
                0,
                What::Rename {
                    from: nick,
                    to: new,
                },
            );
        }
    }
}

/// Whether `what` is a teacher's room line (a rule every instance applies).
fn is_rule(what: &What) -> bool {
    matches!(
        what,
        What::Role { .. }
            | What::Removed { .. }
            | What::Muted { .. }
            | What::Unmuted { .. }
            | What::Lock { .. }
            | What::Quiet { .. }
            | What::Slow { .. }
            | What::Renamed { .. }
            | What::Delete { .. }
            | What::Clear { .. }
            | What::Pin { .. }
    )
}

/// N, if `nick` is `user-N`.
fn number_of(nick: &str) -> Option<u32> {
    nick.strip_prefix("user-").and_then(|n| n.parse().ok())
}
