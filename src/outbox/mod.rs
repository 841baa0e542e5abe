//! A client's outbox: the one way anything reaches the client's socket.
//!
//! **Send now if the socket takes it.** The room (and the client's own
//! reader, for pongs, pings and close frames) hands the outbox encoded
//! frames, and the outbox sends them at once with a non-blocking `send`
//! (`MSG_DONTWAIT`): a client that keeps up costs the room one system call
//! per batch and no thread switch, and has no writer thread at all.
//!
//! **Queue the rest for a writer.** What the socket does not take waits here,
//! in the client's backlog, and a writer thread (`client-N-w`, [`writer`])
//! is started to write it with ordinary blocking writes. It ends once the
//! backlog is empty. So a client has one thread, its reader, and a second
//! only while it is behind.
//!
//! Frames never interleave: every write happens under this client's lock,
//! except the writer's, and while the writer writes, the backlog is not
//! empty, so nobody else sends (they queue behind it). The backlog is
//! bounded in *lines*: a client with `limit` lines waiting is too slow, and
//! the room drops it. Lines are shared, reference-counted buffers (the room
//! encodes a batch once for everyone), so a long backlog costs pointers.
//!
//! How a connection ends, from here: [`Outbox::close`] starts the close
//! handshake (our close frame, then we wait for the client's);
//! [`Outbox::abort`] and [`Outbox::abort_with`] end the TCP connection both
//! ways without one (the latter after a parting close frame).

use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::Bytes;

use crate::config::Limits;
use crate::frame::{self, encoded};
use crate::id::ClientId;
use crate::os;
use crate::permit::Permits;
use crate::throttle::Throttle;
use crate::throttled;

mod state;
mod writer;

use state::{drop_after, queue, AfterClose, Item, Kind, Phase, State};

/// Most writer threads at once, in all (not a flag). A client has a writer
/// only while it is behind; the start-up clamp on `--max-clients` reserves
/// threads and memory maps for this many. Past it, a client that falls
/// behind has its connection aborted.
pub const MAX_WRITERS: usize = 1024;

/// Writer threads running now, in the whole process: at most [`MAX_WRITERS`].
/// The start-up clamp on `--max-clients` (`os.rs`) leaves room for this
/// many; past it, starting one could fail, or even abort the process (Rust
/// aborts when it cannot map a thread's signal stack).
static WRITERS: Permits = Permits::new(MAX_WRITERS);
/// Connections aborted for want of a writer, at most this many log lines a second.
static NO_WRITER: Throttle = Throttle::new(5);

/// A cheap handle (an `Arc`) to one client's outbox, held by the room, the
/// client's reader and, while it runs, the client's writer.
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outbox(client-{})", self.shared.id)
    }
}

struct Shared {
    id: ClientId,
    socket: Arc<TcpStream>,
    /// Most lines the backlog may hold.
    limit: usize,
    /// For the writer thread.
    stack_bytes: usize,
    /// How long a client has to answer our close frame.
    close_timeout: Duration,
    state: Mutex<State>,
    /// Signalled when the writer stops.
    writer_done: Condvar,
}

/// Why frames were not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The client has `limit` lines waiting already: it is too slow.
    Full,
    /// The connection is closing or aborted (the client is leaving).
    Gone,
}

impl Outbox {
    /// The outbox for client `id` on `socket`, whose write timeout must
    /// already be set (it bounds the writer's blocking writes).
    pub fn new(id: ClientId, socket: Arc<TcpStream>, limits: &Limits) -> Outbox {
        Outbox {
            shared: Arc::new(Shared {
                id,
                socket,
                limit: limits.outbox_lines.max(1),
                stack_bytes: limits.thread_stack_bytes,
                close_timeout: limits.close_timeout,
                state: Mutex::new(State::default()),
                writer_done: Condvar::new(),
            }),
        }
    }

    /// Send encoded chat lines, or queue them behind what is waiting unless
    /// that would put the client over its limit. Never blocks for long: the
    /// room calls this for every client.
    pub fn send_lines(&self, bytes: &Bytes, lines: usize) -> Result<(), Refused> {
        let state = self.shared.lock();
        if state.phase != Phase::Open {
            return Err(Refused::Gone);
        }
        if !state.backlog.is_empty() && state.lines + lines > self.shared.limit {
            return Err(Refused::Full);
        }
        self.offer(state, bytes, Kind::Frames(lines));
        Ok(())
    }

    /// Answer a ping (see [`Item::Pong`]).
    pub fn pong(&self, data: Bytes) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        if state.pong.is_some() {
            state.pong = Some(data); // the queued pong will answer this one
        } else if state.backlog.is_empty() {
            let bytes = encoded(|out| frame::encode(frame::PONG, &data, out));
            self.offer(state, &bytes, Kind::Frames(0));
        } else {
            queue(&mut state, Item::Pong, false);
            state.pong = Some(data);
        }
    }

    /// Send an empty ping, to keep a quiet connection alive and find dead
    /// peers.
    pub fn ping(&self) {
        let state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        let ping = encoded(|out| frame::encode(frame::PING, &[], out));
        self.offer(state, &ping, Kind::Frames(0));
    }

    /// Send a close frame with `code` (0: none) after what is queued, then
    /// half-close: the client has `close_timeout` to answer. Nothing more is
    /// sent after it. Does nothing if a close was already sent.
    pub fn close(&self, code: u16, reason: &str) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        state.phase = Phase::Closing;
        let bytes = encoded(|out| frame::encode_close(code, reason, out));
        self.offer(state, &bytes, Kind::Close(AfterClose::HalfClose));
    }

    /// The room dropped this client: drop the lines still waiting (all but
    /// a frame already partly sent), send a parting close frame with `code`
    /// if the socket takes it before the write timeout, and abort the
    /// connection (no close handshake). Never blocks.
    pub fn abort_with(&self, code: u16, reason: &str) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        state.phase = Phase::Closing;
        let keep = state.in_flight.max(usize::from(state.partial_front));
        drop_after(&mut state, keep);
        let bytes = encoded(|out| frame::encode_close(code, reason, out));
        self.offer(state, &bytes, Kind::Close(AfterClose::Abort));
    }

    /// Whether a close frame has been sent or queued (or the connection
    /// aborted): nothing more goes out.
    pub fn is_closing(&self) -> bool {
        self.shared.lock().phase != Phase::Open
    }

    /// Wait (at most `timeout`) until everything queued is written, or the
    /// connection is aborted.
    pub fn wait_written(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.writing && state.phase != Phase::Aborted {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = match self.shared.writer_done.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Abort the connection now, without waiting for a writer: the room's
    /// verb for a member whose connection is gone, for its resume.
    /// Whole lines still waiting are kept for [`Outbox::take_unsent`].
    pub fn abort_now(&self) {
        let mut state = self.shared.lock();
        self.shared.abort(&mut state);
    }

    /// The whole lines that were waiting when the connection was aborted
    /// (none if it is not), oldest first, and how many lines they hold. A
    /// frame already partly written is not among them.
    pub fn take_unsent(&self) -> (Vec<Bytes>, usize) {
        std::mem::take(&mut self.shared.lock().unsent)
    }

    /// Abort the connection (both ways, no close handshake) and drop what
    /// is queued; a writer blocked in a write returns at once, and is waited
    /// for. Called by the reader as its session ends.
    pub fn abort(&self) {
        let writer = {
            let mut state = self.shared.lock();
            self.shared.abort(&mut state);
            state.writer.take()
        };
        if let Some(writer) = writer {
            if writer.join().is_err() {
                log::error!("client-{}: writer thread panicked", self.shared.id);
            }
        }
    }

    /// Send `bytes` at once if nothing is waiting and the socket takes
    /// them; otherwise queue them (as `kind` says) and make sure a writer
    /// runs. The bytes are shared (cloned, a reference count) only if
    /// queued: a client that keeps up costs the room no atomic operation.
    fn offer(&self, mut state: MutexGuard<'_, State>, bytes: &Bytes, kind: Kind) {
        if !state.backlog.is_empty() {
            queue(&mut state, kind.item(bytes.clone()), false);
        } else {
            match os::send_now(&self.shared.socket, bytes) {
                Ok(sent) if sent == bytes.len() => {
                    if let Kind::Close(then) = kind {
                        self.shared.after_close(&mut state, then);
                    }
                }
                Ok(sent) => queue(&mut state, kind.item(bytes.slice(sent..)), sent > 0),
                Err(e) => {
                    log::debug!("client-{}: send failed: {e}; aborted", self.shared.id);
                    self.shared.abort(&mut state);
                }
            }
        }
        self.start_writer_if_needed(state);
    }

    /// Start a writer if something waits and none runs. The thread is
    /// started after the lock is let go (it takes the lock first thing).
    fn start_writer_if_needed(&self, mut state: MutexGuard<'_, State>) {
        if state.backlog.is_empty() || state.writing || state.phase == Phase::Aborted {
            return;
        }
        let Some(permit) = WRITERS.try_take() else {
            return self.abort_for_want_of_writer(&mut state, "all writer permits are taken");
        };
        state.writing = true;
        drop(state);
        let outbox = self.clone();
        let spawned = thread::Builder::new()
            .name(format!("client-{}-w", self.shared.id))
            .stack_size(self.shared.stack_bytes)
            .spawn(move || {
                let _permit = permit;
                writer::run(&outbox);
            });
        // (If the thread could not start, its closure, and the permit with it,
        // is already dropped.)
        let mut state = self.shared.lock();
        match spawned {
            // Any earlier writer has stopped (`writing` was false): let it go.
            Ok(handle) => state.writer = Some(handle),
            Err(e) => {
                state.writing = false;
                self.abort_for_want_of_writer(&mut state, &e.to_string());
            }
        }
    }

    /// A client that is behind but can have no writer: abort its
    /// connection (its reader then leaves), with a rate-limited warning.
    fn abort_for_want_of_writer(&self, state: &mut State, why: &str) {
        let id = self.shared.id;
        throttled!(
            NO_WRITER,
            log::Level::Warn,
            "client-{id}: behind, and no writer thread ({why}); aborted"
        );
        self.shared.abort(state);
    }

    // What the writer thread (the child module `writer`) uses.

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    fn socket(&self) -> &TcpStream {
        &self.shared.socket
    }

    /// The writer takes the front items to write: their bytes (a pong is
    /// encoded now, with the latest ping's payload). At most `max_items`,
    /// and it stops after a close frame. Marks them in flight.
    fn take_front(state: &mut State, max_items: usize, out: &mut Vec<Bytes>) {
        for item in state.backlog.iter_mut().take(max_items) {
            match item {
                Item::Frames { bytes, .. } => out.push(bytes.clone()),
                Item::Pong => {
                    let data = state.pong.take().unwrap_or_default();
                    let bytes = encoded(|o| frame::encode(frame::PONG, &data, o));
                    out.push(bytes.clone());
                    *item = Item::Frames { bytes, lines: 0 };
                }
                Item::Close { bytes, .. } => {
                    out.push(bytes.clone());
                    break;
                }
            }
        }
        state.in_flight = out.len();
    }

    /// The writer wrote the items in flight.
    fn written(&self, state: &mut State) {
        let n = std::mem::take(&mut state.in_flight);
        if state.phase == Phase::Aborted {
            // Aborted while they were written: let go of everything now.
            drop_after(state, 0);
            return;
        }
        for _ in 0..n {
            match state.backlog.pop_front() {
                Some(Item::Frames { lines, .. }) => state.lines -= lines,
                Some(Item::Close { then, .. }) => self.shared.after_close(state, then),
                Some(Item::Pong) | None => {}
            }
        }
        state.partial_front = false;
    }

    /// The writer's write failed or stalled past the write timeout.
    fn write_failed(&self, state: &mut State, error: &io::Error) {
        log::debug!("client-{}: write failed: {error}; aborted", self.shared.id);
        state.in_flight = 0;
        self.shared.abort(state);
    }

    /// The writer stops: the backlog is empty, or the connection aborted.
    fn writer_stops(&self, state: &mut State) {
        state.writing = false;
        self.shared.writer_done.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; if something did, the state is
        // still valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Our close frame is out.
    fn after_close(&self, state: &mut State, then: AfterClose) {
        match then {
            AfterClose::HalfClose => {
                // Reads from now on wait at most this long for the answer.
                let _ = self.socket.set_read_timeout(Some(self.close_timeout));
                let _ = self.socket.shutdown(Shutdown::Write);
            }
            AfterClose::Abort => self.abort(state),
        }
    }

    /// Abort the connection (end it both ways, no close handshake): the
    /// reader's read returns (and it leaves), a blocked writer's write
    /// fails, and nothing more is sent.
    fn abort(&self, state: &mut State) {
        if state.phase != Phase::Aborted {
            state.phase = Phase::Aborted;
            let _ = self.socket.shutdown(Shutdown::Both);
        }
        // Whole lines that never went out are kept for a resume.
        let keep = state.in_flight.max(usize::from(state.partial_front));
        for item in state.backlog.iter().skip(keep) {
            if let Item::Frames { bytes, lines } = item {
                if *lines > 0 {
                    state.unsent.0.push(bytes.clone());
                    state.unsent.1 += lines;
                }
            }
        }
        let keep = state.in_flight;
        drop_after(state, keep);
        state.pong = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    const BIG: usize = 8 << 20;

    #[test]
    fn a_socket_that_takes_everything_needs_no_writer() {
        let (outbox, mut peer) = pair(1, 10);
        for text in ["one", "two"] {
            let line = encoded(|out| frame::encode(frame::TEXT, text.as_bytes(), out));
            assert_eq!(outbox.send_lines(&line, 1), Ok(()));
        }
        assert!(outbox.lock().writer.is_none(), "a writer was started");
        assert_eq!(peer.texts(2), ["one", "two"]);
        peer.assert_quiet();
    }

    #[test]
    fn the_backlog_counts_lines_keeps_the_order_and_its_writer_ends() {
        let (outbox, mut peer) = pair(1, 3);
        // The peer is not reading: most of this waits, for a writer.
        assert_eq!(outbox.send_lines(&filler(BIG), 0), Ok(()));
        let two = encoded(|out| {
            frame::encode(frame::TEXT, b"a", out);
            frame::encode(frame::TEXT, b"b", out);
        });
        let one = encoded(|out| frame::encode(frame::TEXT, b"c", out));
        assert_eq!(outbox.send_lines(&two, 2), Ok(()));
        assert_eq!(outbox.send_lines(&two, 2), Err(Refused::Full));
        assert_eq!(outbox.send_lines(&one, 1), Ok(()));
        // Control frames are not counted.
        outbox.ping();
        assert_eq!(peer.frame().1.len(), BIG);
        assert_eq!(peer.texts(3), ["a", "b", "c"]);
        assert_eq!(peer.frame(), (frame::PING, Vec::new()));
        outbox.wait_written(Duration::from_secs(10));
        assert!(!outbox.lock().writing, "the writer is still running");
        // Caught up: lines go out at once again, and count from zero.
        let four = encoded(|out| {
            for _ in 0..4 {
                frame::encode(frame::TEXT, b"d", out);
            }
        });
        assert_eq!(outbox.send_lines(&four, 4), Ok(()));
        assert_eq!(peer.texts(4), ["d", "d", "d", "d"]);
        peer.assert_quiet();
    }

    #[test]
    fn pongs_do_not_pile_up_and_answer_the_latest_ping() {
        let (outbox, mut peer) = pair(1, 10);
        assert_eq!(outbox.send_lines(&filler(BIG), 0), Ok(()));
        for payload in [&b"one"[..], b"two", b"three"] {
            outbox.pong(Bytes::copy_from_slice(payload));
        }
        assert_eq!(peer.frame().1.len(), BIG);
        assert_eq!(peer.frame(), (frame::PONG, b"three".to_vec()));
        outbox.wait_written(Duration::from_secs(10));
        peer.assert_quiet();
        // With nothing waiting, the next ping is answered at once.
        outbox.pong(Bytes::from_static(b"four"));
        assert_eq!(peer.frame(), (frame::PONG, b"four".to_vec()));
    }

    #[test]
    fn abort_with_drops_what_waits_sends_a_close_and_aborts() {
        let (outbox, mut peer) = pair(1, 10);
        assert_eq!(outbox.send_lines(&filler(BIG), 0), Ok(()));
        // Let the writer take the filler before the lines queue behind it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while outbox.lock().in_flight == 0 && Instant::now() < deadline {
            thread::yield_now();
        }
        let line = encoded(|out| frame::encode(frame::TEXT, b"dropped", out));
        assert_eq!(outbox.send_lines(&line, 1), Ok(()));
        outbox.abort_with(1008, "too slow");
        assert_eq!(outbox.send_lines(&line, 1), Err(Refused::Gone));
        // The frame being written is finished, the line is not sent.
        assert_eq!(peer.frame().1.len(), BIG);
        assert_eq!(peer.close_code(), 1008);
        peer.assert_ended();
    }

    #[test]
    fn close_is_the_last_frame_and_half_closes() {
        let (outbox, mut peer) = pair(1, 10);
        outbox.close(1000, "");
        assert!(outbox.is_closing());
        let line = encoded(|out| frame::encode(frame::TEXT, b"late", out));
        assert_eq!(outbox.send_lines(&line, 1), Err(Refused::Gone));
        outbox.ping();
        assert_eq!(peer.close_code(), 1000);
        peer.assert_ended();
    }

    #[test]
    fn a_peer_that_is_gone_aborts_the_connection() {
        let (outbox, peer) = pair(1, 10);
        drop(peer);
        // The first send may still be taken; a reset one fails, and aborts.
        let line = encoded(|out| frame::encode(frame::TEXT, b"hello?", out));
        let deadline = Instant::now() + Duration::from_secs(10);
        while outbox.send_lines(&line, 1).is_ok() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(outbox.lock().phase, Phase::Aborted, "never aborted");
    }
}
