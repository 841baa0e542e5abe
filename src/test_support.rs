//! Fixtures for the unit tests (compiled only for `cargo test`): real
//! loopback connections for the outbox, the room and the client session.
//! The server's end goes in an [`Outbox`]; the test reads the client's end
//! with [`Peer`], which parses frames with tungstenite's [`FrameHeader`].

use std::io::{self, Cursor, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use tungstenite::protocol::frame::coding::OpCode;
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::Bytes;

use crate::config::Limits;
use crate::frame;
use crate::id::ClientId;
use crate::outbox::Outbox;

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
    frame::encoded(|out| frame::encode(frame::TEXT, &vec![b'x'; len], out))
}

/// Read one unmasked server frame: its header (parsed by tungstenite) and
/// its payload.
///
/// # Errors
/// The read's error: EOF, a timeout, a reset, or a header tungstenite
/// cannot parse (as `InvalidData`).
pub fn read_frame(stream: &mut impl Read) -> io::Result<(FrameHeader, Vec<u8>)> {
    // The longest header: 2 bytes, an 8-byte length and a 4-byte mask.
    let mut head = Vec::with_capacity(14);
    let mut byte = [0u8];
    loop {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
        let mut cursor = Cursor::new(&head);
        match FrameHeader::parse(&mut cursor) {
            Ok(Some((header, len))) => {
                let len = usize::try_from(len).map_err(io::Error::other)?;
                let mut payload = vec![0u8; len];
                stream.read_exact(&mut payload)?;
                return Ok((header, payload));
            }
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}

impl Peer {
    /// The next frame: (opcode, payload). Panics after a wait.
    pub fn frame(&mut self) -> (OpCode, Vec<u8>) {
        let (header, payload) = read_frame(&mut self.stream).expect("a frame");
        (header.opcode, payload)
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
