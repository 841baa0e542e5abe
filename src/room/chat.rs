//! One room: its member table, its pending batch and its history, and the
//! seed's three handlers. Runs on the room thread, which owns every room
//! (see `rooms.rs`); nothing else touches a room, so there is no lock.
//!
//! The seed's handlers: `handle-new-connection` is [`Room::join`],
//! `broadcast-to-room` is [`Room::message`] (through [`Room::publish`]) and
//! `handle-close-connection` is [`Room::leave`].
//!
//! **The seam for scale-out** (issue 15): everything the whole room hears
//! goes through [`Room::publish`] as a [`Broadcast`], and [`Room::apply`]
//! is where a broadcast becomes a line in the batch (and the history).
//! Today `publish` calls `apply` at once; with Redis, `publish` sends the
//! broadcast to the room's channel instead, and the subscriber hands each
//! broadcast that comes back to `apply`, so every instance delivers the same
//! lines in the same order.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Instant;

use tungstenite::Bytes;

use super::batch::{self, Batch, Undelivered};
use super::cluster::{Newcomer, Remote};
use super::history::History;
use super::members::{Member, Members};
use super::path::{RoomName, SessionId};
use super::{ClientId, LeaveReason, Settings};
use crate::frame;
use crate::outbox::{Outbox, Refused};
use crate::protocol::{self, close};

/// A line for the whole room, before it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broadcast<'a> {
    /// `nick: text`; kept in the history.
    Chat { nick: &'a str, text: &'a str },
    /// `* nick action` (`/me`); kept in the history.
    Action { nick: &'a str, action: &'a str },
    /// A system line (` .... `); not kept.
    System(&'a str),
    /// ` .... NICK has joined.`
    Joined(&'a str),
    /// ` .... NICK has left.`
    Left(&'a str),
    /// ` .... OLD is now NEW.`
    Renamed { old: &'a str, new: &'a str },
    /// A chat or action line as another instance (or this one, through
    /// Redis) wrote it; kept in the history.
    Relayed(&'a str),
}

/// One room. [`super::run`] drives every room from the channel; tests
/// drive one directly (and call [`Room::flush`] to send what is pending).
pub struct Room {
    pub(super) name: RoomName,
    pub(super) members: Members,
    /// Lines for every member, not yet sent.
    pub(super) pending: Batch,
    pub(super) history: History,
    pub(super) settings: Settings,
    /// After `Shutdown`: no more joins or broadcasts, only goodbyes.
    pub(super) closing: bool,
    /// [`batch::SPLIT_FROM`]; lower in tests, to try the two-thread path.
    pub(super) split_from: usize,
    /// Away members, by when their grace ends.
    pub(super) away: BTreeSet<(Instant, ClientId)>,
    /// With `--redis`: the other instances' view (see `cluster.rs`).
    pub(super) remote: Option<Remote>,
}

impl Default for Room {
    fn default() -> Self {
        Room::new(RoomName::main(), Settings::default())
    }
}

impl Room {
    pub fn new(name: RoomName, settings: Settings) -> Room {
        Room {
            name,
            members: Members::default(),
            pending: Batch::default(),
            history: History::new(settings.history_lines),
            settings,
            closing: false,
            split_from: batch::SPLIT_FROM,
            away: BTreeSet::new(),
            remote: None,
        }
    }

    /// Members, away ones included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// No member, and (with Redis) no newcomer on its way in.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && !self.has_newcomers()
    }

    /// The nickname of a member, if it is here.
    pub fn nickname(&self, id: ClientId) -> Option<&str> {
        self.members.get(id).map(|m| m.nickname.as_str())
    }

    /// The seed's `handle-new-connection`: pick a free `user-N`, give the
    /// newcomer the history, who they are and who is here, and tell the
    /// others who arrived. With the `session` of an away member, take that
    /// member back instead (see `resume.rs`); a session a connected member
    /// holds is ignored.
    pub fn join(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        outbox: Outbox,
        mut session: Option<SessionId>,
    ) {
        if self.closing {
            outbox.close(close::GOING_AWAY, "server shutting down");
            return;
        }
        if let Some(s) = &session {
            if self.resume(s, id, peer, &outbox) {
                return;
            }
            if self.members.by_session(s).is_some() {
                session = None; // in use by a connected member
            }
        }
        let Some(number) = self.free_number() else {
            // Every nickname is taken: only possible with --max-clients above
            // NICKNAME_SPACE. Refuse rather than hand out a duplicate.
            log::warn!(
                "room {}: no free nickname for {peer}, closing it",
                self.name
            );
            outbox.close(close::GOING_AWAY, "room is full");
            return;
        };
        let newcomer = Newcomer {
            id,
            peer,
            outbox,
            session,
            number: Some(number),
            nickname: protocol::nickname(number),
        };
        // With Redis, the newcomer enters when its published join comes back.
        if let Some(newcomer) = self.join_through_redis(newcomer) {
            self.enter(newcomer, None);
        }
    }

    /// Let a newcomer in: the others hear of it, it gets the history, who
    /// it is and who is here. `arrival`: its join's place in the room's
    /// order across instances, if it came back from Redis.
    pub(super) fn enter(&mut self, newcomer: Newcomer, arrival: Option<u64>) {
        let Newcomer {
            id,
            peer,
            outbox,
            session,
            number,
            nickname,
        } = newcomer;
        log::info!("room: {nickname} joined from {peer} (room {})", self.name);
        // The join notice is for the others: it goes in the batch before
        // the newcomer does, and the newcomer hears the batch from after it.
        self.apply(&Broadcast::Joined(&nickname));
        let arrival = arrival.unwrap_or_else(|| self.members.arrive());
        self.members.insert(
            id,
            Member {
                nickname,
                number,
                peer,
                outbox: Some(outbox),
                since: self.pending.end(),
                arrival,
                session,
                missed: None,
                away_until: None,
            },
        );
        // To the newcomer alone, at once: history, who they are, who is here.
        let mut hello = Vec::new();
        let lines = self.history.write_to(&mut hello);
        self.send_greeting(id, hello, lines);
    }

    /// Send `lines` frames already in `hello`, then ` .... you are NICK.`
    /// and the presence line, to member `id` alone.
    pub(super) fn send_greeting(&mut self, id: ClientId, mut hello: Vec<u8>, lines: usize) {
        let presence = self.presence();
        let Some(member) = self.members.get(id) else {
            return;
        };
        let you_are = protocol::you_are(&member.nickname);
        frame::encode(frame::TEXT, you_are.as_bytes(), &mut hello);
        frame::encode(frame::TEXT, presence.as_bytes(), &mut hello);
        // A fresh connection takes this at once (its socket is empty);
        // refused only if it is already gone, and then its reader leaves.
        let _ = member.send_lines(&Bytes::from(hello), lines + 2);
    }

    /// The seed's `broadcast-to-room`: `nick: message` to everyone, sender
    /// included, encoded once into the batch every member gets. A line
    /// starting with `/` is a command (see `commands.rs`); only those are
    /// parsed.
    pub fn message(&mut self, id: ClientId, text: &str) {
        if self.closing {
            return;
        }
        if text.as_bytes().first() == Some(&b'/') {
            return self.command(id, text);
        }
        self.say(id, text);
    }

    /// `nick: text` to everyone.
    pub(super) fn say(&mut self, id: ClientId, text: &str) {
        self.speak(id, text, false);
    }

    /// `* nick action` to everyone (`/me`).
    pub(super) fn act(&mut self, id: ClientId, action: &str) {
        self.speak(id, action, true);
    }

    fn speak(&mut self, id: ClientId, text: &str, action: bool) {
        let Some(member) = self.members.get(id) else {
            return; // already dropped by the room; its last words go nowhere
        };
        let nick = member.nickname.as_str();
        log::debug!("room {}: {nick}: {text}", self.name);
        let line = if action {
            Broadcast::Action { nick, action: text }
        } else {
            Broadcast::Chat { nick, text }
        };
        if self.remote.is_some() {
            let (nick, text) = (nick.to_owned(), text.to_owned());
            let line = if action {
                Broadcast::Action {
                    nick: &nick,
                    action: &text,
                }
            } else {
                Broadcast::Chat {
                    nick: &nick,
                    text: &text,
                }
            };
            return self.publish(line);
        }
        // (`apply` on the fields: the line borrows the member's nickname.)
        apply(&mut self.pending, &mut self.history, &line);
        self.flush_if_full();
    }

    /// Tell the whole room: the seam where a scale-out layer takes over
    /// (see the module doc). Without Redis: [`Room::apply`] at once. With
    /// it: sent to Redis, applied when it comes back (`cluster.rs`).
    pub fn publish(&mut self, line: Broadcast<'_>) {
        if !self.relay(&line) {
            self.apply(&line);
        }
    }

    /// Where a broadcast becomes a line for every member: into the pending
    /// batch, and (chat and actions) into the history.
    pub fn apply(&mut self, line: &Broadcast<'_>) {
        apply(&mut self.pending, &mut self.history, line);
        self.flush_if_full();
    }

    fn flush_if_full(&mut self) {
        if self.pending.is_full() {
            self.flush();
        }
    }

    /// The seed's `handle-close-connection`: remove the member first, then
    /// tell everyone left. A member with a session whose connection dropped
    /// (no close frame) goes away instead, silently, for the resume grace
    /// (see `resume.rs`). A second Leave for the same id does nothing, so
    /// the leave line goes out exactly once however the client went.
    pub fn leave(&mut self, id: ClientId, reason: &LeaveReason) {
        if self.forget_newcomer(id) || self.go_away(id, reason) {
            return;
        }
        if self.members.get(id).is_some_and(|m| m.away_until.is_some()) {
            return; // away already: its grace decides
        }
        self.remove_and_announce(id, reason);
    }

    /// Remove member `id`, log why, and tell the others it left (unless
    /// the server is stopping). Returns the member, if it was here.
    pub(super) fn remove_and_announce(
        &mut self,
        id: ClientId,
        why: &dyn std::fmt::Display,
    ) -> Option<Member> {
        let member = self.members.remove(id)?;
        log::info!(
            "room: {} left ({}, room {}): {why}",
            member.nickname,
            member.peer,
            self.name
        );
        if !self.closing {
            self.publish(Broadcast::Left(&member.nickname));
        }
        Some(member)
    }

    /// Send what was accepted, then close every client with 1001.
    pub fn shutdown(&mut self) {
        self.flush();
        self.closing = true;
        self.close_newcomers();
        for outbox in self
            .members
            .by_id
            .values()
            .filter_map(|m| m.outbox.as_ref())
        {
            outbox.close(close::GOING_AWAY, "server shutting down");
        }
    }

    /// Whether lines wait in the batch.
    pub fn has_pending(&self) -> bool {
        self.pending.lines > 0
    }

    /// Send the pending batch to every member without ever blocking: each
    /// outbox sends it at once, or queues it for a writer if the socket is
    /// full. A member with too many lines waiting is too slow: it is
    /// dropped (closed with 1008) and the others are told it left, which is
    /// a new batch, which may drop more. Lines a member with a session could
    /// not take because its connection is gone are kept for its resume.
    pub fn flush(&mut self) {
        while self.pending.lines > 0 {
            let Batch { bytes, lines } = std::mem::take(&mut self.pending);
            crate::metrics::broadcast(lines, bytes.len());
            let batch = Bytes::from(bytes);
            let missed = if self.members.len() < self.split_from {
                batch::deliver(self.members.by_id.iter_mut(), &batch, lines)
            } else {
                batch::deliver_on_two_threads(&mut self.members.by_id, &batch, lines)
            };
            for undelivered in missed {
                self.undelivered(undelivered);
            }
        }
    }

    /// Lines for member `id` alone (sender-only answers, private lines),
    /// after what the room has already said, so they keep their place.
    pub(super) fn tell(&mut self, id: ClientId, lines: &[&str]) {
        self.flush();
        let Some(member) = self.members.get(id) else {
            return;
        };
        let mut bytes = Vec::new();
        for line in lines {
            frame::encode(frame::TEXT, line.as_bytes(), &mut bytes);
        }
        let bytes = Bytes::from(bytes);
        if let Err(why) = member.send_lines(&bytes, lines.len()) {
            self.undelivered(Undelivered {
                id,
                why,
                lines: bytes,
                count: lines.len(),
            });
        }
    }

    /// Lines a member could not take: too slow (dropped, with 1008), or
    /// gone (kept for its resume, if it has a session).
    fn undelivered(&mut self, undelivered: Undelivered) {
        let id = undelivered.id;
        if undelivered.why == Refused::Gone {
            // Gone: the connection is ending; the reader's Leave is on its way.
            return self.keep_missed(undelivered);
        }
        let why = "too many lines waiting, dropped";
        crate::metrics::dropped_too_slow();
        if let Some(Member {
            outbox: Some(outbox),
            ..
        }) = self.remove_and_announce(id, &why)
        {
            outbox.abort_with(close::POLICY_VIOLATION, "too slow: too many lines waiting");
        }
    }
}

/// [`Room::apply`] on the fields it needs, so a line can borrow a
/// member's nickname while the batch and history change.
fn apply(pending: &mut Batch, history: &mut History, line: &Broadcast<'_>) {
    match *line {
        Broadcast::Chat { nick, text } => {
            let parts = protocol::chat_line(nick, text).map(str::as_bytes);
            pending.push(&parts);
            history.push(&parts);
        }
        Broadcast::Action { nick, action } => {
            let parts = protocol::action_line(nick, action).map(str::as_bytes);
            pending.push(&parts);
            history.push(&parts);
        }
        Broadcast::System(line) => pending.push(&[line.as_bytes()]),
        Broadcast::Joined(nick) => pending.push(&[protocol::has_joined(nick).as_bytes()]),
        Broadcast::Left(nick) => pending.push(&[protocol::has_left(nick).as_bytes()]),
        Broadcast::Renamed { old, new } => pending.push(&[protocol::is_now(old, new).as_bytes()]),
        Broadcast::Relayed(line) => {
            pending.push(&[line.as_bytes()]);
            history.push(&[line.as_bytes()]);
        }
    }
}
