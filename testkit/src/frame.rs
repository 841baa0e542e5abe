//! Raw WebSocket frames, for tests that send bytes no well-behaved client
//! would, or read exactly what the server wrote. Headers are written and
//! parsed by tungstenite's [`FrameHeader`].

use std::io::{self, Cursor, Read};
use std::net::TcpStream;
use std::time::Instant;

use tungstenite::protocol::frame::coding::OpCode;
use tungstenite::protocol::frame::FrameHeader;

use crate::WAIT;

/// A client frame, masked as RFC 6455 requires (unless `masked` is false).
/// `opcode` is the raw number, so a test can send a reserved one.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let header = FrameHeader {
        is_final: fin,
        opcode: OpCode::from(opcode),
        mask: masked.then_some(key),
        ..FrameHeader::default()
    };
    let mut out = Vec::new();
    header
        .format(payload.len() as u64, &mut out)
        .expect("writing to a Vec never fails");
    if masked {
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Read one server frame, unmasked and unfragmented: (opcode, payload).
/// The header is parsed a byte at a time (it is at most 14 bytes), so
/// nothing past the frame is consumed: any reader works, a `BufReader` when
/// reading many frames.
///
/// # Errors
/// The read's error (EOF, the socket's read timeout, a reset), or
/// `InvalidData` for a header tungstenite cannot parse.
pub fn read_frame(stream: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = Vec::with_capacity(14);
    let mut byte = [0u8];
    loop {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
        match FrameHeader::parse(&mut Cursor::new(&head)) {
            Ok(Some((header, len))) => {
                let mut payload = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
                stream.read_exact(&mut payload)?;
                return Ok((u8::from(header.opcode), payload));
            }
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}

/// Read frames until a close frame; return its code (1005 when it has
/// none). Panics if the connection ends first, or after 10 000 frames.
pub fn read_close_code(stream: &mut impl Read) -> u16 {
    for _ in 0..10_000 {
        let (opcode, payload) = read_frame(stream).expect("close frame");
        if opcode == 8 {
            return if payload.len() >= 2 {
                u16::from_be_bytes([payload[0], payload[1]])
            } else {
                1005
            };
        }
    }
    panic!("no close frame in 10000 frames");
}

/// A close frame's payload: the code, then the reason bytes.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// The server ends the TCP connection: reads reach EOF (or a reset) within
/// [`WAIT`]; bytes before that are skipped. Panics otherwise.
pub fn assert_eof(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "connection still open");
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("expected EOF, got {e}"),
        }
    }
}
