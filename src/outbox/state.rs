//! What waits in a client's outbox: the backlog of encoded frames, counted
//! in chat lines, and the connection's [`Phase`]. Plain data, guarded by
//! the outbox's lock; the parent module (`outbox`) and its writer change it.

use std::collections::VecDeque;
use std::thread::JoinHandle;

use tungstenite::Bytes;

/// What one thing in the backlog is.
#[derive(Debug)]
pub(super) enum Item {
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
pub(super) enum AfterClose {
    /// Stop sending (FIN) and give the client `close_timeout` to answer with
    /// its own close frame; the reader reads it, or times out, and ends.
    HalfClose,
    /// Abort the connection: the room has already dropped the client.
    Abort,
}

/// Where the connection is, as far as sending goes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Anything may be sent.
    #[default]
    Open,
    /// A close frame is queued or sent: nothing more goes out.
    Closing,
    /// The connection is aborted (a write failed or stalled, the room
    /// dropped the client, or the session ended): nothing more goes out.
    Aborted,
}

/// One client's outbox state, under its lock.
#[derive(Default)]
pub(super) struct State {
    /// What waits to be written, in order.
    pub(super) backlog: VecDeque<Item>,
    /// Chat lines in the backlog.
    pub(super) lines: usize,
    /// The first `in_flight` items are being written by the writer, outside
    /// the lock: nobody may remove them.
    pub(super) in_flight: usize,
    /// The front item is the rest of a frame already partly sent: it must go
    /// out before anything else, even a close.
    pub(super) partial_front: bool,
    /// A writer thread is running (or about to).
    pub(super) writing: bool,
    /// The last writer started, joined at the end of the session.
    pub(super) writer: Option<JoinHandle<()>>,
    /// The payload for the [`Item::Pong`] in the backlog, if one is there.
    pub(super) pong: Option<Bytes>,
    pub(super) phase: Phase,
    /// Whole lines still waiting when the connection was aborted, and how
    /// many: what a resume gives the member's next connection.
    pub(super) unsent: (Vec<Bytes>, usize),
}

/// Drop everything in the backlog after the first `keep` items.
pub(super) fn drop_after(state: &mut State, keep: usize) {
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

pub(super) fn queue(state: &mut State, item: Item, partial: bool) {
    if state.backlog.is_empty() {
        state.partial_front = partial;
    }
    if let Item::Frames { lines, .. } = &item {
        state.lines += lines;
    }
    state.backlog.push_back(item);
}

/// What frames handed to `Outbox::offer` are, should they be queued.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// Frames holding this many chat lines (0: control frames).
    Frames(usize),
    /// A close frame, and what follows it.
    Close(AfterClose),
}

impl Kind {
    pub(super) fn item(self, bytes: Bytes) -> Item {
        match self {
            Kind::Frames(lines) => Item::Frames { bytes, lines },
            Kind::Close(then) => Item::Close { bytes, then },
        }
    }
}
