//! Server-to-client WebSocket frames (RFC 6455, section 5.2), encoded once
//! for every client.
//!
//! A server's frames are never masked, so a frame's bytes are the same for
//! every client: the room encodes each line once and every outbox sends the
//! very same buffer. tungstenite's `WebSocket` has no API to send frames
//! already encoded, so we write them ourselves, with its public
//! [`FrameHeader`] for the header and the payload appended straight after
//! it (no copy into a tungstenite `Frame` first). tungstenite still parses
//! what clients send (the reader's job).

use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::Bytes;

/// Opcodes we send.
pub const TEXT: OpCode = OpCode::Data(Data::Text);
pub const CLOSE: OpCode = OpCode::Control(Control::Close);
pub const PING: OpCode = OpCode::Control(Control::Ping);
pub const PONG: OpCode = OpCode::Control(Control::Pong);

/// Append one final (unfragmented), unmasked frame to `out`.
pub fn encode(opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
    encode_parts(opcode, &[payload], out);
}

/// Append one frame whose payload is `parts` joined, without joining them
/// first (the room writes `nick`, `": "` and the message straight in).
pub fn encode_parts(opcode: OpCode, parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let header = FrameHeader {
        is_final: true,
        opcode,
        mask: None,
        ..FrameHeader::default()
    };
    let len = len as u64;
    out.reserve(header.len(len) + len as usize);
    header
        .format(len, out)
        .expect("writing to a Vec never fails");
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// A close frame: the code, then the reason (cut to fit the 125-byte limit
/// on control frames, at a character boundary). Code 0: a close with no body.
pub fn encode_close(code: u16, reason: &str, out: &mut Vec<u8>) {
    if code == 0 {
        return encode(CLOSE, &[], out);
    }
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    encode_parts(
        CLOSE,
        &[&code.to_be_bytes(), &reason.as_bytes()[..end]],
        out,
    );
}

/// The bytes `encode` writes, as a shared buffer an outbox can queue.
pub fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut out = Vec::new();
    encode(&mut out);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tungstenite::protocol::frame::FrameHeader;

    /// Parse what we wrote with tungstenite's own frame header parser.
    fn parse(bytes: &[u8]) -> (FrameHeader, Vec<u8>) {
        let mut cursor = Cursor::new(bytes);
        let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
        let start = cursor.position() as usize;
        (header, bytes[start..start + len as usize].to_vec())
    }

    #[test]
    fn lengths_use_the_shortest_form() {
        for (len, header_len) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let payload = vec![b'a'; len];
            let mut out = Vec::new();
            encode(TEXT, &payload, &mut out);
            assert_eq!(out.len(), header_len + len, "payload {len}");
            let (header, body) = parse(&out);
            assert!(header.is_final && !header.rsv1 && header.mask.is_none());
            assert_eq!(body, payload);
        }
    }

    #[test]
    fn close_frames_carry_code_and_a_short_reason() {
        let mut out = Vec::new();
        encode_close(1001, "server shutting down", &mut out);
        let (_, body) = parse(&out);
        assert_eq!(&body[..2], &1001u16.to_be_bytes());
        assert_eq!(&body[2..], b"server shutting down");

        let long = "é".repeat(100); // 200 bytes
        let mut out = Vec::new();
        encode_close(1000, &long, &mut out);
        let (_, body) = parse(&out);
        assert!(body.len() <= 125);
        assert!(std::str::from_utf8(&body[2..]).is_ok());

        let mut out = Vec::new();
        encode_close(0, "", &mut out);
        assert_eq!(out, [0x88, 0x00]);
        let (header, body) = parse(&out);
        assert_eq!((header.opcode, body.len()), (CLOSE, 0));
    }

    #[test]
    fn parts_are_one_payload() {
        let mut out = Vec::new();
        encode_parts(TEXT, &[b"user-1", b": ", b"hi"], &mut out);
        assert_eq!(parse(&out).1, b"user-1: hi");
    }
}
