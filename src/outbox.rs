//! A client's outbox: the queue between the room (and the client's own
//! reader) and the client's writer thread, the only thing that ever writes
//! the socket.
//!
//! Lines travel as encoded frames in shared, reference-counted buffers: the
//! room encodes a batch of lines once and every outbox holds a pointer to the
//! same bytes, so a long queue costs pointers, not copies. The bound is on
//! *lines*, counted here and checked by the room before it queues more; the
//! queue itself allocates as it fills, so an idle client costs almost nothing.
//!
//! A `Mutex<VecDeque>` and a `Condvar`, not a channel: a crossbeam channel's
//! blocking receive spins and yields before it parks, and with thousands of
//! writer threads on two cores that spinning was most of their CPU (measured
//! with perf: 79% of `writer::run` in `pause`). Here a writer with nothing to
//! do parks at once. The lock is per client and held for a push or a pop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

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

/// What the room, the reader and the writer share for one client.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when the queue stops being empty or the last sender goes.
    ready: Condvar,
    /// Lines queued and not yet written.
    queued: AtomicUsize,
    /// Non-zero: the room dropped this client; close with this code.
    kick: AtomicU16,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Outgoing>,
    /// Live [`Outbox`] handles; none left and an empty queue: the writer stops.
    senders: usize,
    /// False once the writer's [`Queue`] is dropped: pushes are refused.
    receiving: bool,
    /// The writer is parked on `ready`: only then does a push need the
    /// (system-call) wake-up.
    waiting: bool,
    /// The payload of the latest ping not answered yet. While it is set, one
    /// `Pong` is in the queue, and it carries this payload when taken out.
    pong: Option<Bytes>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; if something did, the state is
        // still valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queue `item`, waking the writer if it may be waiting.
    fn push(&self, item: Outgoing) -> Result<(), Refused> {
        let mut state = self.lock();
        if !state.receiving {
            return Err(Refused::Gone);
        }
        state.items.push_back(item);
        // A busy writer will find the item without being told; a parked
        // one is woken once (it only parks on an empty queue).
        let wake = std::mem::take(&mut state.waiting);
        drop(state);
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }
}

/// The sending side, held by the room and by the client's reader.
#[derive(Debug)]
pub struct Outbox {
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

/// Why [`Queue::recv_deadline`] returned nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Empty {
    /// The deadline passed.
    TimedOut,
    /// Every sender is gone and the queue is empty.
    Closed,
}

/// The receiving side, held by the writer.
#[derive(Debug)]
pub struct Queue {
    shared: Arc<Shared>,
}

/// An outbox that holds at most `limit` lines.
pub fn new(limit: usize) -> (Outbox, Queue) {
    let shared = Arc::new(Shared::default());
    {
        let mut state = shared.lock();
        state.senders = 1;
        state.receiving = true;
    }
    let outbox = Outbox {
        shared: shared.clone(),
        limit: limit.max(1),
    };
    (outbox, Queue { shared })
}

impl Clone for Outbox {
    fn clone(&self) -> Outbox {
        self.shared.lock().senders += 1;
        Outbox {
            shared: self.shared.clone(),
            limit: self.limit,
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let wake = state.senders == 0 && std::mem::take(&mut state.waiting);
        drop(state);
        if wake {
            self.shared.ready.notify_one();
        }
    }
}

impl Outbox {
    /// Queue encoded lines unless that would put the client over its limit.
    /// Never blocks for long: the room calls this for every client.
    pub fn push_lines(&self, bytes: Bytes, lines: usize) -> Result<(), Refused> {
        let queued = self.shared.queued.load(Ordering::Acquire);
        if queued + lines > self.limit {
            return Err(Refused::Full);
        }
        self.shared.queued.fetch_add(lines, Ordering::AcqRel);
        self.shared.push(Outgoing::Frames { bytes, lines })
    }

    /// Queue a control frame (a close). Not counted against the limit: a
    /// reader sends at most one before it stops, the room one at shutdown.
    pub fn push_control(&self, item: Outgoing) -> Result<(), Refused> {
        self.shared.push(item)
    }

    /// Answer a ping. At most one pong waits in the queue: a later ping only
    /// replaces its payload, as RFC 6455 section 5.5.3 allows (answer the
    /// latest ping only). Otherwise a client that pings fast and never reads
    /// would grow its queue by a pong per ping until the write timeout.
    pub fn push_pong(&self, data: Bytes) -> Result<(), Refused> {
        let was_waiting = self.shared.lock().pong.replace(data).is_some();
        if was_waiting {
            return Ok(());
        }
        self.shared.push(Outgoing::Pong(Bytes::new()))
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
    /// The next item; blocks (parked, not spinning) until one comes,
    /// `deadline` passes, or every sender is gone.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<Outgoing, Empty> {
        let mut state = self.shared.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Ok(fill_pong(&mut state, item));
            }
            if state.senders == 0 {
                return Err(Empty::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Empty::TimedOut);
            }
            state.waiting = true;
            state = match self.shared.ready.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
            state.waiting = false;
        }
    }

    /// The next item if one is waiting.
    pub fn try_recv(&self) -> Option<Outgoing> {
        let mut state = self.shared.lock();
        let item = state.items.pop_front()?;
        Some(fill_pong(&mut state, item))
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

impl Drop for Queue {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiving = false;
        state.items.clear(); // let go of the shared buffers now
    }
}

/// A pong taken out of the queue answers the latest ping, and from now on a
/// new ping queues a new pong.
fn fill_pong(state: &mut State, item: Outgoing) -> Outgoing {
    match item {
        Outgoing::Pong(_) => Outgoing::Pong(state.pong.take().unwrap_or_default()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_lines_and_frees_them_when_written() {
        let (outbox, queue) = new(3);
        let two = Bytes::from_static(b"xx");
        assert_eq!(outbox.push_lines(two.clone(), 2), Ok(()));
        assert_eq!(outbox.push_lines(two.clone(), 2), Err(Refused::Full));
        assert_eq!(outbox.push_lines(two.clone(), 1), Ok(()));
        // Control frames always fit.
        assert_eq!(outbox.push_control(Outgoing::Pong(Bytes::new())), Ok(()));
        match queue.try_recv() {
            Some(Outgoing::Frames { lines: 2, .. }) => queue.written(2),
            other => panic!("{other:?}"),
        }
        assert_eq!(outbox.push_lines(two.clone(), 2), Ok(()));
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
            outbox.push_lines(Bytes::from_static(b"x"), 1),
            Err(Refused::Gone)
        );
    }
}
