//! A minimal WebSocket client codec (RFC 6455) for the load generator: the
//! upgrade request, the check of the server's answer, masked client frames
//! and unmasked server frames. Hand-written so that thousands of idle clients
//! cost a few hundred bytes each and no thread: the fleet's workers drive it
//! from non-blocking sockets polled with mio.

use std::net::SocketAddr;

/// The `Sec-WebSocket-Key` every client sends. A nonce in a browser; the
/// server only derives its answer from it, so one fixed key is enough here.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The largest frame the generator accepts from the server. The server's
/// lines are at most its message limit (4 KiB) plus a nickname.
pub const MAX_FRAME: usize = 64 * 1024;

/// A request head larger than this is not an answer from our server.
const MAX_HEAD: usize = 8 * 1024;

/// The upgrade request for `path` (`/` the main room, `/NAME` room NAME)
/// at `addr`.
pub fn request(addr: SocketAddr, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// The `Sec-WebSocket-Accept` value the server must send back for [`KEY`].
pub fn expected_accept() -> String {
    tungstenite::handshake::derive_accept_key(KEY.as_bytes())
}

/// What the bytes read so far say about the handshake answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// Not the whole head yet.
    Incomplete,
    /// `101` with the right accept key; the head is this many bytes long.
    Accepted(usize),
    /// Anything else, as one line.
    Refused(String),
}

/// Check the server's answer to [`request`].
pub fn parse_response(buf: &[u8], accept: &str) -> Head {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Head::Refused("handshake answer too large".into())
        } else {
            Head::Incomplete
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Head::Refused(format!("handshake refused: {status}"));
    }
    let accepted = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == accept
        })
    });
    if accepted {
        Head::Accepted(end + 4)
    } else {
        Head::Refused("101 without the right Sec-WebSocket-Accept".into())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub const OP_TEXT: u8 = 0x1;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Append one masked, final frame (a client must mask: RFC 6455, 5.3).
pub fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// One frame from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Text(&'a [u8]),
    Ping(&'a [u8]),
    /// The close code, if the frame had one.
    Close(Option<u16>),
    /// Pong or binary: nothing to do.
    Other,
}

/// Decode the frame at the start of `buf`: `Ok(None)` until it is all there,
/// else the frame and its length on the wire.
pub fn decode(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, String> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b1 & 0x80 != 0 {
        return Err("masked frame from the server".into());
    }
    let (len, head) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (usize::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                (
                    usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
                    10,
                )
            }
            None => return Ok(None),
        },
        n => (usize::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(format!("frame of {len} bytes from the server"));
    }
    let Some(payload) = buf.get(head..head + len) else {
        return Ok(None);
    };
    if b0 & 0x80 == 0 {
        return Err("fragmented frame (the server never fragments)".into());
    }
    let frame = match b0 & 0x0f {
        OP_TEXT => Frame::Text(payload),
        OP_PING => Frame::Ping(payload),
        OP_CLOSE => Frame::Close(
            payload
                .get(..2)
                .map(|code| u16::from_be_bytes([code[0], code[1]])),
        ),
        OP_PONG | 0x2 => Frame::Other,
        op => return Err(format!("unknown opcode {op:#x}")),
    };
    Ok(Some((frame, head + len)))
}

/// How a server under test talks. Ours has a greeting and notices; the
/// peers run their libraries' broadcast examples unchanged, which
/// relay each text message as it came and greet nobody.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// chat-server's: ` .... you are NICK.`, ` .... NICK has joined.`, and
    /// each message to everyone, the sender included, as `NICK: text`.
    Chat,
    /// A broadcast example's: each text message relayed unchanged, to
    /// everyone (`echoes`) or to everyone but its sender.
    Relay { echoes: bool },
}

impl Dialect {
    /// The server says when a client has joined.
    pub fn greets(self) -> bool {
        self == Dialect::Chat
    }

    /// A sender receives its own messages.
    pub fn echoes(self) -> bool {
        matches!(self, Dialect::Chat | Dialect::Relay { echoes: true })
    }
}

/// The room of client `index` when clients are spread over `rooms` rooms
/// (the request path picks the room); `/` with one room.
pub fn room_path(index: u32, rooms: u32) -> String {
    if rooms <= 1 {
        "/".into()
    } else {
        format!("/bench-{}", index % rooms)
    }
}

/// What the beacon sends to a relaying server until every client has heard
/// it: the proof that the server has added each client to its broadcast set
/// (the examples add a client after its handshake, so a 101 alone is not).
pub const HELLO: &[u8] = b"hello";

/// Bytes in a benchmark message: the client index, a sequence number and the
/// send time, padded to 64 bytes.
pub const MESSAGE_BYTES: usize = 64;

/// A benchmark message: `~SSSSSS QQQQQQQQQQ TTTTTTTTTTTTTTTTTTTT ....`:
/// sender index, sequence number and send time (ns since the generator's
/// clock base), fixed width so a receiver parses it without searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sender: u32,
    pub seq: u32,
    pub sent_ns: u64,
}

impl Stamp {
    pub fn write(&self) -> [u8; MESSAGE_BYTES] {
        let mut buf = [b'.'; MESSAGE_BYTES];
        buf[0] = b'~';
        digits(&mut buf[1..7], u64::from(self.sender));
        buf[7] = b' ';
        digits(&mut buf[8..18], u64::from(self.seq));
        buf[18] = b' ';
        digits(&mut buf[19..39], self.sent_ns);
        buf[39] = b' ';
        buf
    }

    /// Parse a stamp from a chat line `user-N: ~...`, or from a relayed
    /// one (`~...` as it was sent).
    pub fn from_line(line: &[u8]) -> Option<Stamp> {
        let text = if line.first() == Some(&b'~') {
            line
        } else {
            // The nickname is `user-N` with N < 100000: the colon is early.
            let colon = line.iter().take(16).position(|&b| b == b':')?;
            if line.get(colon + 1) != Some(&b' ') {
                return None;
            }
            line.get(colon + 2..)?
        };
        if text.len() < 40 || text[0] != b'~' {
            return None;
        }
        Some(Stamp {
            sender: u32::try_from(parse_digits(&text[1..7])?).ok()?,
            seq: u32::try_from(parse_digits(&text[8..18])?).ok()?,
            sent_ns: parse_digits(&text[19..39])?,
        })
    }
}

fn digits(out: &mut [u8], mut v: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn parse_digits(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit()
            .then(|| acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips_through_a_chat_line() {
        let s = Stamp {
            sender: 42,
            seq: 7,
            sent_ns: 123_456_789_012,
        };
        let mut line = b"user-99999: ".to_vec();
        line.extend_from_slice(&s.write());
        assert_eq!(Stamp::from_line(&line), Some(s));
        assert_eq!(Stamp::from_line(&s.write()), Some(s), "relayed as sent");
        assert_eq!(Stamp::from_line(b" .... user-1 has joined."), None);
    }

    #[test]
    fn a_frame_decodes_once_it_is_all_there() {
        let mut out = Vec::new();
        encode(&mut out, OP_TEXT, b"hello", [0; 4]);
        // Unmask by hand: the mask is zero, so strip the mask bit and key.
        let raw = [&[out[0], out[1] & 0x7f][..], &out[6..]].concat();
        assert_eq!(decode(&raw).unwrap(), Some((Frame::Text(b"hello"), 7)));
        assert_eq!(decode(&raw[..4]).unwrap(), None);
    }

    #[test]
    fn the_handshake_answer_is_checked() {
        let accept = expected_accept();
        let ok =
            format!("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: {accept}\r\n\r\nxy");
        assert_eq!(
            parse_response(ok.as_bytes(), &accept),
            Head::Accepted(ok.len() - 2)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 101 Sw", &accept),
            Head::Incomplete
        );
        let full = b"HTTP/1.1 503 Service Unavailable\r\n\r\n";
        assert!(matches!(parse_response(full, &accept), Head::Refused(_)));
    }
}
