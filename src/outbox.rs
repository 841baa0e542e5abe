//! A client's outbox: the one way anything reaches the client's socket.
//!
//! **Send now if the socket takes it.** The room (and the client's own
//! reader, for pongs, pings and close frames) hands the outbox encoded
//! frames, and the outbox sends them at once with a non-blocking `send`
//! (`MSG_DONTWAIT`): a client that keeps up costs the room one system call
//! per batch and no thread switch, and has no writer thread at all.
//!
//! **Queue the rest for a writer.** What the socket does not take waits here,
//! in the client's backlog, and a writer thread (`client-N-w`, `writer.rs`)
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

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tungstenite::Bytes;

use crate::config::{Limits, MAX_WRITERS};
use crate::frame;
use crate::room::ClientId;
use crate::throttle::Throttle;
use crate::throttled;
use crate::writer;

/// Writer threads running now, in the whole process: at most [`MAX_WRITERS`].
static WRITERS: AtomicUsize = AtomicUsize::new(0);
/// Clients dropped for want of a writer, at most this many log lines a second.
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

/// What one thing in the backlog is.
#[derive(Debug)]
pub(crate) enum Item {
    /// Encoded frames (or the rest of a partly sent one), `lines` of them
    /// chat lines, counted against the limit.
    Frames { bytes: Bytes, lines: usize },
    /// The answer to the client's latest ping, whose payload waits in
    /// [`State::pong`]: a client that pings fast and never reads gets one
    /// pong, not one per ping (RFC 6455 section 5.5.3: answering only the
    /// latest ping is allowed).
    Pong,
    /// A close frame; once it is out, the connection ends as `then` says.
    Close { bytes: Bytes, then: AfterClose },
}

/// What happens once our close frame is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterClose {
    /// Stop sending (FIN) and give the client `close_timeout` to answer with
    /// its own close frame; the reader reads it, or times out, and ends.
    HalfClose,
    /// End the connection both ways: the room has already dropped the client.
    Cut,
}

#[derive(Default)]
pub(crate) struct State {
    /// What waits to be written, in order.
    pub(crate) backlog: VecDeque<Item>,
    /// Chat lines in the backlog.
    lines: usize,
    /// The first `in_flight` items are being written by the writer, outside
    /// the lock: nobody may remove them.
    pub(crate) in_flight: usize,
    /// The front item is the rest of a frame already partly sent: it must go
    /// out before anything else, even a close.
    partial_front: bool,
    /// A writer thread is running (or about to).
    writing: bool,
    /// The last writer started, joined at the end of the session.
    writer: Option<JoinHandle<()>>,
    /// The payload for the [`Item::Pong`] in the backlog, if one is there.
    pong: Option<Bytes>,
    /// A close frame is queued or sent: nothing more goes out.
    closing: bool,
    /// The connection is cut (a write failed or stalled, or the session
    /// ended): nothing more goes out.
    pub(crate) cut: bool,
    /// Whole lines still waiting when the connection was cut, and how many:
    /// what a resume gives the member's next connection (issue 11).
    unsent: (Vec<Bytes>, usize),
}

/// Why frames were not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The client has `limit` lines waiting already: it is too slow.
    Full,
    /// The connection is closing or cut (the client is leaving).
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
        if state.closing || state.cut {
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
        if state.closing || state.cut {
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
        const PING: [u8; 2] = [0x80 | frame::PING, 0];
        let state = self.shared.lock();
        if state.closing || state.cut {
            return;
        }
        self.offer(state, &Bytes::from_static(&PING), Kind::Frames(0));
    }

    /// Send a close frame with `code` (0: none) after what is queued, then
    /// half-close: the client has `close_timeout` to answer. Nothing more is
    /// sent after it. Does nothing if a close was already sent.
    pub fn close(&self, code: u16, reason: &str) {
        let mut state = self.shared.lock();
        if state.closing || state.cut {
            return;
        }
        state.closing = true;
        let bytes = encoded(|out| frame::encode_close(code, reason, out));
        self.offer(state, &bytes, Kind::Close(AfterClose::HalfClose));
    }

    /// The room dropped this client: drop the lines still waiting (all but
    /// a frame already partly sent), send a close frame with `code` if the
    /// socket takes it before the write timeout, and cut the connection.
    pub fn kick(&self, code: u16, reason: &str) {
        let mut state = self.shared.lock();
        if state.closing || state.cut {
            return;
        }
        state.closing = true;
        let keep = state.in_flight.max(usize::from(state.partial_front));
        drop_after(&mut state, keep);
        let bytes = encoded(|out| frame::encode_close(code, reason, out));
        self.offer(state, &bytes, Kind::Close(AfterClose::Cut));
    }

    /// End the connection both ways now, without waiting for a writer:
    /// the room's verb for a member whose connection is gone. Lines still
    /// waiting are kept for [`Outbox::take_unsent`].
    pub fn cut(&self) {
        let mut state = self.shared.lock();
        self.shared.cut(&mut state);
    }

    /// The whole lines that were waiting when the connection was cut (none
    /// if it is not cut), oldest first, and how many lines they hold. A
    /// frame already partly written is not among them.
    pub fn take_unsent(&self) -> (Vec<Bytes>, usize) {
        std::mem::take(&mut self.shared.lock().unsent)
    }

    /// Whether a close frame has been sent or queued.
    pub fn is_closing(&self) -> bool {
        self.shared.lock().closing
    }

    /// Wait (at most `timeout`) until everything queued is written, or the
    /// connection is cut.
    pub fn wait_written(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.writing && !state.cut {
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

    /// End the connection both ways and drop what is queued; a writer
    /// blocked in a write returns at once, and is waited for. Called by the
    /// reader as its session ends.
    pub fn end(&self) {
        let writer = {
            let mut state = self.shared.lock();
            self.shared.cut(&mut state);
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
            match send_now(&self.shared.socket, bytes) {
                Ok(sent) if sent == bytes.len() => {
                    if let Kind::Close(then) = kind {
                        self.shared.after_close(&mut state, then);
                    }
                }
                Ok(sent) => queue(&mut state, kind.item(bytes.slice(sent..)), sent > 0),
                Err(e) => {
                    log::debug!("client-{}: send failed: {e}", self.shared.id);
                    self.shared.cut(&mut state);
                }
            }
        }
        self.start_writer_if_needed(state);
    }

    /// Start a writer if something waits and none runs. The thread is
    /// started after the lock is let go (it takes the lock first thing).
    fn start_writer_if_needed(&self, mut state: MutexGuard<'_, State>) {
        if state.backlog.is_empty() || state.writing || state.cut {
            return;
        }
        let Some(slot) = WriterSlot::take() else {
            return self.drop_for_want_of_writer(&mut state, "all writer slots are taken");
        };
        state.writing = true;
        drop(state);
        let outbox = self.clone();
        let spawned = thread::Builder::new()
            .name(format!("client-{}-w", self.shared.id))
            .stack_size(self.shared.stack_bytes)
            .spawn(move || {
                let _slot = slot;
                writer::run(&outbox);
            });
        // (If the thread could not start, its closure, and the slot with it,
        // is already dropped.)
        let mut state = self.shared.lock();
        match spawned {
            // Any earlier writer has stopped (`writing` was false): let it go.
            Ok(handle) => state.writer = Some(handle),
            Err(e) => {
                state.writing = false;
                self.drop_for_want_of_writer(&mut state, &e.to_string());
            }
        }
    }

    /// A client that is behind but can have no writer: cut it (its reader
    /// then leaves), with a rate-limited warning.
    fn drop_for_want_of_writer(&self, state: &mut State, why: &str) {
        let id = self.shared.id;
        throttled!(
            NO_WRITER,
            log::Level::Warn,
            "client-{id}: behind, and no writer thread ({why}); dropped"
        );
        self.shared.cut(state);
    }

    // What the writer thread uses (see `writer.rs`).

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    pub(crate) fn socket(&self) -> &TcpStream {
        &self.shared.socket
    }

    /// The writer takes the front items to write: their bytes (a pong is
    /// encoded now, with the latest ping's payload). At most `max_items`,
    /// and it stops after a close frame. Marks them in flight.
    pub(crate) fn take_front(state: &mut State, max_items: usize, out: &mut Vec<Bytes>) {
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
    pub(crate) fn written(&self, state: &mut State) {
        let n = std::mem::take(&mut state.in_flight);
        if state.cut {
            // Cut while they were written: let go of everything now.
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
    pub(crate) fn write_failed(&self, state: &mut State, error: &io::Error) {
        log::debug!("client-{}: write failed: {error}", self.shared.id);
        state.in_flight = 0;
        self.shared.cut(state);
    }

    /// The writer stops: the backlog is empty, or the connection cut.
    pub(crate) fn writer_stops(&self, state: &mut State) {
        state.writing = false;
        self.shared.writer_done.notify_all();
    }
}

/// A writer's place among [`MAX_WRITERS`], given back when dropped (when
/// its thread ends, or if the thread never started).
struct WriterSlot;

impl WriterSlot {
    /// A free place, if any. The start-up clamp on `--max-clients`
    /// (`rlimit.rs`) leaves room for this many writers; past it, starting
    /// one could fail, or even abort the process (Rust aborts when it
    /// cannot map a thread's signal stack).
    fn take() -> Option<WriterSlot> {
        WRITERS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WRITERS).then_some(n + 1)
            })
            .ok()
            .map(|_| WriterSlot)
    }
}

impl Drop for WriterSlot {
    fn drop(&mut self) {
        WRITERS.fetch_sub(1, Ordering::AcqRel);
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
            AfterClose::Cut => self.cut(state),
        }
    }

    /// End the connection both ways: the reader's read returns (and it
    /// leaves), a blocked writer's write fails, and nothing more is sent.
    fn cut(&self, state: &mut State) {
        if !state.cut {
            state.cut = true;
            let _ = self.socket.shutdown(Shutdown::Both);
        }
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

/// Drop everything in the backlog after the first `keep` items.
fn drop_after(state: &mut State, keep: usize) {
    for item in state.backlog.drain(keep.min(state.backlog.len())..) {
        if let Item::Frames { lines, .. } = item {
            state.lines -= lines;
        }
    }
    // A pong in flight has been encoded already (see `take_front`).
    if !state.backlog.iter().any(|i| matches!(i, Item::Pong)) {
        state.pong = None;
    }
}

fn queue(state: &mut State, item: Item, partial: bool) {
    if state.backlog.is_empty() {
        state.partial_front = partial;
    }
    if let Item::Frames { lines, .. } = &item {
        state.lines += lines;
    }
    state.backlog.push_back(item);
}

/// What frames handed to [`Outbox::offer`] are, should they be queued.
#[derive(Clone, Copy)]
enum Kind {
    /// Frames holding this many chat lines (0: control frames).
    Frames(usize),
    /// A close frame, and what follows it.
    Close(AfterClose),
}

impl Kind {
    fn item(self, bytes: Bytes) -> Item {
        match self {
            Kind::Frames(lines) => Item::Frames { bytes, lines },
            Kind::Close(then) => Item::Close { bytes, then },
        }
    }
}

/// As much of `buf` as the socket takes now, without blocking: the socket
/// stays in blocking mode for the reader and the writer, so the flag is per
/// call. `MSG_NOSIGNAL`: a closed peer gives `EPIPE`, not a signal.
fn send_now(socket: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes, and the
        // descriptor stays open while `socket` is borrowed.
        let sent = unsafe {
            libc::send(
                socket.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if let Ok(sent) = usize::try_from(sent) {
            return Ok(sent);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::WouldBlock => return Ok(0),
            io::ErrorKind::Interrupted => continue,
            _ => return Err(error),
        }
    }
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut out = Vec::new();
    encode(&mut out);
    Bytes::from(out)
}

/// Real loopback connections for the unit tests of the outbox, the room and
/// the client session: the server's end goes in an [`Outbox`], the test
/// reads the client's end.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// How long a test waits for a frame it expects.
    const WAIT: Duration = Duration::from_secs(10);

    /// The client's end of a connection.
    pub struct Peer {
        stream: TcpStream,
    }

    /// An outbox holding at most `limit` lines on a fresh connection, and
    /// the client's end of it.
    pub fn pair(id: ClientId, limit: usize) -> (Outbox, Peer) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_write_timeout(Some(WAIT)).expect("write timeout");
        client.set_read_timeout(Some(WAIT)).expect("read timeout");
        let limits = Limits {
            outbox_lines: limit,
            ..Limits::default()
        };
        let outbox = Outbox::new(id, Arc::new(server), &limits);
        (outbox, Peer { stream: client })
    }

    /// A text frame of `len` bytes of `x`: more than loopback buffers hold,
    /// for a `len` of a few MiB, so whatever follows it waits in the backlog
    /// until the peer reads.
    pub fn filler(len: usize) -> Bytes {
        encoded(|out| frame::encode(frame::TEXT, &vec![b'x'; len], out))
    }

    impl Peer {
        /// The next frame: (opcode, payload). Panics after a wait.
        pub fn frame(&mut self) -> (u8, Vec<u8>) {
            let mut head = [0u8; 2];
            self.stream.read_exact(&mut head).expect("a frame");
            let len = match head[1] & 0x7f {
                126 => {
                    let mut ext = [0u8; 2];
                    self.stream.read_exact(&mut ext).expect("length");
                    u64::from(u16::from_be_bytes(ext))
                }
                127 => {
                    let mut ext = [0u8; 8];
                    self.stream.read_exact(&mut ext).expect("length");
                    u64::from_be_bytes(ext)
                }
                short => u64::from(short),
            };
            let mut payload = vec![0u8; usize::try_from(len).expect("length")];
            self.stream.read_exact(&mut payload).expect("payload");
            (head[0] & 0x0f, payload)
        }

        /// The next `n` frames, which must be text: their payloads.
        pub fn texts(&mut self, n: usize) -> Vec<String> {
            (0..n)
                .map(|_| match self.frame() {
                    (frame::TEXT, text) => String::from_utf8(text).expect("UTF-8"),
                    (opcode, _) => panic!("opcode {opcode}, not text"),
                })
                .collect()
        }

        /// The next frame must be a close frame: its code.
        pub fn close_code(&mut self) -> u16 {
            match self.frame() {
                (frame::CLOSE, payload) if payload.len() >= 2 => {
                    u16::from_be_bytes([payload[0], payload[1]])
                }
                (opcode, payload) => {
                    panic!("opcode {opcode} ({} bytes), not a close", payload.len())
                }
            }
        }

        /// No frame has arrived that was not read (the end of the
        /// connection may have). What the room sends at once is in the
        /// peer's socket when the send returns, on loopback.
        pub fn assert_quiet(&mut self) {
            self.stream.set_nonblocking(true).expect("nonblocking");
            let read = self.stream.read(&mut [0u8; 64]);
            self.stream.set_nonblocking(false).expect("blocking");
            match read {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => panic!("expected nothing, got {other:?}"),
            }
        }

        /// The server ended the connection: EOF (or a reset).
        pub fn assert_ended(&mut self) {
            match self.stream.read(&mut [0u8; 64]) {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
                other => panic!("expected the end, got {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

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
    fn a_kick_drops_what_waits_closes_and_cuts() {
        let (outbox, mut peer) = pair(1, 10);
        assert_eq!(outbox.send_lines(&filler(BIG), 0), Ok(()));
        // Let the writer take the filler before the lines queue behind it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while outbox.lock().in_flight == 0 && Instant::now() < deadline {
            thread::yield_now();
        }
        let line = encoded(|out| frame::encode(frame::TEXT, b"dropped", out));
        assert_eq!(outbox.send_lines(&line, 1), Ok(()));
        outbox.kick(1008, "too slow");
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
    fn a_peer_that_is_gone_cuts_the_connection() {
        let (outbox, peer) = pair(1, 10);
        drop(peer);
        // The first send may still be taken; a reset one fails, and cuts.
        let line = encoded(|out| frame::encode(frame::TEXT, b"hello?", out));
        let deadline = Instant::now() + Duration::from_secs(10);
        while outbox.send_lines(&line, 1).is_ok() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert!(outbox.lock().cut, "never cut");
    }
}
