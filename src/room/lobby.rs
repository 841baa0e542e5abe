//! The door: what a newcomer meets before it is a member. A barred
//! newcomer or one to a locked room is turned away (a notice, then close
//! 1008); one to a room with a join code (without the right `?code=`), or,
//! with `--rooms teachers`, to a room no teacher has opened yet, waits in
//! the room's **lobby**. There it is no member: it hears only the lobby's
//! line, and may send `/code CODE` or `/teacher KEY`. Owns the waiting
//! connections ([`Lobby`]), in order of arrival.

use std::net::SocketAddr;

use super::moderation::host;
use super::path::{JoinCode, SessionId};
use super::room::Room;
use super::{ClientId, Output};
use crate::event::Event;
use crate::protocol::{self, close};

/// Wrong codes or keys a connection may send; the next one closes it.
pub const MAX_WRONG: u8 = 4;

/// A connection waiting at the door.
pub struct Waiting<H> {
    pub id: ClientId,
    pub peer: SocketAddr,
    pub handle: H,
    pub session: Option<SessionId>,
    /// Wrong codes and keys so far.
    pub wrong: u8,
}

/// The connections waiting in one room's lobby, in order of arrival.
pub struct Lobby<H> {
    waiting: Vec<Waiting<H>>,
}

impl<H> Default for Lobby<H> {
    fn default() -> Self {
        Lobby {
            waiting: Vec::new(),
        }
    }
}

impl<H> Lobby<H> {
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    pub fn contains(&self, id: ClientId) -> bool {
        self.waiting.iter().any(|w| w.id == id)
    }

    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Waiting<H>> {
        self.waiting.iter_mut().find(|w| w.id == id)
    }

    pub fn push(&mut self, waiting: Waiting<H>) {
        self.waiting.push(waiting);
    }

    pub fn remove(&mut self, id: ClientId) -> Option<Waiting<H>> {
        let at = self.waiting.iter().position(|w| w.id == id)?;
        Some(self.waiting.remove(at))
    }

    /// Everyone waiting, in order of arrival; the lobby is left empty.
    pub fn take_all(&mut self) -> Vec<Waiting<H>> {
        std::mem::take(&mut self.waiting)
    }
}

impl<H: Clone> Room<H> {
    /// Whether, with `--rooms teachers`, this room waits for a teacher.
    pub(super) fn needs_opening(&self) -> bool {
        self.settings.teachers_open_rooms
            && self.name.as_str() != super::path::MAIN_ROOM
            && !self.moderation.opened
    }

    /// The door, for a newcomer that is not a resume: turned away (true),
    /// put in the lobby (true), or let through (false).
    pub(super) fn at_the_door(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        handle: &H,
        session: Option<&SessionId>,
        code: Option<&JoinCode>,
    ) -> bool {
        if self.moderation.barred(session, peer, self.now) {
            self.log(
                log::Level::Info,
                format!("room {}: {} is barred, turned away", self.name, host(peer)),
            );
            self.refuse_newcomer(id, handle.clone(), protocol::BARRED.to_owned(), "barred");
            return true;
        }
        if self.moderation.locked {
            self.log(
                log::Level::Info,
                format!("room {}: locked, {} turned away", self.name, host(peer)),
            );
            self.refuse_newcomer(id, handle.clone(), protocol::LOCKED.to_owned(), "locked");
            return true;
        }
        let waits = self.needs_opening()
            || self
                .moderation
                .code
                .as_ref()
                .is_some_and(|want| code != Some(want));
        if waits {
            self.lobby.push(Waiting {
                id,
                peer,
                handle: handle.clone(),
                session: session.cloned(),
                wrong: 0,
            });
            self.lobby_line(id);
        }
        waits
    }

    /// A notice to a connection that is no member, then close 1008.
    pub(super) fn refuse_newcomer(
        &mut self,
        id: ClientId,
        to: H,
        line: String,
        reason: &'static str,
    ) {
        self.deliver_now();
        self.out.push(Output::Send {
            id,
            to: to.clone(),
            frames: Vec::new(),
            history: Vec::new(),
            events: vec![std::sync::Arc::new(Event::notice(self.now, line))],
        });
        self.out.push(Output::Close {
            to,
            code: close::POLICY_VIOLATION,
            reason,
        });
    }

    /// A line to a connection in the lobby.
    fn lobby_tell(&mut self, id: ClientId, line: &str) {
        let Some(w) = self.lobby.get_mut(id) else {
            return;
        };
        let to = w.handle.clone();
        self.out.push(Output::Send {
            id,
            to,
            frames: Vec::new(),
            history: Vec::new(),
            events: vec![std::sync::Arc::new(Event::notice(self.now, line))],
        });
    }

    /// The lobby's line: why it waits.
    fn lobby_line(&mut self, id: ClientId) {
        let line = if self.needs_opening() {
            protocol::WAITING_FOR_TEACHER
        } else {
            protocol::NEEDS_CODE
        };
        self.lobby_tell(id, line);
    }

    /// A line from a connection in the lobby: `/code CODE`, or anything
    /// else (the lobby's line again). `/teacher KEY` is `Room::key`.
    pub(super) fn lobby_message(&mut self, id: ClientId, text: &str) {
        let mut words = text.split_whitespace();
        let is_code = words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("/code"));
        if !is_code || self.needs_opening() || self.moderation.code.is_none() {
            return self.lobby_line(id);
        }
        let given = words.next().and_then(JoinCode::parse);
        if given.is_some() && given == self.moderation.code {
            return self.let_in(id, false);
        }
        self.lobby_wrong(id, protocol::WRONG_CODE, "too many wrong codes");
    }

    /// A wrong code or key in the lobby: its notice; the fifth closes.
    pub(super) fn lobby_wrong(&mut self, id: ClientId, line: &str, reason: &'static str) {
        let Some(w) = self.lobby.get_mut(id) else {
            return;
        };
        w.wrong += 1;
        if w.wrong > MAX_WRONG {
            if let Some(w) = self.lobby.remove(id) {
                self.gone.push(id);
                self.log(
                    log::Level::Info,
                    format!("room {}: {} {reason}, closed", self.name, host(w.peer)),
                );
                self.refuse_newcomer(id, w.handle, line.to_owned(), reason);
            }
            return;
        }
        self.lobby_tell(id, line);
    }

    /// Let connection `id` out of the lobby and in, as a teacher or not.
    pub(super) fn let_in(&mut self, id: ClientId, teacher: bool) {
        if let Some(w) = self.lobby.remove(id) {
            self.join_now(w.id, w.peer, w.handle, w.session, teacher);
        }
        if teacher && self.needs_opening() {
            self.open_by_teacher();
        }
    }

    /// A teacher arrived in a room that waited for one (`--rooms
    /// teachers`): it is open now, and those waiting come in, in order of
    /// arrival (those a join code still holds hear it).
    pub(super) fn open_by_teacher(&mut self) {
        if !self.needs_opening() {
            return;
        }
        self.moderation.opened = true;
        self.keep(super::moderation::OPEN, Some("1".to_owned()), None);
        for w in self.lobby.take_all() {
            if self.moderation.code.is_some() {
                let id = w.id;
                self.lobby.push(w);
                self.lobby_line(id);
            } else {
                self.join_now(w.id, w.peer, w.handle, w.session, false);
            }
        }
    }

    /// Close every connection in the lobby (the server is stopping).
    pub(super) fn close_lobby(&mut self) {
        for w in self.lobby.take_all() {
            self.gone.push(w.id);
            self.out.push(Output::Close {
                to: w.handle,
                code: close::GOING_AWAY,
                reason: "server shutting down",
            });
        }
    }
}
