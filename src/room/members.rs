//! One room's member table: who is here, in order of arrival, under which
//! nickname, and (for resume) under which session. Owned by one room.
//!
//! A member whose connection dropped stays in the table, away, until it
//! comes back or its grace ends (see `resume.rs`): its name stays taken and
//! it stays in the presence line, so the others notice nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

use rand::rngs::StdRng;
use rand::RngExt;

use super::path::SessionId;
use super::resume::Missed;
use super::ClientId;
use crate::event::Time;
use crate::nickname::fold;
use crate::protocol::NICKNAME_SPACE;

/// One member, as the room sees it.
pub struct Member<H> {
    pub nickname: String,
    /// N, while the nickname is the `user-N` the server gave.
    pub number: Option<u32>,
    pub peer: SocketAddr,
    /// Where its lines go; `None` while it is away (so an away member holds
    /// no connection).
    pub handle: Option<H>,
    /// Where in the pending batch this member came in: it gets only the
    /// events from there on. Zero once a batch has been taken.
    pub since: usize,
    /// Its place in the order of arrival (kept across a resume).
    pub arrival: u64,
    /// The resume secret it gave, if any.
    pub session: Option<SessionId>,
    /// Lines it did not get, kept for a resume (only for a member with a
    /// session whose connection is ending or gone). Boxed: every member's
    /// entry in the room's table is as large as the largest field, and
    /// almost no member has any.
    pub missed: Option<Box<Missed>>,
    /// Set while away: when its grace ends.
    pub away_until: Option<Time>,
    /// A teacher here (by the key, or `/op`), until it leaves.
    pub teacher: bool,
    /// When its last line reached the room (for slow mode).
    pub last_line: Option<Time>,
    /// Wrong teacher keys it sent.
    pub wrong_keys: u8,
}

/// Every member of one room, with the indexes the commands need.
pub struct Members<H> {
    /// Every member, packed in a vector (in no particular order). A hash
    /// table of members would round up to a power of two of entries, up to
    /// twice as many as there are members, each as large as a `Member`;
    /// here only the index does, and its entries are two words.
    slots: Vec<(ClientId, Member<H>)>,
    /// Member id -> its place in `slots`.
    by_id: HashMap<ClientId, usize>,
    /// Case-folded nickname -> member: names are unique ignoring case.
    names: HashMap<String, ClientId>,
    /// The N of every `user-N` in use.
    numbers: HashSet<u32>,
    arrivals: BTreeMap<u64, ClientId>,
    /// Session -> member, for members that gave one.
    sessions: HashMap<SessionId, ClientId>,
    next_arrival: u64,
}

impl<H> Default for Members<H> {
    fn default() -> Self {
        Members {
            slots: Vec::new(),
            by_id: HashMap::new(),
            names: HashMap::new(),
            numbers: HashSet::new(),
            arrivals: BTreeMap::new(),
            sessions: HashMap::new(),
            next_arrival: 0,
        }
    }
}

impl<H> Members<H> {
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: ClientId) -> Option<&Member<H>> {
        let &at = self.by_id.get(&id)?;
        self.slots.get(at).map(|(_, m)| m)
    }

    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Member<H>> {
        let &at = self.by_id.get(&id)?;
        self.slots.get_mut(at).map(|(_, m)| m)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ClientId, &Member<H>)> {
        self.slots.iter().map(|(id, m)| (id, m))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&ClientId, &mut Member<H>)> {
        self.slots.iter_mut().map(|(id, m)| (&*id, m))
    }

    /// The member holding `session`, if any.
    pub fn by_session(&self, session: &SessionId) -> Option<ClientId> {
        self.sessions.get(session).copied()
    }

    /// The member whose nickname is `nick` ignoring case, if any.
    pub fn by_nick(&self, nick: &str) -> Option<ClientId> {
        self.names.get(&fold(nick)).copied()
    }

    /// The next arrival number.
    pub fn arrive(&mut self) -> u64 {
        self.next_arrival += 1;
        self.next_arrival
    }

    /// Add a member (its nickname must be free; see [`Members::free_number`]).
    pub fn insert(&mut self, id: ClientId, member: Member<H>) {
        self.names.insert(fold(&member.nickname), id);
        if let Some(n) = member.number {
            self.numbers.insert(n);
        }
        if let Some(session) = &member.session {
            self.sessions.insert(session.clone(), id);
        }
        self.next_arrival = self.next_arrival.max(member.arrival);
        self.arrivals.insert(member.arrival, id);
        match self.by_id.get(&id).and_then(|&at| self.slots.get_mut(at)) {
            Some(slot) => slot.1 = member,
            None => {
                self.by_id.insert(id, self.slots.len());
                self.slots.push((id, member));
            }
        }
    }

    pub fn remove(&mut self, id: ClientId) -> Option<Member<H>> {
        let at = self.by_id.remove(&id)?;
        if at >= self.slots.len() {
            return None;
        }
        // The last member takes the freed place.
        let (_, member) = self.slots.swap_remove(at);
        if let Some((moved, _)) = self.slots.get(at) {
            self.by_id.insert(*moved, at);
        }
        self.names.remove(&fold(&member.nickname));
        if let Some(n) = member.number {
            self.numbers.remove(&n);
        }
        if let Some(session) = &member.session {
            self.sessions.remove(session);
        }
        self.arrivals.remove(&member.arrival);
        Some(member)
    }

    /// Give member `id` the nickname `new`, if no one else has it (ignoring
    /// case). Returns the old one.
    pub fn rename(&mut self, id: ClientId, new: &str) -> Result<String, Taken> {
        let key = fold(new);
        if self.names.get(&key).is_some_and(|&holder| holder != id) {
            return Err(Taken);
        }
        let &at = self.by_id.get(&id).ok_or(Taken)?;
        let (_, member) = self.slots.get_mut(at).ok_or(Taken)?;
        self.names.remove(&fold(&member.nickname));
        if let Some(n) = member.number.take() {
            self.numbers.remove(&n);
        }
        self.names.insert(key, id);
        Ok(std::mem::replace(&mut member.nickname, new.to_owned()))
    }

    /// Every member's arrival, nickname and whether it is a teacher, in
    /// order of arrival.
    pub fn arrivals(&self) -> impl Iterator<Item = (u64, &str, bool)> {
        self.arrivals.iter().filter_map(|(&a, id)| {
            let member = self.get(*id)?;
            Some((a, member.nickname.as_str(), member.teacher))
        })
    }

    /// A nickname number no member has: uniformly random (the seed's
    /// `(random 100000)`), re-rolled on collision. `None` when every
    /// number is in use.
    pub fn free_number(&self, rng: &mut StdRng) -> Option<u32> {
        // (`user-N` cannot be chosen with /nick, so `numbers` is enough.)
        let taken = |n: u32| self.numbers.contains(&n);
        if self.numbers.len() >= NICKNAME_SPACE as usize {
            return None;
        }
        // While the space is less than half full each roll succeeds with
        // probability over 1/2, so this loop almost never runs long.
        for _ in 0..64 {
            let n = rng.random_range(0..NICKNAME_SPACE);
            if !taken(n) {
                return Some(n);
            }
        }
        // Crowded: pick uniformly among the free numbers instead.
        let free: Vec<u32> = (0..NICKNAME_SPACE).filter(|&n| !taken(n)).collect();
        (!free.is_empty()).then(|| free[rng.random_range(0..free.len())])
    }

    /// Move member `old` to id `new` (a resume: same member, new connection).
    pub fn rekey(&mut self, old: ClientId, new: ClientId) -> Option<&mut Member<H>> {
        let member = self.remove(old)?;
        self.insert(new, member);
        self.get_mut(new)
    }
}

/// The nickname asked for belongs to another member.
#[derive(Debug, PartialEq, Eq)]
pub struct Taken;
