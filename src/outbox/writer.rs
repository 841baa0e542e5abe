//! A client's writer thread (`client-N-w`): it exists only while the client
//! is behind, that is while its outbox holds frames the socket would not
//! take at once (see the parent module, `outbox`).
//!
//! A private child of `outbox`: it drives the outbox's internals (the
//! backlog, what is in flight), which nothing else may touch.
//!
//! It writes the front of the backlog with ordinary blocking writes, many
//! frames in one `writev`, until the backlog is empty, then ends. The socket's
//! write timeout bounds each write: a client that takes nothing for that long
//! has its connection aborted, and its reader, whose read then ends, makes
//! it leave.

use std::io::{self, IoSlice, Write};

use tungstenite::Bytes;

use super::{Outbox, Phase};

/// At most this many buffers in one `writev` (Linux allows 1024).
const MAX_BUFFERS: usize = 256;

/// The writer thread's body.
pub(super) fn run(outbox: &Outbox) {
    // Abort the connection if this thread panics: otherwise the client would
    // stay a member that hears nothing more.
    let _abort = AbortOnPanic(outbox);
    let _counted = crate::metrics::WriterRunning::start();
    let mut buffers: Vec<Bytes> = Vec::new();
    loop {
        {
            let mut state = outbox.lock();
            if state.backlog.is_empty() || state.phase == Phase::Aborted {
                outbox.writer_stops(&mut state);
                return;
            }
            Outbox::take_front(&mut state, MAX_BUFFERS, &mut buffers);
        }
        let result = write_all(outbox.socket(), &buffers);
        buffers.clear();
        let mut state = outbox.lock();
        match result {
            Ok(()) => outbox.written(&mut state),
            Err(e) => outbox.write_failed(&mut state, &e),
        }
    }
}

/// `write_all` for several buffers: one `writev` per round.
fn write_all(mut socket: &std::net::TcpStream, buffers: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match socket.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Aborts the connection if the writer thread panics, so the reader's read
/// returns, it leaves, and the others get the leave line.
struct AbortOnPanic<'a>(&'a Outbox);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.lock();
            self.0
                .write_failed(&mut state, &io::Error::other("writer panicked"));
            self.0.writer_stops(&mut state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Refused;
    use crate::test_support::pair;

    #[test]
    fn a_panicking_writer_aborts_the_connection() {
        let (outbox, mut client) = pair(1, 10);
        let writer = {
            let outbox = outbox.clone();
            std::thread::spawn(move || {
                let _abort = AbortOnPanic(&outbox);
                panic!("a bug in a writer thread (this panic is expected)");
            })
        };
        assert!(writer.join().is_err());
        // The client sees the connection end (and so would the reader: its
        // read returns, and it leaves); nothing more is sent.
        client.assert_ended();
        assert_eq!(
            outbox.send_lines(&Bytes::from_static(b"x"), 1),
            Err(Refused::Gone)
        );
    }
}
