//! Server-to-client WebSocket frames (RFC 6455, section 5.2), encoded by hand.
//!
//! A server's frames are never masked, so a frame's bytes are the same for
//! every client: the room encodes each line once and every writer sends the
//! very same buffer. tungstenite still parses what clients send (the
//! reader's job); it has no API to write pre-encoded frames, so this is the
//! few lines it takes.

/// Opcodes we send.
pub const TEXT: u8 = 0x1;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// Append one final (unfragmented), unmasked frame to `out`.
pub fn encode(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    encode_parts(opcode, &[payload], out);
}

/// Append one frame whose payload is `parts` joined, without joining them
/// first (the room writes `nick`, `": "` and the message straight in).
pub fn encode_parts(opcode: u8, parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(len + 10);
    out.push(0x80 | opcode); // FIN, no RSV bits
    match len {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
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
    let mut body = Vec::with_capacity(2 + end);
    body.extend_from_slice(&code.to_be_bytes());
    body.extend_from_slice(&reason.as_bytes()[..end]);
    encode(CLOSE, &body, out);
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
    }

    #[test]
    fn parts_are_one_payload() {
        let mut out = Vec::new();
        encode_parts(TEXT, &[b"user-1", b": ", b"hi"], &mut out);
        assert_eq!(parse(&out).1, b"user-1: hi");
    }
}
