//! The hot path: a room's pending lines, encoded once into one buffer, and
//! its delivery to every member with a non-blocking send. Runs on the room
//! thread (and, for a big room, on a helper thread it starts for one batch).
//! Owns the [`Batch`] being filled; the members are lent to it.
//!
//! [`Room::flush`](super::Room::flush) -> [`deliver`] ->
//! [`Outbox::send_lines`]: one shared buffer, one queue entry and one write
//! per member per batch, however many lines it holds.

use std::collections::HashMap;

use tungstenite::Bytes;

use super::members::Member;
use super::ClientId;
use crate::frame;
use crate::outbox::Refused;

/// A busy room sends the lines of up to this many waiting events as one
/// batch: one shared buffer, one queue entry and one write per client.
/// Joins and leaves are part of the batch too (a newcomer gets the part of
/// it from its arrival on), so a crowd arriving costs one wake-up per
/// client per batch, not per arrival.
pub const MAX_BATCH_EVENTS: usize = 1024;
/// ...and sends a batch early once it holds this many bytes.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// From this many members on, a batch is sent from two threads (see
/// [`deliver_on_two_threads`]).
pub const SPLIT_FROM: usize = 1000;
/// The helper's stack: it only loops over sends.
const HELPER_STACK_BYTES: usize = 64 * 1024;

/// A position in a [`Batch`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub bytes: usize,
    pub lines: usize,
}

/// Text frames encoded back to back: the lines every member gets next.
#[derive(Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    pub lines: usize,
}

impl Batch {
    /// Add one line, given in parts.
    pub fn push(&mut self, parts: &[&[u8]]) {
        frame::encode_parts(frame::TEXT, parts, &mut self.bytes);
        self.lines += 1;
    }

    pub fn is_full(&self) -> bool {
        self.bytes.len() >= MAX_BATCH_BYTES
    }

    pub fn end(&self) -> Mark {
        Mark {
            bytes: self.bytes.len(),
            lines: self.lines,
        }
    }
}

/// A member a batch did not reach, and the part of it that was for it.
pub struct Undelivered {
    pub id: ClientId,
    /// `Full`: too far behind; `Gone`: its connection is closing or aborted.
    pub why: Refused,
    /// The lines it did not get (a slice of the batch: no copy).
    pub lines: Bytes,
    pub count: usize,
}

/// Send `batch` (of `lines` lines) to each of `members`, from where each
/// came in; return those it did not reach.
pub fn deliver<'a>(
    members: impl Iterator<Item = (&'a ClientId, &'a mut Member)>,
    batch: &Bytes,
    lines: usize,
) -> Vec<Undelivered> {
    let mut missed = Vec::new();
    for (&id, member) in members {
        let since = std::mem::take(&mut member.since);
        if since.lines == lines {
            continue; // joined after the last line of this batch
        }
        // A newcomer gets a slice of the same buffer: no copy.
        let slice;
        let from = if since.bytes == 0 {
            batch
        } else {
            slice = batch.slice(since.bytes..);
            &slice
        };
        if let Err(why) = member.send_lines(from, lines - since.lines) {
            missed.push(Undelivered {
                id,
                why,
                lines: from.clone(),
                count: lines - since.lines,
            });
        }
    }
    missed
}

/// [`deliver`] for a big room: the room thread sends to half the members
/// while a helper thread, started for this batch, sends to the other half.
/// Each send is a system call of several microseconds (on loopback it also
/// does the receiving side's work), so one thread takes tens of
/// milliseconds for thousands of members; starting a thread costs tens of
/// microseconds. If no thread can be started, the room sends them all.
pub fn deliver_on_two_threads(
    members: &mut HashMap<ClientId, Member>,
    batch: &Bytes,
    lines: usize,
) -> Vec<Undelivered> {
    let mut all: Vec<(&ClientId, &mut Member)> = members.iter_mut().collect();
    let half = all.len() / 2;
    let (mine, theirs) = all.split_at_mut(half);
    let (mut missed, helped) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("room-helper".into())
            .stack_size(HELPER_STACK_BYTES)
            .spawn_scoped(scope, || deliver(pairs(theirs), batch, lines));
        let missed = deliver(pairs(mine), batch, lines);
        (missed, helper.map(|helper| helper.join()))
    });
    match helped {
        Ok(Ok(more)) => missed.extend(more),
        // Nothing in `deliver` panics; if it did, say so.
        Ok(Err(_)) => log::error!("room: the helper thread panicked"),
        Err(e) => {
            log::debug!("room: no helper thread ({e}); sending alone");
            missed.extend(deliver(pairs(theirs), batch, lines));
        }
    }
    missed
}

/// The (id, member) pairs of a slice of them, as [`deliver`] takes them.
fn pairs<'a, 'b: 'a>(
    members: &'a mut [(&'b ClientId, &'b mut Member)],
) -> impl Iterator<Item = (&'a ClientId, &'a mut Member)> + use<'a, 'b> {
    members
        .iter_mut()
        .map(|(id, member)| (&**id, &mut **member))
}
