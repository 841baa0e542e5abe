//! Every room, by name: which connection is in which room, which rooms
//! exist (at most `--max-rooms`), and which empty room goes first when a
//! new one needs its slot. Owned by the room thread (see [`super::run`]),
//! which hands each event to the room it concerns.
//!
//! A connection is admitted before its `101`: the reader asks with
//! [`Event::Admit`] and waits for the answer, so a join that would create
//! one room too many gets `503` at the handshake. An admitted connection
//! holds its room (it cannot be evicted) until it joins or its reader ends.

use std::collections::HashMap;
use std::time::Instant;

use super::chat::Room;
use super::path::{Place, RoomName, SessionId};
use super::{Admission, ClientId, Event, Settings};
use crate::cluster::{Inbound, Link, RoomState};

/// One room and what the directory knows of it.
struct Entry {
    room: Room,
    /// Connections admitted to it that have not joined yet.
    admitted: usize,
    /// When it was last used (a tick of [`Rooms::clock`]): the least
    /// recently used empty room is evicted first.
    last_used: u64,
}

/// The room thread's whole state.
pub struct Rooms {
    rooms: HashMap<RoomName, Entry>,
    /// The room of every admitted or joined connection.
    clients: HashMap<ClientId, RoomName>,
    /// Admitted connections not yet joined, and the session each gave.
    admitted: HashMap<ClientId, Option<SessionId>>,
    settings: Settings,
    /// Counts events, for `last_used`.
    clock: u64,
    /// After `Shutdown`: no more admissions.
    closing: bool,
    /// With `--redis`: the publisher's handle, for each room opened.
    link: Option<Link>,
}

impl Rooms {
    pub fn new(settings: Settings) -> Rooms {
        Rooms {
            rooms: HashMap::new(),
            clients: HashMap::new(),
            admitted: HashMap::new(),
            settings,
            clock: 0,
            closing: false,
            link: None,
        }
    }

    /// How many rooms exist (empty ones kept for their history included).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// Rooms held (empty ones kept for their history included) and the
    /// connections admitted to or in one, for `/metrics`.
    pub fn sizes(&self) -> (usize, usize) {
        (self.rooms.len(), self.clients.len())
    }

    /// The room called `name`, if it exists.
    #[cfg(test)]
    pub fn room(&self, name: &RoomName) -> Option<&Room> {
        self.rooms.get(name).map(|e| &e.room)
    }

    pub fn handle(&mut self, event: Event) {
        self.clock += 1;
        match event {
            Event::Admit { id, place, reply } => {
                let answer = self.admit(id, place);
                // One answer in a channel of one: never blocks. The reader
                // may have given up waiting; its Leave will free the place.
                let _ = reply.try_send(answer);
            }
            Event::Join { id, peer, outbox } => {
                let session = self.admitted.remove(&id);
                let entry = self
                    .clients
                    .get(&id)
                    .and_then(|name| self.rooms.get_mut(name));
                match (entry, session) {
                    (Some(entry), Some(session)) => {
                        entry.admitted -= 1;
                        entry.last_used = self.clock;
                        entry.room.join(id, peer, outbox, session);
                    }
                    _ => {
                        log::error!("room: client-{id} joined without being admitted");
                        outbox.close(crate::protocol::close::GOING_AWAY, "not admitted");
                    }
                }
            }
            Event::Message { id, text } => {
                if let Some(entry) = self.entry_of(id) {
                    entry.room.message(id, &text);
                }
            }
            Event::Leave { id, reason } => {
                crate::metrics::left(&reason);
                let was_admitted = self.admitted.remove(&id).is_some();
                let Some(name) = self.clients.remove(&id) else {
                    return;
                };
                let clock = self.clock;
                if let Some(entry) = self.rooms.get_mut(&name) {
                    entry.last_used = clock;
                    if was_admitted {
                        entry.admitted -= 1;
                    } else {
                        entry.room.leave(id, &reason);
                    }
                }
            }
            Event::Ping(reply) => {
                let _ = reply.send(());
            }
            Event::Cluster(inbound) => self.on_redis(inbound),
            Event::Shutdown => {
                self.closing = true;
                for entry in self.rooms.values_mut() {
                    entry.room.shutdown();
                }
            }
        }
    }

    /// Share every room opened from now on through `link` (`--redis`).
    pub fn share(&mut self, link: Option<Link>) {
        self.link = link;
    }

    /// What the cluster threads report (see `cluster.rs`). Events of rooms
    /// not open here are not ours to deliver.
    fn on_redis(&mut self, inbound: Inbound) {
        fn room_of<'a>(
            rooms: &'a mut HashMap<RoomName, Entry>,
            name: &str,
        ) -> Option<&'a mut Room> {
            rooms.get_mut(&RoomName::parse(name)?).map(|e| &mut e.room)
        }
        match inbound {
            Inbound::Event(envelope) => {
                if let Some(room) = room_of(&mut self.rooms, &envelope.room) {
                    room.receive(envelope);
                }
            }
            Inbound::Unsent { room, record } => {
                if let Some(room) = room_of(&mut self.rooms, &room) {
                    room.apply_record(record);
                }
            }
            Inbound::Down => self.rooms.values_mut().for_each(|e| e.room.redis_lost()),
            Inbound::Up(states) => {
                for entry in self.rooms.values_mut() {
                    let name = entry.room.name.to_string();
                    let empty = RoomState {
                        room: name.clone(),
                        seq: 0,
                        here: Vec::new(),
                        history: Vec::new(),
                    };
                    let state = states.iter().find(|s| s.room == name).unwrap_or(&empty);
                    entry.room.resync(Some(state));
                }
            }
            Inbound::Resync => self.rooms.values_mut().for_each(|e| e.room.resync(None)),
        }
    }

    fn entry_of(&mut self, id: ClientId) -> Option<&mut Entry> {
        let entry = self.rooms.get_mut(self.clients.get(&id)?)?;
        entry.last_used = self.clock;
        Some(entry)
    }

    /// Let connection `id` into `place.room`, creating the room if there
    /// is a slot, or evicting the least recently used empty room for one.
    fn admit(&mut self, id: ClientId, place: Place) -> Admission {
        if self.closing {
            return Admission::Closing;
        }
        if !self.rooms.contains_key(&place.room) {
            if self.rooms.len() >= self.settings.max_rooms && !self.evict_one() {
                log::info!(
                    "room {}: not created, all {} room slots in use",
                    place.room,
                    self.settings.max_rooms
                );
                return Admission::NoRoom;
            }
            log::info!("room {}: created", place.room);
            let mut room = Room::new(place.room.clone(), self.settings);
            if let Some(link) = &self.link {
                room.attach(link.clone());
            }
            self.rooms.insert(
                place.room.clone(),
                Entry {
                    room,
                    admitted: 0,
                    last_used: self.clock,
                },
            );
        }
        if let Some(entry) = self.rooms.get_mut(&place.room) {
            entry.admitted += 1;
            entry.last_used = self.clock;
        }
        self.clients.insert(id, place.room);
        self.admitted.insert(id, place.session);
        Admission::Welcome
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
        log::info!("room {name}: empty and least recently used, evicted with its history");
        self.rooms.remove(&name);
        true
    }

    /// Let go of away members whose grace has ended.
    pub fn expire(&mut self, now: Instant) {
        for entry in self.rooms.values_mut() {
            if entry.room.next_expiry().is_some_and(|at| at <= now) {
                entry.room.expire(now);
            }
        }
    }

    /// When the next away member's grace ends, in any room.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.rooms
            .values()
            .filter_map(|e| e.room.next_expiry())
            .min()
    }

    /// Send every room's pending batch.
    pub fn flush(&mut self) {
        for entry in self.rooms.values_mut() {
            if entry.room.has_pending() {
                entry.room.flush();
            }
        }
    }
}
