//! One room: its member table, its pending events and its history, and the
//! seed's three handlers. The core hands it one input at a time, with the
//! time ([`Room::at`]); it records what must happen in `out`.
//!
//! The seed's handlers: `handle-new-connection` is [`Room::join`],
//! `broadcast-to-room` is [`Room::message`] (through [`Room::say`]) and
//! `handle-close-connection` is [`Room::leave`].
//!
//! Everything the whole room hears goes through [`Room::announce`]: it
//! gets the room's next id and goes into the pending batch (and, for chat
//! and `/me`, the history). With `--redis`, [`Room::publish`] sends it to
//! the other instances first and it is announced when it comes back
//! (`peers.rs`), so every instance has one order.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::history::History;
use super::lobby::Lobby;
use super::members::{Member, Members};
use super::moderation::Moderation;
use super::path::{JoinCode, RoomName, SessionId};
use super::peers::{Newcomer, Peers};
use super::{Batch, ClientId, LeaveReason, Output, Refused, Settings, Target};
use crate::event::{Event, Present, Time, What};
use crate::protocol::{self, close, PRESENCE_NAMES_JSON};

/// One room. The core drives every room; unit tests drive one through it.
pub struct Room<H> {
    pub(super) name: RoomName,
    pub(super) members: Members<H>,
    /// Events for every member, not yet delivered.
    pub(super) pending: Vec<Arc<Event>>,
    pub(super) history: History,
    pub(super) settings: Settings,
    /// After `shutdown`: no more joins or broadcasts, only goodbyes.
    pub(super) closing: bool,
    /// Away members, by when their grace ends.
    pub(super) away: BTreeSet<(Time, ClientId)>,
    /// With `--redis`: the other instances' view (see `peers.rs`).
    pub(super) peers: Option<Peers<H>>,
    /// The id of the last room event.
    pub(super) last_id: u64,
    /// The time of the input being handled.
    pub(super) now: Time,
    /// What this room asks the broadcaster to do, in order.
    pub(super) out: Vec<Output<H>>,
    /// Ids no longer in this room (removed, or taken over by a resume),
    /// for the core's directory.
    pub(super) gone: Vec<ClientId>,
    /// Nickname numbers and join codes: a cryptographic generator (a join
    /// code must not be guessable from the codes a class has seen), seeded
    /// by the core from the seed the broadcaster takes from the OS.
    pub(super) rng: StdRng,
    /// Where people open the page (for `/transcript`).
    pub(super) page_url: Arc<str>,
    /// Its teachers' rules (see `moderation.rs`).
    pub(super) moderation: Moderation,
    /// Newcomers waiting at the door (see `lobby.rs`).
    pub(super) lobby: Lobby<H>,
}

impl<H: Clone> Room<H> {
    pub fn new(name: RoomName, settings: Settings, seed: u64, now: Time) -> Room<H> {
        Room {
            name,
            members: Members::default(),
            pending: Vec::new(),
            history: History::new(settings.history_lines),
            settings,
            closing: false,
            away: BTreeSet::new(),
            peers: None,
            last_id: 0,
            now,
            out: Vec::new(),
            gone: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            page_url: "http://localhost:8080/".into(),
            moderation: Moderation::default(),
            lobby: Lobby::default(),
        }
    }

    /// Start from what an earlier run kept: ids go on after `last_id`.
    pub fn restore(&mut self, last_id: u64, history: Vec<Event>) {
        self.last_id = self.last_id.max(last_id);
        for line in history {
            self.history.push(Arc::new(line));
        }
    }

    /// This room, for an input that arrives at `now`.
    pub fn at(&mut self, now: Time) -> &mut Room<H> {
        self.now = self.now.max(now);
        self
    }

    /// No member, no one in the lobby, and (with Redis) no newcomer on its
    /// way in.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.lobby.is_empty() && !self.has_newcomers()
    }

    /// The nickname of a member, if it is here.
    pub fn nickname(&self, id: ClientId) -> Option<&str> {
        self.members.get(id).map(|m| m.nickname.as_str())
    }

    /// The seed's `handle-new-connection`: pick a free `user-N`, give the
    /// newcomer the history, who they are and who is here, and tell the
    /// others who arrived. With the `session` of an away member, take that
    /// member back instead (see `resume.rs`); a session a connected member
    /// holds is ignored. A newcomer passes the door first (`lobby.rs`:
    /// bars, the lock, the join `code`, a room waiting for a teacher).
    pub fn join(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        handle: H,
        session: Option<SessionId>,
        code: Option<JoinCode>,
    ) {
        if self.closing {
            return self.out.push(Output::Close {
                to: handle,
                code: close::GOING_AWAY,
                reason: "server shutting down",
            });
        }
        let mut session = session;
        if let Some(s) = &session {
            if self.resume(s, id, peer, &handle) {
                return;
            }
            if self.members.by_session(s).is_some() {
                session = None; // in use by a connected member
            }
        }
        if self.at_the_door(id, peer, &handle, session.as_ref(), code.as_ref()) {
            return;
        }
        self.join_now(id, peer, handle, session, false);
    }

    /// A newcomer past the door: a free `user-N`, then in (as a teacher,
    /// if `teacher`).
    pub(super) fn join_now(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        handle: H,
        session: Option<SessionId>,
        teacher: bool,
    ) {
        let Some(number) = self.free_number() else {
            // Every nickname is taken: only possible with --max-clients above
            // NICKNAME_SPACE. Refuse rather than hand out a duplicate.
            self.log(
                log::Level::Warn,
                format!(
                    "room {}: no free nickname for {peer}, closing it",
                    self.name
                ),
            );
            return self.out.push(Output::Close {
                to: handle,
                code: close::GOING_AWAY,
                reason: "room is full",
            });
        };
        let newcomer = Newcomer {
            id,
            peer,
            handle,
            session,
            number: Some(number),
            nickname: protocol::nickname(number),
            teacher,
        };
        // With Redis, the newcomer enters when its claimed join comes back.
        if self.peers.is_some() {
            return self.claim_join(newcomer);
        }
        self.enter(newcomer, None);
    }

    /// Let a newcomer in: the others hear of it, it gets the history, who
    /// it is and who is here. `arrival`: its join's place in the room's
    /// order across instances, if it came back from Redis.
    pub(super) fn enter(&mut self, newcomer: Newcomer<H>, arrival: Option<u64>) {
        self.enter_as(newcomer, arrival, true);
    }

    /// [`Room::enter`], telling the others (`announce`) or not (the room
    /// had its join line already).
    pub(super) fn enter_as(&mut self, newcomer: Newcomer<H>, arrival: Option<u64>, announce: bool) {
        let Newcomer {
            id,
            peer,
            handle,
            session,
            number,
            nickname,
            teacher,
        } = newcomer;
        self.log(
            log::Level::Info,
            format!("room: {nickname} joined from {peer} (room {})", self.name),
        );
        // The join line is for the others: it goes in the batch before the
        // newcomer does, and the newcomer hears the batch from after it.
        if announce {
            let nick = nickname.clone();
            self.announce(arrival.unwrap_or(0), What::Join { nick });
        }
        let arrival = arrival.unwrap_or_else(|| self.members.arrive());
        self.members.insert(
            id,
            Member {
                nickname,
                number,
                peer,
                handle: Some(handle),
                since: self.pending.len(),
                arrival,
                session,
                missed: None,
                away_until: None,
                teacher,
                last_line: None,
                wrong_keys: 0,
            },
        );
        // To the newcomer alone, at once: history, who they are, who is here.
        let history = self.history.lines();
        self.greet(id, Vec::new(), history, Vec::new());
        if teacher {
            let nick = self.nickname(id).map(str::to_owned).unwrap_or_default();
            self.now_a_teacher(id, nick);
        }
    }

    /// Send `frames` and `history` (or, for a resume, the `missed` events),
    /// then ` .... you are NICK.` and the presence line, to member `id`
    /// alone.
    pub(super) fn greet(
        &mut self,
        id: ClientId,
        frames: Vec<Bytes>,
        history: Vec<Arc<Event>>,
        mut missed: Vec<Arc<Event>>,
    ) {
        let presence = self.presence();
        let Some(member) = self.members.get(id) else {
            return;
        };
        let Some(handle) = member.handle.clone() else {
            return;
        };
        let welcome = self.event(What::Welcome {
            nick: member.nickname.clone(),
            room: self.name.to_string(),
        });
        missed.push(Arc::new(welcome));
        missed.push(Arc::new(presence));
        if let Some(pin) = &self.moderation.pin {
            missed.push(pin.clone());
        }
        self.out.push(Output::Send {
            id,
            to: handle,
            frames,
            history,
            events: missed,
        });
    }

    /// The seed's `broadcast-to-room`: `nick: message` to everyone, sender
    /// included. A line starting with `/` is a command (see `commands.rs`);
    /// only those are parsed.
    pub fn message(&mut self, id: ClientId, text: &str) {
        if self.closing {
            return;
        }
        if self.lobby.contains(id) {
            return self.lobby_message(id, text);
        }
        if text.as_bytes().first() == Some(&b'/') {
            return self.command(id, text);
        }
        if self.may_speak(id, false) {
            self.say(id, text);
        }
    }

    /// `nick: text` to everyone.
    pub(super) fn say(&mut self, id: ClientId, text: &str) {
        if let Some(nick) = self.nickname(id).map(str::to_owned) {
            self.publish(What::Chat {
                nick,
                text: text.to_owned(),
            });
        }
    }

    /// `* nick action` to everyone (`/me`).
    pub(super) fn act(&mut self, id: ClientId, action: &str) {
        if let Some(nick) = self.nickname(id).map(str::to_owned) {
            self.publish(What::Action {
                nick,
                text: action.to_owned(),
            });
        }
    }

    /// Tell the whole room. Without Redis: [`Room::announce`] at once.
    /// With it: sent to Redis, announced when it comes back (`peers.rs`).
    pub(super) fn publish(&mut self, what: What) {
        if self.shared() {
            let event = self.event(what);
            return self.out.push(Output::Publish {
                room: self.name.clone(),
                event,
            });
        }
        self.announce(0, what);
    }

    /// Whether the room's events go through Redis (see [`Room::publish`]).
    pub(super) fn shared(&self) -> bool {
        self.peers.is_some() && !self.closing
    }

    /// Where a room event becomes a line for every member: it gets its id
    /// (`id`, when Redis gave one, or the room's next), goes into the
    /// pending batch and, for chat and `/me`, into the history.
    pub(super) fn announce(&mut self, id: u64, what: What) {
        let time = self.now;
        self.announce_event(Event { id, time, what });
    }

    /// [`Room::announce`] for an event with its time (from another instance).
    pub(super) fn announce_event(&mut self, mut event: Event) {
        self.last_id = if event.id > self.last_id {
            event.id
        } else {
            self.last_id + 1
        };
        event.id = self.last_id;
        let event = Arc::new(event);
        if event.is_kept() {
            self.history.push(event.clone());
        }
        self.pending.push(event);
        if self.pending.len() >= MAX_BATCH_EVENTS {
            self.out.push(Output::Deliver(self.name.clone()));
        }
    }

    /// The seed's `handle-close-connection`: remove the member first, then
    /// tell everyone left. A member with a session whose connection dropped
    /// (no close frame) goes away instead, silently, for the resume grace
    /// (see `resume.rs`). A second leave for the same id does nothing, so
    /// the leave line goes out exactly once however the client went.
    pub fn leave(&mut self, id: ClientId, reason: &LeaveReason) {
        if self.lobby.remove(id).is_some() {
            return self.gone.push(id);
        }
        if self.forget_newcomer(id) || self.go_away(id, reason) {
            return;
        }
        if self.members.get(id).is_some_and(|m| m.away_until.is_some()) {
            return; // away already: its grace decides
        }
        self.remove_and_announce(id, &reason.to_string());
    }

    /// Remove member `id`, log why, and tell the others it left (unless
    /// the server is stopping). Returns the member, if it was here.
    pub(super) fn remove_and_announce(&mut self, id: ClientId, why: &str) -> Option<Member<H>> {
        let member = self.members.remove(id)?;
        self.gone.push(id);
        if let Some(until) = member.away_until {
            self.away.remove(&(until, id));
        }
        self.log(
            log::Level::Info,
            format!(
                "room: {} left ({}, room {}): {why}",
                member.nickname, member.peer, self.name
            ),
        );
        if !self.closing {
            self.publish(What::Leave {
                nick: member.nickname.clone(),
            });
        }
        Some(member)
    }

    /// Send what was accepted, then close every client with 1001.
    pub fn shutdown(&mut self) {
        self.deliver_now();
        self.closing = true;
        self.close_newcomers();
        self.close_lobby();
        let handles: Vec<H> = self
            .members
            .iter()
            .filter_map(|(_, m)| m.handle.clone())
            .collect();
        for to in handles {
            self.out.push(Output::Close {
                to,
                code: close::GOING_AWAY,
                reason: "server shutting down",
            });
        }
    }

    /// Whether events wait for delivery.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Ask for the pending batch to be delivered before what follows.
    pub(super) fn deliver_now(&mut self) {
        if self.has_pending() {
            self.out.push(Output::Deliver(self.name.clone()));
        }
    }

    /// The pending events and the members to send them to (see
    /// [`super::Core::take_batch`]).
    pub fn take_batch(&mut self) -> Option<Batch<'_, H>> {
        if self.pending.is_empty() {
            return None;
        }
        let events = std::mem::take(&mut self.pending);
        let limit = self.settings.outbox_lines;
        let mut overflowed = Vec::new();
        for (&id, member) in self.members.iter_mut() {
            if member.handle.is_none() {
                // Away: kept for its resume.
                let from = std::mem::take(&mut member.since).min(events.len());
                if !member.keep_events(&events[from..], limit) {
                    overflowed.push(id);
                }
            }
        }
        for id in overflowed {
            self.let_go(id, "missed too many lines");
        }
        let targets = self
            .members
            .iter_mut()
            .filter_map(|(&id, member)| {
                let from = std::mem::take(&mut member.since);
                let handle = member.handle.as_ref()?;
                (from < events.len()).then_some(Target { id, handle, from })
            })
            .collect();
        Some(Batch { events, targets })
    }

    /// Notices for member `id` alone (refusals, answers), after what the
    /// room has already said, so they keep their place.
    pub(super) fn tell(&mut self, id: ClientId, lines: &[&str]) {
        let events = lines
            .iter()
            .map(|line| Event::notice(self.now, *line))
            .collect();
        self.send(id, events);
    }

    /// Events for member `id` alone, after what the room already said. An
    /// away member gets them when it comes back.
    pub(super) fn send(&mut self, id: ClientId, events: Vec<Event>) {
        self.deliver_now();
        let limit = self.settings.outbox_lines;
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        let Some(handle) = member.handle.clone() else {
            // Away: what the room said before these, still pending, is
            // kept first (and not again when the batch is taken), so the
            // member gets both in the order they were said.
            let from = std::mem::replace(&mut member.since, self.pending.len());
            let mut kept = self.pending[from.min(self.pending.len())..].to_vec();
            kept.extend(events.into_iter().map(Arc::new));
            if member.session.is_some() && !member.keep_events(&kept, limit) {
                self.let_go(id, "missed too many lines");
            }
            return;
        };
        self.out.push(Output::Send {
            id,
            to: handle,
            frames: Vec::new(),
            history: Vec::new(),
            events: events.into_iter().map(Arc::new).collect(),
        });
    }

    /// Lines a member could not take: too slow (dropped, with 1008), or
    /// gone (kept for its resume, if it has a session).
    pub fn undelivered(&mut self, id: ClientId, why: Refused, frames: Vec<Bytes>, lines: usize) {
        if why == Refused::Gone {
            // The connection is ending; the reader's leave is on its way.
            return self.keep_missed(id, frames, lines);
        }
        self.out.push(Output::DroppedTooSlow);
        if let Some(Member {
            handle: Some(to), ..
        }) = self.remove_and_announce(id, "too many lines waiting, dropped")
        {
            self.out.push(Output::Abort {
                to,
                code: close::POLICY_VIOLATION,
                reason: "too slow: too many lines waiting",
            });
        }
    }

    /// The presence line's event: every member, here and on other
    /// instances, in order of arrival.
    pub(super) fn presence(&self) -> Event {
        let mut all: Vec<(u64, &str, bool)> = self.members.arrivals().collect();
        if let Some(peers) = &self.peers {
            all.extend(peers.arrivals().map(|(a, nick)| (a, nick, false)));
            all.sort_unstable_by_key(|&(arrival, _, _)| arrival);
        }
        let count = all.len();
        let members = all
            .into_iter()
            .take(PRESENCE_NAMES_JSON)
            .map(|(_, nick, teacher)| Present {
                nick: nick.to_owned(),
                teacher,
            })
            .collect();
        self.event(What::Presence { members, count })
    }

    /// An event that is not a room event (no id), at the current time.
    pub(super) fn event(&self, what: What) -> Event {
        Event {
            id: 0,
            time: self.now,
            what,
        }
    }

    pub(super) fn log(&mut self, level: log::Level, line: String) {
        self.out.push(Output::Log(level, line));
    }
}

/// A busy room sends the events of up to this many inputs as one batch:
/// one shared buffer, one queue entry and one write per member. Joins and
/// leaves are part of the batch too (a newcomer gets the part of it from
/// its arrival on), so a crowd arriving costs one wake-up per member per
/// batch, not per arrival.
pub const MAX_BATCH_EVENTS: usize = 1024;
