//! A client's writer thread (`client-N-w`): the only thing that ever writes
//! the client's socket, so frames never interleave.
//!
//! It blocks on the client's outbox until something is queued or a ping is
//! due, then writes everything waiting in one `writev`: under load, many
//! batches of frames (each already encoded once by the room and shared by
//! every client) go out in one syscall. It ends when the outbox's senders are
//! all gone, after it sends a close frame, or when a write fails or stalls
//! past the write timeout.

use std::io::{self, IoSlice, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Instant;

use tungstenite::Bytes;

use crate::config::Limits;
use crate::frame;
use crate::outbox::{Empty, Outgoing, Queue};
use crate::protocol::close;
use crate::room::ClientId;

/// At most this many buffers in one `writev` (Linux allows 1024).
const MAX_BUFFERS: usize = 256;
/// Stop gathering once this many bytes are ready to go.
const MAX_WRITE_BYTES: usize = 256 * 1024;
/// An empty ping frame.
const PING: [u8; 2] = [0x80 | frame::PING, 0];

/// Why the writer stopped.
enum End {
    /// Every sender is gone: the client left and the room let it go.
    Drained,
    /// We sent a close frame.
    Closed,
    /// The room dropped the client; we tried to say so.
    Kicked,
}

/// The writer thread's body. Blocks on the outbox and on socket writes.
pub fn run(id: ClientId, socket: &TcpStream, queue: &Queue, limits: &Limits) {
    match write_until_end(socket, queue, limits) {
        Ok(End::Closed) => {
            // FIN after our close frame. The reader waits a moment for the
            // client's own close (or EOF), then the socket is closed.
            let _ = socket.set_read_timeout(Some(limits.close_timeout));
            let _ = socket.shutdown(Shutdown::Write);
        }
        Ok(End::Drained | End::Kicked) => {
            let _ = socket.shutdown(Shutdown::Both);
        }
        Err(e) => {
            log::debug!("client-{id}: write failed: {e}");
            // Wake the reader: its read returns and it leaves.
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

fn write_until_end(mut socket: &TcpStream, queue: &Queue, limits: &Limits) -> io::Result<End> {
    let mut next_ping = Instant::now() + limits.ping_interval;
    let mut buffers: Vec<Bytes> = Vec::new();
    loop {
        let first = match queue.recv_deadline(next_ping) {
            Ok(item) => item,
            Err(Empty::Closed) => return Ok(End::Drained),
            Err(Empty::TimedOut) => {
                socket.write_all(&PING)?;
                next_ping = Instant::now() + limits.ping_interval;
                continue;
            }
        };
        // Gather everything already waiting, up to a bound.
        let (mut lines, mut bytes, mut closing) = (0, 0, false);
        let mut item = Some(first);
        while let Some(next) = item.take() {
            let buffer = match next {
                Outgoing::Frames { bytes, lines: n } => {
                    lines += n;
                    bytes
                }
                Outgoing::Pong(data) => encoded(|out| frame::encode(frame::PONG, &data, out)),
                Outgoing::Close(code, reason) => {
                    closing = true;
                    encoded(|out| frame::encode_close(code, reason, out))
                }
            };
            bytes += buffer.len();
            buffers.push(buffer);
            if !closing && buffers.len() < MAX_BUFFERS && bytes < MAX_WRITE_BYTES {
                item = queue.try_recv();
            }
        }
        if let Some(code) = queue.kicked() {
            return close_kicked(socket, code);
        }
        write_all(socket, &buffers)?;
        buffers.clear();
        queue.written(lines);
        if closing {
            return Ok(End::Closed);
        }
        if Instant::now() >= next_ping {
            socket.write_all(&PING)?;
            next_ping = Instant::now() + limits.ping_interval;
        }
    }
}

/// The room dropped this client (too many lines waiting): what is queued
/// is dropped, and a close frame goes out if the socket takes it before the
/// write timeout.
fn close_kicked(mut socket: &TcpStream, code: u16) -> io::Result<End> {
    let reason = if code == close::POLICY_VIOLATION {
        "too slow: too many lines waiting"
    } else {
        "server shutting down"
    };
    let bye = encoded(|out| frame::encode_close(code, reason, out));
    socket.write_all(&bye)?;
    Ok(End::Kicked)
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut out = Vec::new();
    encode(&mut out);
    Bytes::from(out)
}

/// `write_all` for several buffers: one `writev` per round.
fn write_all(mut socket: &TcpStream, buffers: &[Bytes]) -> io::Result<()> {
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
