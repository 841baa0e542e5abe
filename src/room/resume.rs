//! Coming back as yourself (issue 11): a member that gave `?session=ID`
//! and lost its connection without a close frame stays in its room, away,
//! for `--resume-grace`; the others notice nothing. A new connection with
//! the same ID in that time takes it back with the lines it missed.
//! Runs on the room thread; owns each away member's missed lines
//! ([`Missed`]), kept in its [`Member`](super::members::Member) entry.
//!
//! The missed lines are, in order: the whole lines still waiting in the old
//! connection's outbox when it was aborted, then every line the room sent
//! it after that (refused as `Gone` by the aborted outbox), at most
//! `--outbox-lines`, as for a connected member. Past that bound the member
//! is let go at once (` .... NICK has left.`), as a connected member that
//! far behind is dropped. Lost for good: lines the kernel had already
//! accepted for the dead connection.

use std::net::SocketAddr;
use std::time::Instant;

use tungstenite::Bytes;

use super::batch::Undelivered;
use super::chat::Room;
use super::path::SessionId;
use super::{ClientId, LeaveReason};
use crate::outbox::Outbox;

/// Lines a member with a session did not get, kept for its resume.
#[derive(Debug, Default)]
pub struct Missed {
    frames: Vec<Bytes>,
    lines: usize,
    /// More than the bound came: the member cannot be resumed whole.
    overflowed: bool,
}

impl Missed {
    /// Start with what the aborted `outbox` still held (nothing, for a
    /// member already away).
    fn from_outbox(outbox: Option<&Outbox>) -> Missed {
        let (frames, lines) = outbox.map(Outbox::take_unsent).unwrap_or_default();
        Missed {
            frames,
            lines,
            overflowed: false,
        }
    }

    /// Keep `lines` more; false (and forget everything) past `limit`.
    fn push(&mut self, frames: Bytes, lines: usize, limit: usize) -> bool {
        if self.overflowed || self.lines + lines > limit {
            *self = Missed {
                overflowed: true,
                ..Missed::default()
            };
            return false;
        }
        self.frames.push(frames);
        self.lines += lines;
        true
    }
}

impl LeaveReason {
    /// Gone without a close frame (reset, end of the TCP stream, silence,
    /// a failed read): the kinds of leaving a resume can undo.
    pub fn is_drop(&self) -> bool {
        matches!(
            self,
            LeaveReason::Aborted | LeaveReason::TimedOut | LeaveReason::ReadFailed(_)
        )
    }
}

impl Room {
    /// If member `id` has a session and dropped, keep it away for the grace
    /// and return true. Its connection is aborted now, so no line can slip into
    /// a dead socket's buffers after this; what was still waiting is kept.
    pub(super) fn go_away(&mut self, id: ClientId, reason: &LeaveReason) -> bool {
        let limit = self.settings.outbox_lines;
        let until = Instant::now() + self.settings.resume_grace;
        let closing = self.closing;
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
        // The away member lets go of its connection (and its descriptor).
        let outbox = member.outbox.take();
        if let Some(outbox) = &outbox {
            outbox.abort_now();
        }
        let missed = member
            .missed
            .get_or_insert_with(|| Missed::from_outbox(outbox.as_ref()));
        if missed.lines > limit {
            return false;
        }
        member.away_until = Some(until);
        self.away.insert((until, id));
        log::info!(
            "room {}: {} dropped ({}): {reason}; kept {:?} for a resume",
            self.name,
            member.nickname,
            member.peer,
            self.settings.resume_grace
        );
        true
    }

    /// If `session` is an away member's, give it the new connection (id,
    /// peer, outbox): the missed lines, ` .... you are NICK.` and the
    /// presence line; the others see nothing. Returns whether it did.
    pub(super) fn resume(
        &mut self,
        session: &SessionId,
        id: ClientId,
        peer: SocketAddr,
        outbox: &Outbox,
    ) -> bool {
        let is_away = |room: &Room| {
            room.members
                .by_session(session)
                .and_then(|old| room.members.get(old))
                .is_some_and(|m| m.away_until.is_some())
        };
        if !is_away(self) {
            return false;
        }
        // Everything said until now goes into its missed lines (the batch
        // may have been let go of it, if it overflowed).
        self.flush();
        if !is_away(self) {
            return false;
        }
        let Some(old) = self.members.by_session(session) else {
            return false;
        };
        let Some(member) = self.members.rekey(old, id) else {
            return false;
        };
        if let Some(until) = member.away_until.take() {
            self.away.remove(&(until, old));
        }
        member.outbox = Some(outbox.clone());
        member.since = Default::default();
        let was = std::mem::replace(&mut member.peer, peer);
        log::info!(
            "room {}: {} is back (from {peer}, was {was})",
            self.name,
            member.nickname
        );
        let missed = member.missed.take().unwrap_or_default();
        let mut hello = Vec::with_capacity(missed.frames.iter().map(Bytes::len).sum());
        for frames in &missed.frames {
            hello.extend_from_slice(frames);
        }
        self.send_greeting(id, hello, missed.lines);
        true
    }

    /// Keep lines the room could not send a member whose connection is
    /// gone, if it may resume. Past the bound, let an away member go.
    pub(super) fn keep_missed(&mut self, undelivered: Undelivered) {
        let limit = self.settings.outbox_lines;
        let Some(member) = self.members.get_mut(undelivered.id) else {
            return;
        };
        if member.session.is_none() {
            return;
        }
        let missed = member
            .missed
            .get_or_insert_with(|| Missed::from_outbox(member.outbox.as_ref()));
        if missed.push(undelivered.lines, undelivered.count, limit) {
            return;
        }
        if let Some(until) = member.away_until {
            self.away.remove(&(until, undelivered.id));
            self.let_go(undelivered.id, "missed too many lines");
        }
    }

    /// Let go of every away member whose grace has ended by `now`.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&(until, id)) = self.away.first() {
            if until > now {
                break;
            }
            self.away.pop_first();
            self.let_go(id, "did not come back in time");
        }
    }

    /// When the next away member's grace ends, if any is away.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.away.first().map(|&(until, _)| until)
    }

    /// Remove away member `id` and tell the others it left.
    fn let_go(&mut self, id: ClientId, why: &str) {
        self.remove_and_announce(id, &why);
    }
}
