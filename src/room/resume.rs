//! Coming back as yourself: a member that gave `?session=ID` and lost its
//! connection without a close frame stays in its room, away, for
//! `--resume-grace`; the others notice nothing. A new connection with the
//! same ID in that time takes it back with the lines it missed. Owns each
//! away member's missed lines ([`Missed`]), kept in its member entry.
//!
//! The missed lines are, in order: the whole lines still waiting in the old
//! connection's outbox when it ended (handed back by the broadcaster as
//! frames), then every event the room had for it after that, at most
//! `--outbox-lines`, as for a connected member. Past that bound the member
//! is let go at once (` .... NICK has left.`), as a connected member that
//! far behind is dropped. Lost for good: lines the kernel had already
//! accepted for the dead connection.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::members::Member;
use super::path::SessionId;
use super::room::Room;
use super::{ClientId, LeaveReason, Output};
use crate::event::Event;

/// Lines a member with a session did not get, kept for its resume.
#[derive(Debug, Default)]
pub struct Missed {
    /// Encoded lines its old connection did not send (older).
    frames: Vec<Bytes>,
    /// Events the room had for it since (newer).
    events: Vec<Arc<Event>>,
    lines: usize,
    /// More than the bound came: the member cannot be resumed whole.
    overflowed: bool,
}

impl Missed {
    /// Count `lines` more against `limit`; false (and forget everything)
    /// past it.
    fn fits(&mut self, lines: usize, limit: usize) -> bool {
        if self.overflowed || self.lines + lines > limit {
            *self = Missed {
                overflowed: true,
                ..Missed::default()
            };
            return false;
        }
        self.lines += lines;
        true
    }
}

impl<H> Member<H> {
    /// Keep events for this away member's resume; false past `limit`.
    pub fn keep_events(&mut self, events: &[Arc<Event>], limit: usize) -> bool {
        let missed = self.missed.get_or_insert_with(Box::default);
        if !missed.fits(events.len(), limit) {
            return false;
        }
        missed.events.extend(events.iter().cloned());
        true
    }
}

impl<H: Clone> Room<H> {
    /// If member `id` has a session and dropped, keep it away for the grace
    /// and return true. Its connection is detached now (the broadcaster
    /// ends it and hands back what it had not sent), so no line can slip
    /// into a dead socket's buffers after this.
    pub(super) fn go_away(&mut self, id: ClientId, reason: &LeaveReason) -> bool {
        let until = self.now.plus(self.settings.resume_grace);
        let (closing, grace) = (self.closing, self.settings.resume_grace);
        let Some(member) = self.members.get_mut(id) else {
            return false;
        };
        let overflowed = member.missed.as_ref().is_some_and(|m| m.overflowed);
        if closing
            || member.session.is_none()
            || member.away_until.is_some()
            || !reason.is_drop()
            || overflowed
        {
            return false;
        }
        member.away_until = Some(until);
        let nickname = member.nickname.clone();
        let peer = member.peer;
        if let Some(to) = member.handle.take() {
            self.out.push(Output::Detach { id, to });
        }
        self.away.insert((until, id));
        self.log(
            log::Level::Info,
            format!(
                "room {}: {nickname} dropped ({peer}): {reason}; kept {grace:?} for a resume",
                self.name
            ),
        );
        true
    }

    /// If `session` is an away member's, give it the new connection (id,
    /// peer, handle): the missed lines, ` .... you are NICK.` and the
    /// presence line; the others see nothing. Returns whether it did.
    pub(super) fn resume(
        &mut self,
        session: &SessionId,
        id: ClientId,
        peer: SocketAddr,
        handle: &H,
    ) -> bool {
        let Some(old) = self.members.by_session(session) else {
            return false;
        };
        let limit = self.settings.outbox_lines;
        let pending = self.pending.clone();
        let Some(member) = self.members.get_mut(old) else {
            return false;
        };
        let Some(until) = member.away_until else {
            return false;
        };
        // What the room said since it went, not yet delivered, is missed too.
        let from = std::mem::take(&mut member.since).min(pending.len());
        if !member.keep_events(&pending[from..], limit) {
            self.away.remove(&(until, old));
            self.let_go(old, "missed too many lines");
            return false;
        }
        self.away.remove(&(until, old));
        let since = self.pending.len();
        let Some(member) = self.members.rekey(old, id) else {
            return false;
        };
        self.gone.push(old);
        member.away_until = None;
        member.handle = Some(handle.clone());
        member.since = since;
        let was = std::mem::replace(&mut member.peer, peer);
        let nickname = member.nickname.clone();
        let missed = *member.missed.take().unwrap_or_default();
        self.log(
            log::Level::Info,
            format!(
                "room {}: {nickname} is back (from {peer}, was {was})",
                self.name
            ),
        );
        self.greet(id, missed.frames, Vec::new(), missed.events);
        true
    }

    /// Keep lines the room could not send a member whose connection is
    /// gone, if it may resume. Past the bound, let an away member go.
    pub(super) fn keep_missed(&mut self, id: ClientId, frames: Vec<Bytes>, lines: usize) {
        let limit = self.settings.outbox_lines;
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        if member.session.is_none() {
            return;
        }
        let missed = member.missed.get_or_insert_with(Box::default);
        if missed.fits(lines, limit) {
            missed.frames.extend(frames);
            return;
        }
        if let Some(until) = member.away_until {
            self.away.remove(&(until, id));
            self.let_go(id, "missed too many lines");
        }
    }

    /// Let go of every away member whose grace has ended by now.
    pub fn expire(&mut self) {
        while let Some(&(until, id)) = self.away.first() {
            if until > self.now {
                break;
            }
            self.away.pop_first();
            self.let_go(id, "did not come back in time");
        }
        self.expire_rules();
    }

    /// When the next away member's grace ends, or a mute or bar does.
    pub fn next_deadline(&self) -> Option<crate::event::Time> {
        let away = self.away.first().map(|&(until, _)| until);
        away.into_iter()
            .chain(self.moderation.next_deadline())
            .min()
    }

    /// Remove away member `id` and tell the others it left.
    pub(super) fn let_go(&mut self, id: ClientId, why: &str) {
        self.remove_and_announce(id, why);
    }
}
