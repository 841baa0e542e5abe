//! A client's outbox: the queue between the room (and the client's own
//! reader) and the client's writer thread, the only thing that ever writes
//! the socket.
//!
//! Lines travel as encoded frames in shared, reference-counted buffers: the
//! room encodes a batch of lines once and every outbox holds a pointer to the
//! same bytes, so a long queue costs pointers, not copies. The queue itself is
//! an unbounded channel (it allocates as it fills, so an idle client costs
//! almost nothing); the bound is on *lines*, counted here, and checked by the
//! room before it queues more.

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tungstenite::Bytes;

/// One thing for the writer to put on the wire.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// One or more complete text frames, ready to write as they are; `lines`
    /// says how many, for the outbox bound.
    Frames { bytes: Bytes, lines: usize },
    /// The answer to a client's ping, handed over by the reader, which must
    /// not write (see `client.rs`). At most one waits; see [`Outbox::push_pong`].
    Pong(Bytes),
    /// A close frame with this code (0: no code) and reason; the writer sends
    /// it and stops.
    Close(u16, &'static str),
}

/// What the room and the writer share for one client.
#[derive(Debug, Default)]
struct Shared {
    /// Lines queued and not yet written.
    queued: AtomicUsize,
    /// Non-zero: the room dropped this client; close with this code.
    kick: AtomicU16,
    /// The payload of the latest ping not answered yet. While it is set, one
    /// `Pong` is in the queue, and it carries this payload when taken out.
    pong: Mutex<Option<Bytes>>,
}

impl Shared {
    fn pong_slot(&self) -> std::sync::MutexGuard<'_, Option<Bytes>> {
        // Nothing panics while holding it; if something did, the slot is
        // still a valid Option.
        self.pong
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sending side, held by the room and by the client's reader.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: Sender<Outgoing>,
    shared: Arc<Shared>,
    limit: usize,
}

/// Why lines could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The client has `limit` lines waiting already: it is too slow.
    Full,
    /// The writer is gone (the client is leaving).
    Gone,
}

/// The receiving side, held by the writer.
#[derive(Debug)]
pub struct Queue {
    rx: Receiver<Outgoing>,
    shared: Arc<Shared>,
}

/// An outbox that holds at most `limit` lines.
pub fn new(limit: usize) -> (Outbox, Queue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared::default());
    let outbox = Outbox {
        tx,
        shared: shared.clone(),
        limit: limit.max(1),
    };
    (outbox, Queue { rx, shared })
}

impl Outbox {
    /// Queue encoded lines unless that would put the client over its limit.
    /// Never blocks: the room calls this for every client.
    pub fn push_lines(&self, bytes: &Bytes, lines: usize) -> Result<(), Refused> {
        let queued = self.shared.queued.load(Ordering::Acquire);
        if queued + lines > self.limit {
            return Err(Refused::Full);
        }
        self.shared.queued.fetch_add(lines, Ordering::AcqRel);
        let frames = Outgoing::Frames {
            bytes: bytes.clone(),
            lines,
        };
        self.tx.send(frames).map_err(|_| Refused::Gone)
    }

    /// Queue a control frame (a close). Not counted against the limit: a
    /// reader sends at most one before it stops, the room one at shutdown.
    pub fn push_control(&self, item: Outgoing) -> Result<(), Refused> {
        self.tx.send(item).map_err(|_| Refused::Gone)
    }

    /// Answer a ping. At most one pong waits in the queue: a later ping only
    /// replaces its payload, as RFC 6455 section 5.5.3 allows (answer the
    /// latest ping only). Otherwise a client that pings fast and never reads
    /// would grow its queue by a pong per ping until the write timeout.
    pub fn push_pong(&self, data: Bytes) -> Result<(), Refused> {
        let was_waiting = self.shared.pong_slot().replace(data).is_some();
        if was_waiting {
            return Ok(());
        }
        self.tx
            .send(Outgoing::Pong(Bytes::new()))
            .map_err(|_| Refused::Gone)
    }

    /// Ask the writer to close with `code` at its next frame, dropping what
    /// is still queued. Used when the queue is too long to wait behind.
    /// The first code set wins.
    pub fn kick(&self, code: u16) {
        let _ = self
            .shared
            .kick
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl Queue {
    /// The next item; blocks until one comes, `deadline` passes, or every
    /// sender is gone.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<Outgoing, RecvTimeoutError> {
        self.rx
            .recv_deadline(deadline)
            .map(|item| self.fill_pong(item))
    }

    /// The next item if one is waiting.
    pub fn try_recv(&self) -> Option<Outgoing> {
        self.rx.try_recv().ok().map(|item| self.fill_pong(item))
    }

    /// A pong taken out of the queue answers the latest ping, and from now
    /// on a new ping queues a new pong.
    fn fill_pong(&self, item: Outgoing) -> Outgoing {
        match item {
            Outgoing::Pong(_) => Outgoing::Pong(self.shared.pong_slot().take().unwrap_or_default()),
            other => other,
        }
    }

    /// The writer has written `lines` lines: make room for more.
    pub fn written(&self, lines: usize) {
        self.shared.queued.fetch_sub(lines, Ordering::AcqRel);
    }

    /// The close code the room asked for, if it dropped this client.
    pub fn kicked(&self) -> Option<u16> {
        match self.shared.kick.load(Ordering::Acquire) {
            0 => None,
            code => Some(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_lines_and_frees_them_when_written() {
        let (outbox, queue) = new(3);
        let two = Bytes::from_static(b"xx");
        assert_eq!(outbox.push_lines(&two, 2), Ok(()));
        assert_eq!(outbox.push_lines(&two, 2), Err(Refused::Full));
        assert_eq!(outbox.push_lines(&two, 1), Ok(()));
        // Control frames always fit.
        assert_eq!(outbox.push_control(Outgoing::Pong(Bytes::new())), Ok(()));
        match queue.try_recv() {
            Some(Outgoing::Frames { lines: 2, .. }) => queue.written(2),
            other => panic!("{other:?}"),
        }
        assert_eq!(outbox.push_lines(&two, 2), Ok(()));
    }

    #[test]
    fn pongs_do_not_pile_up_and_answer_the_latest_ping() {
        let (outbox, queue) = new(10);
        for payload in [&b"one"[..], b"two", b"three"] {
            assert_eq!(outbox.push_pong(Bytes::copy_from_slice(payload)), Ok(()));
        }
        match queue.try_recv() {
            Some(Outgoing::Pong(data)) => assert_eq!(&data[..], b"three"),
            other => panic!("{other:?}"),
        }
        assert!(queue.try_recv().is_none(), "one pong for three pings");
        // Once taken, the next ping gets its own pong.
        assert_eq!(outbox.push_pong(Bytes::from_static(b"four")), Ok(()));
        match queue.try_recv() {
            Some(Outgoing::Pong(data)) => assert_eq!(&data[..], b"four"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_kick_wins_and_gone_writers_refuse() {
        let (outbox, queue) = new(10);
        assert_eq!(queue.kicked(), None);
        outbox.kick(1008);
        outbox.kick(1001);
        assert_eq!(queue.kicked(), Some(1008));
        drop(queue);
        assert_eq!(
            outbox.push_lines(&Bytes::from_static(b"x"), 1),
            Err(Refused::Gone)
        );
    }
}
