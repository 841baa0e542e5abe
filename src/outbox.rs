//! A client's outbox: the bounded queue between the room (and the client's own
//! reader) and the client's writer thread, which is the only thing that ever
//! writes the socket.
//!
//! Chat lines are shared, reference-counted buffers: the room formats a line
//! once and every outbox holds a pointer to the same bytes, so a full outbox of
//! 4096 lines costs pointers, not copies.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use tungstenite::{Bytes, Utf8Bytes};

/// One thing for the writer to put on the wire.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A text frame: a chat line or a notice. Sent by the room (and, for the
    /// rate-limit notice, by the client's own reader).
    Line(Utf8Bytes),
    /// The answer to a client's ping, handed over by the reader, which must not
    /// write (see `client.rs`).
    Pong(Bytes),
    /// A close frame with this code and reason; the writer sends it and stops.
    Close(u16, &'static str),
}

/// Create an outbox that holds at most `lines` entries.
pub fn bounded(lines: usize) -> (Sender<Outgoing>, Receiver<Outgoing>) {
    crossbeam_channel::bounded(lines.max(1))
}

/// Set by the room to drop a client whose outbox is full. The room cannot
/// block on that client, so it cannot queue a close frame behind 4096 lines;
/// instead it flips this switch and the writer, which is draining those lines,
/// sees it between frames, discards the rest and sends the close frame itself.
#[derive(Debug, Default)]
pub struct Kick(AtomicU16);

impl Kick {
    /// A switch shared by the room (which sets it) and the writer (which reads it).
    pub fn new() -> Arc<Kick> {
        Arc::new(Kick::default())
    }

    /// Ask the writer to close with `code`. The first code set wins.
    pub fn kick(&self, code: u16) {
        let _ = self
            .0
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The close code the room asked for, if any.
    pub fn code(&self) -> Option<u16> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            code => Some(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_kick_wins() {
        let kick = Kick::new();
        assert_eq!(kick.code(), None);
        kick.kick(1008);
        kick.kick(1001);
        assert_eq!(kick.code(), Some(1008));
    }
}
