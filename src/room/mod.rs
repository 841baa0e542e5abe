//! The room core: every room's members, nicknames, commands, history and
//! resumes, as plain logic. No I/O: no socket, thread, channel, clock read
//! or global. The broadcaster thread (`crate::broadcaster`) owns the one
//! [`Core`], hands it one input at a time with the time, and carries out
//! the [`Output`]s it records; tests do the same with a fake clock.
//!
//! Start reading at the seed's three handlers, in `room.rs`:
//! `handle-new-connection` is [`Room::join`](room::Room::join),
//! `broadcast-to-room` is `Room::message` and `handle-close-connection` is
//! `Room::leave`. The files, by job:
//! - this file: [`Core`], every room by name, admission (`--max-rooms`)
//!   and eviction of empty rooms; the inputs and the outputs;
//! - `room.rs`: one room and the seed's three handlers;
//! - `members.rs`: one room's member table and presence line;
//! - `commands.rs`: `/nick /who /me /msg /help`;
//! - `teacher.rs`: a teacher's commands (`/op /kick /ban /mute /pin`...)
//!   and the checks a student's line passes;
//! - `moderation.rs`: a room's rules (code, lock, bars, mutes, quiet,
//!   slow mode, pin) and how the store keeps them;
//! - `lobby.rs`: the door (bars, lock) and the lobby (join codes, rooms
//!   waiting for a teacher);
//! - `history.rs`: a room's last lines for newcomers;
//! - `resume.rs`: away members and `?session=` resumes;
//! - `peers.rs`: with `--redis`, the other instances' members and the
//!   claims whose answers come back as inputs;
//! - `path.rs`: the request target's room and session (read on client
//!   threads, before anything reaches the core).
//!
//! A member's handle `H` (the broadcaster's outbox) is opaque here: the core
//! keeps it and hands it back in outputs, so a batch goes straight to every
//! member with no lookup.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::event::{Claim, Envelope, Event, RoomState, Time};
use crate::id::ClientId;

mod commands;
mod history;
mod lobby;
mod members;
mod moderation;
pub mod path;
mod peers;
mod resume;
#[allow(clippy::module_inception)]
mod room;
mod teacher;

pub use path::{Place, RoomName};
// The command parser, for `fuzz_api` (the fuzz targets and property tests).
#[doc(hidden)]
pub use commands::{parse as parse_command, Command};
use room::Room;
pub use room::MAX_BATCH_EVENTS;

/// What the rooms need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Chat lines each room keeps for newcomers (`--history`; 0: none).
    pub history_lines: usize,
    /// Most rooms at once (`--max-rooms`).
    pub max_rooms: usize,
    /// How long a dropped member with a session is kept (`--resume-grace`).
    pub resume_grace: Duration,
    /// Most lines kept for an away member (`--outbox-lines`).
    pub outbox_lines: usize,
    /// Rooms are shared with other instances (`--redis`): what the whole
    /// room hears goes out as [`Output::Publish`] and comes back as
    /// [`Core::peer_event`].
    pub shared: bool,
    /// `--rooms teachers`: a room other than the main one waits for a
    /// teacher to open it.
    pub teachers_open_rooms: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            history_lines: 100,
            max_rooms: 256,
            resume_grace: Duration::from_secs(30),
            outbox_lines: 4096,
            shared: false,
            teachers_open_rooms: false,
        }
    }
}

/// What the core asks the broadcaster to do, in order.
#[derive(Debug)]
pub enum Output<H> {
    /// Send room `0`'s pending events to its members now, before anything
    /// that follows ([`Core::take_batch`]).
    Deliver(RoomName),
    /// Events for one member alone: `frames` (lines its old connection
    /// did not take, already encoded, for a resume) first, then `history`
    /// (flagged as history), then `events`.
    Send {
        id: ClientId,
        to: H,
        frames: Vec<Bytes>,
        history: Vec<Arc<Event>>,
        events: Vec<Arc<Event>>,
    },
    /// Start the close handshake with this client.
    Close {
        to: H,
        code: u16,
        reason: &'static str,
    },
    /// Send a parting close frame and end the connection at once.
    Abort {
        to: H,
        code: u16,
        reason: &'static str,
    },
    /// The member went away (a drop, with a session): end its connection
    /// now and give back what it had not sent with [`Core::kept`].
    Detach { id: ClientId, to: H },
    /// With `--redis`: a room event for every instance. If it cannot be
    /// sent, hand it back with [`Core::unsent`].
    Publish { room: RoomName, event: Event },
    /// With `--redis`: claim a nickname; the answer comes back with
    /// [`Core::claimed`] (or, for a reclaim, [`Core::reclaimed`]).
    Claim {
        room: RoomName,
        ticket: u64,
        claim: ClaimOp,
    },
    /// With `--redis`: read the room's state; it comes back with
    /// [`Core::opened`].
    Open(RoomName),
    /// Keep room `room`'s rule `key` in the store (`value`; `None`:
    /// forget it), until `expires` if set (`Write::Setting`).
    Keep {
        room: RoomName,
        key: String,
        value: Option<String>,
        expires: Option<Time>,
    },
    /// A teacher removed these lines of room `room` (`Write::Delete`).
    Forget { room: RoomName, ids: Vec<u64> },
    /// A teacher emptied room `0`'s history (`Write::Clear`).
    ClearKept(RoomName),
    /// A client was dropped for being too slow (for `/metrics`).
    DroppedTooSlow,
    /// A line for the server's log.
    Log(log::Level, String),
}

/// A nickname claim, for Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOp {
    /// A newcomer's name; its join is published if granted.
    Join {
        nick: String,
        session: Option<String>,
    },
    /// A member's new name; its rename is published if granted.
    Rename {
        old: String,
        new: String,
        session: Option<String>,
    },
    /// Our members' names again, after an outage.
    Reclaim { nicks: Vec<String> },
}

/// Why a client left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The client sent a close frame with this code (None: no code).
    Closed(Option<u16>),
    /// The TCP connection ended without a close handshake: the client
    /// aborted it, or we did after a failed or stalled write.
    Aborted,
    /// We closed the connection with this code: a protocol error, or a
    /// limit or rule broken.
    ProtocolError(u16),
    /// Nothing arrived within the allowed silence.
    TimedOut,
    /// Reading the socket failed.
    ReadFailed(String),
    /// The server is shutting down.
    Shutdown,
    /// The client's thread panicked.
    Panicked,
}

impl LeaveReason {
    /// The kinds of leaving a resume can undo: gone without a close frame
    /// (reset, end of the TCP stream, silence, a failed read), or closed
    /// with 1001 "going away" (RFC 6455 section 7.4.1), what a browser
    /// sends when its page goes: a reload or a navigation is not a goodbye.
    /// A close with any other code (1000 from a "Leave" button or a
    /// terminal client) leaves at once.
    pub fn is_drop(&self) -> bool {
        matches!(
            self,
            LeaveReason::Aborted
                | LeaveReason::TimedOut
                | LeaveReason::ReadFailed(_)
                | LeaveReason::Closed(Some(crate::protocol::close::GOING_AWAY))
        )
    }

    /// The `reason` label of `chat_clients_dropped_total`, if this is a
    /// drop worth counting (a close or a shutdown is not).
    pub fn label(&self) -> Option<&'static str> {
        Some(match self {
            LeaveReason::Closed(_) | LeaveReason::Shutdown => return None,
            LeaveReason::Aborted => "aborted",
            LeaveReason::ProtocolError(_) => "protocol_error",
            LeaveReason::TimedOut => "idle_timeout",
            LeaveReason::ReadFailed(_) => "read_failed",
            LeaveReason::Panicked => "panicked",
        })
    }
}

impl fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaveReason::Closed(Some(code)) => write!(f, "closed with {code}"),
            LeaveReason::Closed(None) => write!(f, "closed"),
            LeaveReason::Aborted => write!(f, "connection aborted"),
            LeaveReason::ProtocolError(code) => {
                write!(
                    f,
                    "{}, closed with {code}",
                    crate::protocol::close::cause(*code)
                )
            }
            LeaveReason::TimedOut => write!(f, "silent too long"),
            LeaveReason::ReadFailed(err) => write!(f, "read failed: {err}"),
            LeaveReason::Shutdown => write!(f, "server shutting down"),
            LeaveReason::Panicked => write!(f, "client thread panicked"),
        }
    }
}

/// The answer to [`Core::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Come in: write the `101`, then join.
    Welcome,
    /// The room does not exist and every room slot is in use by a room
    /// with someone in it (`--max-rooms`): answer 503.
    NoRoom,
    /// The server is shutting down: answer 503.
    Closing,
}

/// Why a batch or a line did not reach a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many lines waiting already: the member is too slow.
    Full,
    /// Its connection is closing or gone.
    Gone,
}

/// A room's pending events and the members to send them to, lent to the
/// broadcaster by [`Core::take_batch`].
pub struct Batch<'a, H> {
    pub events: Vec<Arc<Event>>,
    /// Each connected member, and from which event on the batch is for it
    /// (a newcomer gets only what came after its arrival).
    pub targets: Vec<Target<'a, H>>,
}

/// One member a batch goes to.
pub struct Target<'a, H> {
    pub id: ClientId,
    pub handle: &'a H,
    /// The index in [`Batch::events`] this member's part starts at.
    pub from: usize,
}

/// One room and what the directory knows of it.
struct Entry<H> {
    room: Room<H>,
    /// Connections admitted to it that have not joined yet.
    admitted: usize,
    /// When it was last used (a count of inputs): the least recently used
    /// empty room is evicted first.
    last_used: u64,
}

/// Every room: the broadcaster's whole state. One input at a time.
pub struct Core<H> {
    rooms: HashMap<RoomName, Entry<H>>,
    /// The room of every admitted or joined connection.
    clients: HashMap<ClientId, RoomName>,
    /// Admitted connections not yet joined, and where each asked to go.
    admitted: HashMap<ClientId, Place>,
    settings: Settings,
    /// Counts inputs, for `last_used`.
    inputs: u64,
    /// After `shutdown`: no more admissions.
    closing: bool,
    out: VecDeque<Output<H>>,
    /// Seeds each new room's random nicknames.
    rng: StdRng,
    /// What the store kept of rooms not open yet: their last id, history
    /// and rules, taken when the room opens.
    kept: HashMap<RoomName, Kept>,
    /// The teacher key (`/teacher KEY`); none: no one is a teacher by key.
    teacher_key: Option<String>,
    /// Where people open the page (`http://ADDR:PORT/`, or `--public-url`).
    page_url: Arc<str>,
}

/// What the store kept of one room.
type Kept = (u64, Vec<Event>, Vec<(String, String)>);

impl<H: Clone> Core<H> {
    /// An empty core. `seed` makes the `user-N` numbers (the broadcaster
    /// passes a random one; tests a fixed one).
    pub fn new(settings: Settings, seed: u64) -> Core<H> {
        Core {
            rooms: HashMap::new(),
            clients: HashMap::new(),
            admitted: HashMap::new(),
            settings,
            inputs: 0,
            closing: false,
            out: VecDeque::new(),
            rng: StdRng::seed_from_u64(seed),
            kept: HashMap::new(),
            teacher_key: None,
            page_url: "http://localhost:8080/".into(),
        }
    }

    /// Where people open the page, ending in `/` (what `/transcript`
    /// links to).
    pub fn set_page_url(&mut self, url: String) {
        let url = if url.ends_with('/') { url } else { url + "/" };
        self.page_url = url.into();
    }

    /// The key that makes a member a teacher (`/teacher KEY`).
    pub fn set_teacher_key(&mut self, key: String) {
        self.teacher_key = Some(key);
    }

    /// What the store kept of room `name` from an earlier run: its ids go
    /// on after `last_id`, a newcomer gets `history` (oldest first), and
    /// its teachers' rules are `settings` (unexpired, as the store gives
    /// them: see `moderation.rs`).
    pub fn restore(
        &mut self,
        name: &str,
        last_id: u64,
        history: Vec<Event>,
        settings: Vec<(String, String)>,
    ) {
        if let Some(name) = RoomName::parse(name) {
            self.kept.insert(name, (last_id, history, settings));
        }
    }

    // ---- inputs -------------------------------------------------------

    /// Let connection `id` into `place.room` before its `101`, creating
    /// the room if there is a slot, or evicting the least recently used
    /// empty room for one. An admitted connection holds its room until it
    /// joins or leaves.
    pub fn admit(&mut self, id: ClientId, place: Place, now: Time) -> Admission {
        self.inputs += 1;
        if self.closing {
            return Admission::Closing;
        }
        if !self.rooms.contains_key(&place.room) {
            if self.rooms.len() >= self.settings.max_rooms.max(1) && !self.evict_one() {
                self.log(
                    log::Level::Info,
                    format!(
                        "room {}: not created, all {} room slots in use",
                        place.room, self.settings.max_rooms
                    ),
                );
                return Admission::NoRoom;
            }
            self.log(log::Level::Info, format!("room {}: created", place.room));
            let seed = self.rng.random();
            let mut room = Room::new(place.room.clone(), self.settings, seed, now);
            room.page_url = self.page_url.clone();
            if let Some((last_id, history, settings)) = self.kept.remove(&place.room) {
                room.restore(last_id, history);
                room.moderation = moderation::Moderation::restore(&settings, now);
            }
            if self.settings.shared {
                room.open();
            }
            self.rooms.insert(
                place.room.clone(),
                Entry {
                    room,
                    admitted: 0,
                    last_used: self.inputs,
                },
            );
            self.collect(&place.room);
        }
        if let Some(entry) = self.rooms.get_mut(&place.room) {
            entry.admitted += 1;
            entry.last_used = self.inputs;
        }
        self.clients.insert(id, place.room.clone());
        self.admitted.insert(id, place);
        Admission::Welcome
    }

    /// An admitted connection finished its handshake (the seed's `:open`):
    /// it joins its room, or takes back its away member (`?session=`).
    pub fn join(&mut self, id: ClientId, peer: SocketAddr, handle: H, now: Time) {
        self.inputs += 1;
        let place = self.admitted.remove(&id);
        let inputs = self.inputs;
        let entry = self.clients.get(&id).and_then(|n| self.rooms.get_mut(n));
        match (entry, place) {
            (Some(entry), Some(place)) => {
                entry.admitted -= 1;
                entry.last_used = inputs;
                let room = entry.room.at(now);
                room.join(id, peer, handle, place.session, place.code);
                let name = entry.room.name.clone();
                self.collect(&name);
            }
            _ => {
                self.log(
                    log::Level::Error,
                    format!("room: client-{id} joined without being admitted"),
                );
                self.out.push_back(Output::Close {
                    to: handle,
                    code: crate::protocol::close::GOING_AWAY,
                    reason: "not admitted",
                });
            }
        }
    }

    /// A text message from member `id` (the seed's `:message`). `/teacher
    /// KEY` is checked here, where the key is, in constant time; the line
    /// goes no further (never echoed, logged or kept).
    pub fn message(&mut self, id: ClientId, text: &str, now: Time) {
        let key = teacher_key_in(text).map(|given| {
            self.teacher_key.as_ref().is_some_and(|key| {
                subtle::ConstantTimeEq::ct_eq(key.as_bytes(), given.as_bytes()).into()
            })
        });
        if let Some(room) = self.room_of(id) {
            match key {
                Some(right) => room.at(now).key(id, right),
                None => room.at(now).message(id, text),
            }
            let name = room.name.clone();
            self.collect(&name);
        }
    }

    /// Connection `id` is gone (the seed's `:close` and `:error`), for
    /// `reason`. A second leave for the same id does nothing.
    pub fn leave(&mut self, id: ClientId, reason: &LeaveReason, now: Time) {
        self.inputs += 1;
        let was_admitted = self.admitted.remove(&id).is_some();
        let Some(name) = self.clients.remove(&id) else {
            return;
        };
        let inputs = self.inputs;
        if let Some(entry) = self.rooms.get_mut(&name) {
            entry.last_used = inputs;
            if was_admitted {
                entry.admitted -= 1;
            } else {
                entry.room.at(now).leave(id, reason);
                if entry.room.nickname(id).is_some() {
                    // Away, for its resume: still reachable by its id.
                    self.clients.insert(id, name.clone());
                }
            }
        }
        self.collect(&name);
    }

    /// Lines a member did not take (see [`Refused`]): too slow (it is
    /// dropped, with 1008), or gone (kept for its resume, if it has a
    /// session). `frames` holds `lines` lines in its format.
    pub fn undelivered(
        &mut self,
        id: ClientId,
        why: Refused,
        frames: Vec<Bytes>,
        lines: usize,
        now: Time,
    ) {
        if let Some(room) = self.room_of(id) {
            room.at(now).undelivered(id, why, frames, lines);
            let name = room.name.clone();
            self.collect(&name);
        }
    }

    /// What an away member's connection had not sent when it was
    /// detached ([`Output::Detach`]).
    pub fn kept(&mut self, id: ClientId, frames: Vec<Bytes>, lines: usize, now: Time) {
        self.undelivered(id, Refused::Gone, frames, lines, now);
    }

    /// Time passes: let go of away members whose grace has ended.
    pub fn tick(&mut self, now: Time) {
        let due: Vec<RoomName> = self
            .rooms
            .iter()
            .filter(|(_, e)| e.room.next_deadline().is_some_and(|at| at <= now))
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            if let Some(entry) = self.rooms.get_mut(&name) {
                entry.room.at(now).expire();
            }
            self.collect(&name);
        }
    }

    /// The store cannot write (`Some(reason)`) or can again (`None`): the
    /// teachers in every room are told (the chat goes on in memory).
    pub fn store_health(&mut self, failing: Option<String>, now: Time) {
        let line = match &failing {
            Some(why) => crate::protocol::not_saved(why),
            None => crate::protocol::SAVED_AGAIN.to_owned(),
        };
        self.on_every_room(now, |room| room.tell_teachers(&line));
    }

    /// The server is stopping: send what was accepted, then close every
    /// client with 1001; no more admissions.
    pub fn shutdown(&mut self, now: Time) {
        self.closing = true;
        let names: Vec<RoomName> = self.rooms.keys().cloned().collect();
        for name in names {
            if let Some(entry) = self.rooms.get_mut(&name) {
                entry.room.at(now).shutdown();
            }
            self.collect(&name);
        }
    }

    // ---- inputs from the other instances (`--redis`) ---------------------

    /// A room event that came back from Redis, in the room's order.
    pub fn peer_event(&mut self, envelope: Envelope, now: Time) {
        self.on_room(&envelope.room.clone(), now, |room| room.receive(envelope));
    }

    /// A published event that could not be sent: deliver it here.
    pub fn unsent(&mut self, room: &str, event: Event, now: Time) {
        self.on_room(room, now, |room| room.apply_unsent(event));
    }

    /// The answer to a [`ClaimOp::Join`] or [`ClaimOp::Rename`].
    pub fn claimed(&mut self, room: &str, ticket: u64, claim: Claim, now: Time) {
        self.on_room(room, now, |room| room.claimed(ticket, claim));
    }

    /// The answer to a [`ClaimOp::Reclaim`].
    pub fn reclaimed(&mut self, room: &str, ticket: u64, claims: Vec<Claim>, now: Time) {
        self.on_room(room, now, |room| room.reclaimed(ticket, claims));
    }

    /// The answer to [`Output::Open`]: the room as Redis holds it.
    pub fn opened(&mut self, state: RoomState, now: Time) {
        let name = state.room.clone();
        self.on_room(&name, now, |room| room.reseed(&state));
    }

    /// Redis went away: every room serves its own members alone.
    pub fn peers_lost(&mut self, now: Time) {
        self.on_every_room(now, |room| room.peers_lost());
    }

    /// Redis is back (`states`: every room as it holds it now), or our
    /// lease lapsed (`None`): start again from its view and claim our
    /// members' names again.
    pub fn peers_back(&mut self, states: Option<Vec<RoomState>>, now: Time) {
        let states = states.map(|s| {
            s.into_iter()
                .map(|state| (state.room.clone(), state))
                .collect::<HashMap<_, _>>()
        });
        self.on_every_room(now, |room| {
            let state = states.as_ref().map(|all| {
                all.get(room.name.as_str())
                    .cloned()
                    .unwrap_or_else(|| RoomState {
                        room: room.name.to_string(),
                        ..RoomState::default()
                    })
            });
            room.resync(state.as_ref());
        });
    }

    // ---- outputs ------------------------------------------------------

    /// The next output to carry out, in order.
    pub fn next_output(&mut self) -> Option<Output<H>> {
        self.out.pop_front()
    }

    /// Rooms with events waiting for delivery.
    pub fn pending_rooms(&self) -> Vec<RoomName> {
        self.rooms
            .iter()
            .filter(|(_, e)| e.room.has_pending())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Take room `name`'s pending events, with every connected member to
    /// send them to. Away members get theirs kept for their resume here.
    pub fn take_batch(&mut self, name: &RoomName) -> Option<Batch<'_, H>> {
        let entry = self.rooms.get_mut(name)?;
        entry.room.take_batch()
    }

    /// When the next input without a client is due (an away member's
    /// grace ending): the broadcaster calls [`Core::tick`] then.
    pub fn next_deadline(&self) -> Option<Time> {
        self.rooms
            .values()
            .filter_map(|e| e.room.next_deadline())
            .min()
    }

    /// Rooms held (empty ones kept for their history included) and the
    /// connections admitted to or in one, for `/metrics`.
    pub fn sizes(&self) -> (usize, usize) {
        (self.rooms.len(), self.clients.len())
    }

    /// The nickname of member `id`, if it is in a room.
    #[cfg(test)]
    pub fn nickname(&self, id: ClientId) -> Option<&str> {
        let name = self.clients.get(&id)?;
        self.rooms.get(name)?.room.nickname(id)
    }

    // ---- inside ---------------------------------------------------------

    fn room_of(&mut self, id: ClientId) -> Option<&mut Room<H>> {
        self.inputs += 1;
        let inputs = self.inputs;
        let entry = self.rooms.get_mut(self.clients.get(&id)?)?;
        entry.last_used = inputs;
        Some(&mut entry.room)
    }

    fn on_room(&mut self, name: &str, now: Time, f: impl FnOnce(&mut Room<H>)) {
        let Some(name) = RoomName::parse(name) else {
            return;
        };
        if let Some(entry) = self.rooms.get_mut(&name) {
            f(entry.room.at(now));
            self.collect(&name);
        }
    }

    fn on_every_room(&mut self, now: Time, mut f: impl FnMut(&mut Room<H>)) {
        let names: Vec<RoomName> = self.rooms.keys().cloned().collect();
        for name in names {
            if let Some(entry) = self.rooms.get_mut(&name) {
                f(entry.room.at(now));
            }
            self.collect(&name);
        }
    }

    /// Move room `name`'s outputs into the core's queue, in order, and
    /// forget the ids that are no longer in it.
    fn collect(&mut self, name: &RoomName) {
        if let Some(entry) = self.rooms.get_mut(name) {
            self.out.extend(entry.room.out.drain(..));
            for id in entry.room.gone.drain(..) {
                if self.clients.get(&id) == Some(name) && !self.admitted.contains_key(&id) {
                    self.clients.remove(&id);
                }
            }
        }
    }

    fn log(&mut self, level: log::Level, line: String) {
        self.out.push_back(Output::Log(level, line));
    }

    /// Drop the least recently used room that no one is in, away or
    /// admitted; false if every room is in use.
    fn evict_one(&mut self) -> bool {
        let victim = self
            .rooms
            .iter()
            .filter(|(_, e)| e.admitted == 0 && e.room.is_empty())
            .min_by_key(|(_, e)| e.last_used)
            .map(|(name, _)| name.clone());
        let Some(name) = victim else {
            return false;
        };
        self.log(
            log::Level::Info,
            format!("room {name}: empty and least recently used, evicted with its history"),
        );
        if let Some(entry) = self.rooms.remove(&name) {
            // Its teachers' rules (a bar, a lock) come back if it opens again.
            let settings = entry.room.moderation.settings();
            if !settings.is_empty() {
                self.kept
                    .insert(name, (entry.room.last_id, Vec::new(), settings));
            }
        }
        true
    }
}

/// The KEY of a `/teacher KEY` line (the word in any case), if it is one.
fn teacher_key_in(text: &str) -> Option<&str> {
    let word = text.get(..8)?;
    if !word.eq_ignore_ascii_case("/teacher") {
        return None;
    }
    let rest = &text[8..];
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(rest.trim())
}

#[cfg(test)]
mod tests;
