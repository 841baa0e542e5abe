//! The hot path: a room's batch rendered once per wire format in use, and
//! sent to every member with a non-blocking send. Runs on the broadcaster
//! thread (and, for a big room, on a helper thread it starts for one batch).
//!
//! [`Broadcaster::deliver`] -> [`send_to`] -> [`Outbox::send_lines`]: one
//! shared buffer per format, one queue entry and one write per member per
//! batch, however many lines it holds.

use std::sync::Arc;

use bytes::Bytes;

use super::{Broadcaster, Handle};
use crate::event::Event;
use crate::id::ClientId;
use crate::outbox;
use crate::protocol::{self, Format};
use crate::room::{Refused, Target};
use crate::store::Write;

/// From this many members on, a batch is sent from two threads (see
/// [`deliver_on_two_threads`]).
pub const SPLIT_FROM: usize = 1000;
/// The helper's stack: it only loops over sends.
const HELPER_STACK_BYTES: usize = 64 * 1024;

/// A batch rendered in one format: the frames back to back, and where each
/// event's frame starts (so a newcomer gets a slice: no copy).
struct Rendered {
    bytes: Bytes,
    starts: Vec<usize>,
}

impl Rendered {
    fn new(events: &[Arc<Event>], format: Format) -> Rendered {
        let mut bytes = Vec::new();
        let mut starts = Vec::with_capacity(events.len());
        for event in events {
            starts.push(bytes.len());
            protocol::encode(event, format, false, &mut bytes);
        }
        Rendered {
            bytes: Bytes::from(bytes),
            starts,
        }
    }

    /// The frames from event `from` on.
    fn from(&self, from: usize) -> Bytes {
        match self.starts.get(from) {
            Some(0) => self.bytes.clone(),
            Some(&start) => self.bytes.slice(start..),
            None => Bytes::new(),
        }
    }
}

/// A member a batch (or a line) did not reach.
struct Undelivered {
    id: ClientId,
    why: Refused,
    frames: Vec<Bytes>,
    lines: usize,
}

impl Broadcaster {
    /// Send room `name`'s pending batch to its members, then hand back to
    /// the core those it did not reach.
    pub(super) fn deliver(&mut self, name: &crate::room::RoomName) {
        let now = self.clock.now();
        let Some(batch) = self.core.take_batch(name) else {
            return;
        };
        let events = batch.events;
        if let Some(store) = &self.store {
            // The batch's events are kept (the store takes those it keeps):
            // one write a batch, sharing the events, copying nothing.
            store.write(Write::Events {
                room: name.to_string(),
                events: events.clone(),
            });
        }
        let needs = |f: Format| batch.targets.iter().any(|t| t.handle.format == f);
        let text = needs(Format::Text).then(|| Rendered::new(&events, Format::Text));
        let json = needs(Format::Json).then(|| Rendered::new(&events, Format::Json));
        let size = text.as_ref().map_or(0, |r| r.bytes.len());
        crate::metrics::broadcast(events.len(), size);
        let rendered = Renders {
            text: text.as_ref(),
            json: json.as_ref(),
            lines: events.len(),
        };
        let missed = if batch.targets.len() < SPLIT_FROM {
            send_all(&batch.targets, &rendered)
        } else {
            deliver_on_two_threads(&batch.targets, &rendered)
        };
        for u in missed {
            self.core.undelivered(u.id, u.why, u.frames, u.lines, now);
        }
    }

    /// Events for one member alone: frames first, then the history, then
    /// the events.
    pub(super) fn send(
        &mut self,
        id: ClientId,
        to: &Handle,
        frames: Vec<Bytes>,
        history: &[Arc<Event>],
        events: &[Arc<Event>],
    ) {
        let mut bytes: Vec<u8> = Vec::with_capacity(frames.iter().map(Bytes::len).sum());
        let mut lines = 0;
        for f in &frames {
            bytes.extend_from_slice(f);
            lines += count_frames(f);
        }
        for event in history {
            protocol::encode(event, to.format, true, &mut bytes);
        }
        for event in events {
            protocol::encode(event, to.format, false, &mut bytes);
        }
        lines += history.len() + events.len();
        let bytes = Bytes::from(bytes);
        if let Err(why) = to.outbox.send_lines(&bytes, lines) {
            let u = undelivered(id, &to.outbox, why, bytes, lines);
            self.core
                .undelivered(u.id, u.why, u.frames, u.lines, self.clock.now());
        }
    }
}

/// A batch in every format a member needs.
struct Renders<'a> {
    text: Option<&'a Rendered>,
    json: Option<&'a Rendered>,
    lines: usize,
}

/// Send the batch to each of `targets`, from where each came in; return
/// those it did not reach.
fn send_all(targets: &[Target<'_, Handle>], renders: &Renders<'_>) -> Vec<Undelivered> {
    targets
        .iter()
        .filter_map(|target| send_to(target, renders))
        .collect()
}

fn send_to(target: &Target<'_, Handle>, renders: &Renders<'_>) -> Option<Undelivered> {
    let rendered = match target.handle.format {
        Format::Text => renders.text?,
        Format::Json => renders.json?,
    };
    let frames = rendered.from(target.from);
    let lines = renders.lines - target.from;
    let outbox = &target.handle.outbox;
    let why = outbox.send_lines(&frames, lines).err()?;
    Some(undelivered(target.id, outbox, why, frames, lines))
}

/// What a member did not take. A member whose connection is going keeps
/// what its outbox still held, then this, for a resume.
fn undelivered(
    id: ClientId,
    outbox: &outbox::Outbox,
    why: outbox::Refused,
    frames: Bytes,
    lines: usize,
) -> Undelivered {
    match why {
        outbox::Refused::Full => Undelivered {
            id,
            why: Refused::Full,
            frames: vec![frames],
            lines,
        },
        outbox::Refused::Gone => {
            let (mut kept, kept_lines) = outbox.take_unsent();
            kept.push(frames);
            Undelivered {
                id,
                why: Refused::Gone,
                frames: kept,
                lines: kept_lines + lines,
            }
        }
    }
}

/// How many whole frames `bytes` holds (frames the server encoded: small
/// headers, no mask).
fn count_frames(bytes: &[u8]) -> usize {
    let mut at = 0;
    let mut n = 0;
    while at + 2 <= bytes.len() {
        let len = match bytes[at + 1] & 0x7f {
            126 if at + 4 <= bytes.len() => {
                at += 4;
                usize::from(u16::from_be_bytes([bytes[at - 2], bytes[at - 1]]))
            }
            127 if at + 10 <= bytes.len() => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&bytes[at + 2..at + 10]);
                at += 10;
                usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX)
            }
            126 | 127 => break,
            len => {
                at += 2;
                usize::from(len)
            }
        };
        at = at.saturating_add(len);
        n += 1;
    }
    n
}

/// [`send_all`] for a big room: the broadcaster sends to half the members
/// while a helper thread, started for this batch, sends to the other half.
/// Each send is a system call of several microseconds (on loopback it also
/// does the receiving side's work), so one thread takes tens of
/// milliseconds for thousands of members; starting a thread costs tens of
/// microseconds. If no thread can be started, the broadcaster sends them all.
fn deliver_on_two_threads(
    targets: &[Target<'_, Handle>],
    renders: &Renders<'_>,
) -> Vec<Undelivered> {
    let (mine, theirs) = targets.split_at(targets.len() / 2);
    let (mut missed, helped) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("broadcaster-helper".into())
            .stack_size(HELPER_STACK_BYTES)
            .spawn_scoped(scope, || send_all(theirs, renders));
        let missed = send_all(mine, renders);
        (missed, helper.map(|helper| helper.join()))
    });
    match helped {
        Ok(Ok(more)) => missed.extend(more),
        // Nothing in `send_all` panics; if it did, say so.
        Ok(Err(_)) => log::error!("broadcaster: the helper thread panicked"),
        Err(e) => {
            log::debug!("broadcaster: no helper thread ({e}); sending alone");
            missed.extend(send_all(theirs, renders));
        }
    }
    missed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame;

    #[test]
    fn counts_frames_of_every_length() {
        let mut bytes = Vec::new();
        for len in [0, 5, 125, 126, 300, 70_000] {
            frame::encode(frame::TEXT, &vec![b'x'; len], &mut bytes);
        }
        assert_eq!(count_frames(&bytes), 6);
    }
}
