//! One client's session: the seed's `chat-server` function, per connection.
//!
//! Two threads per client:
//! - the **reader** (`client-N`, spawned by the acceptor) does the handshake,
//!   then reads frames and turns them into room events. It is the socket's
//!   only reader. A drop guard sends the room exactly one `Leave`, however the
//!   thread ends (close, error, timeout, panic).
//! - the **writer** (`client-N-w`, spawned by the reader, in `writer.rs`)
//!   drains the outbox and is the socket's only writer, so frames never
//!   interleave.
//!
//! tungstenite's `read` writes too (it answers pings and closes from inside
//! `read`), so the reader's socket is a [`ReadOnly`] that discards writes;
//! the reader hands pongs and close replies to the writer through the outbox
//! instead. Both threads share one `TcpStream` (std implements `Read` and
//! `Write` for `&TcpStream`), so a client costs one file descriptor, and
//! they share its timeouts: the read timeout is the allowed silence, the
//! write timeout bounds a stalled write.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crossbeam_channel::Sender;
use log::Level;
use tungstenite::error::ProtocolError;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Error as WsError, Message, WebSocket};

use crate::config::Limits;
use crate::frame;
use crate::handshake::{self, OriginPolicy, ReadFailure, Refusal};
use crate::outbox::{self, Outbox, Outgoing};
use crate::protocol::{close, SLOW_DOWN};
use crate::room::{ClientId, Event, LeaveReason};
use crate::throttle::Throttle;
use crate::throttled;
use crate::writer;

/// Refused handshakes and protocol errors, at most this many log lines a second.
static WARNINGS: Throttle = Throttle::new(20);

/// What every client thread shares: the limits, the room's channel, and the
/// count of joined clients (for `--max-clients`).
pub struct Context {
    pub limits: Limits,
    pub origins: OriginPolicy,
    /// Sent on by every reader; received by the room thread.
    pub events: Sender<Event>,
    /// Clients past their handshake. Incremented by a reader when it takes a
    /// seat, decremented when its thread ends.
    pub clients: Arc<AtomicUsize>,
}

impl Context {
    /// tungstenite's limits for the reader: the message limit for both a
    /// message and a frame (so a huge frame header is refused before any
    /// allocation), and a small read buffer (its 128 KiB default is
    /// allocated for every connection).
    fn ws_config(&self) -> WebSocketConfig {
        let max = self.limits.max_message_bytes;
        WebSocketConfig::default()
            .read_buffer_size(self.limits.read_buffer_bytes)
            .max_message_size(Some(max))
            .max_frame_size(Some(max))
    }
}

/// The reader thread's body (the seed's `chat-server` for one connection):
/// handshake, join, read until the client goes, leave. Blocks throughout.
pub fn serve(id: ClientId, stream: Arc<TcpStream>, peer: SocketAddr, ctx: Arc<Context>) {
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + ctx.limits.handshake_timeout;
    let upgrade = match handshake::read_upgrade(&stream, deadline, &ctx.origins) {
        Ok(upgrade) => upgrade,
        Err(ReadFailure::Refused(refusal)) => return refuse(id, &stream, peer, &refusal),
        Err(ReadFailure::TimedOut) => {
            throttled!(
                WARNINGS,
                Level::Info,
                "client-{id}: {peer} did not finish its handshake in time, dropped"
            );
            return;
        }
        Err(ReadFailure::Closed) => {
            return log::debug!("client-{id}: {peer} left during the handshake")
        }
        Err(ReadFailure::Io(e)) => {
            return log::debug!("client-{id}: {peer} handshake read failed: {e}")
        }
    };
    let Some(_seat) = Seat::take(&ctx) else {
        let refusal = Refusal::new(503, "the room is full, try again later");
        return refuse(id, &stream, peer, &refusal);
    };
    if let Err(e) = handshake::accept(&stream, &upgrade) {
        return log::debug!("client-{id}: {peer} went before the handshake answer: {e}");
    }
    if let Err(e) = session(id, stream, peer, upgrade.rest, &ctx) {
        log::warn!("client-{id}: could not start a session for {peer}: {e}");
    }
}

fn refuse(id: ClientId, stream: &TcpStream, peer: SocketAddr, refusal: &Refusal) {
    throttled!(
        WARNINGS,
        Level::Info,
        "client-{id}: refused {peer}: {} {}",
        refusal.status,
        refusal.why
    );
    handshake::refuse(stream, refusal);
}

/// A place among `--max-clients`, given back when the reader thread ends.
struct Seat<'a>(&'a AtomicUsize);

impl<'a> Seat<'a> {
    fn take(ctx: &'a Context) -> Option<Seat<'a>> {
        let max = ctx.limits.max_clients;
        ctx.clients
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Seat(&ctx.clients))
    }
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sends the room this client's `Leave` when dropped: at the end of the
/// reader, or while unwinding from a panic.
struct LeaveGuard<'a> {
    id: ClientId,
    events: &'a Sender<Event>,
    reason: LeaveReason,
}

impl Drop for LeaveGuard<'_> {
    fn drop(&mut self) {
        let reason = if thread::panicking() {
            LeaveReason::Panicked
        } else {
            std::mem::replace(&mut self.reason, LeaveReason::Dropped)
        };
        let _ = self.events.send(Event::Leave {
            id: self.id,
            reason,
        });
    }
}

/// Cuts the connection both ways if the writer thread panics. Without it the
/// reader would go on reading, and the room would go on counting a member
/// that can no longer hear anything; with it the reader's read returns, it
/// leaves, and the others get the leave line.
struct CutOnPanic<'a>(&'a TcpStream);

impl Drop for CutOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            let _ = self.0.shutdown(Shutdown::Both);
        }
    }
}

/// After the handshake: start the writer, join the room, read until the end.
fn session(
    id: ClientId,
    stream: Arc<TcpStream>,
    peer: SocketAddr,
    early: Vec<u8>,
    ctx: &Context,
) -> io::Result<()> {
    stream.set_read_timeout(Some(ctx.limits.idle_timeout))?;
    stream.set_write_timeout(Some(ctx.limits.write_timeout))?;
    let (outbox, queue) = outbox::new(ctx.limits.outbox_lines);
    let writer = {
        let (socket, limits) = (stream.clone(), ctx.limits.clone());
        thread::Builder::new()
            .name(format!("client-{id}-w"))
            .stack_size(ctx.limits.thread_stack_bytes)
            .spawn(move || {
                let _cut = CutOnPanic(&socket);
                writer::run(id, &socket, &queue, &limits);
            })?
    };

    let mut guard = LeaveGuard {
        id,
        events: &ctx.events,
        reason: LeaveReason::Dropped,
    };
    let joined = ctx.events.send(Event::Join {
        id,
        peer,
        outbox: outbox.clone(),
    });
    let mut ws = WebSocket::from_partially_read(
        ReadOnly(stream),
        early,
        Role::Server,
        Some(ctx.ws_config()),
    );
    if joined.is_ok() {
        guard.reason = read_loop(id, &mut ws, &outbox, ctx);
    }
    let must_drain = matches!(
        guard.reason,
        LeaveReason::ProtocolError(_) | LeaveReason::TimedOut
    );
    drop(guard); // the room hears of it now, not after the drain below
    drop(outbox); // with the room's copy gone too, the writer's queue ends
    if must_drain {
        // We asked the writer to close; read and drop what the client still
        // sends, so our close is not lost to a reset, until its close or EOF.
        handshake::drain(&ws.get_ref().0, ctx.limits.close_timeout);
    }
    if writer.join().is_err() {
        log::error!("client-{id}: writer thread panicked");
    }
    Ok(())
}

/// Read frames and hand them on until the client goes; return why it went.
fn read_loop(
    id: ClientId,
    ws: &mut WebSocket<ReadOnly>,
    outbox: &Outbox,
    ctx: &Context,
) -> LeaveReason {
    let mut bucket = TokenBucket::new(ctx.limits.rate_per_second, ctx.limits.burst);
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(e) => return read_error(id, e, outbox),
        };
        match message {
            Message::Text(text) => match bucket.take(Instant::now()) {
                Admit::Yes => {
                    if ctx.events.send(Event::Message { id, text }).is_err() {
                        return LeaveReason::Shutdown; // the room is gone
                    }
                }
                Admit::NoAndWarn => {
                    let mut notice = Vec::new();
                    frame::encode(frame::TEXT, SLOW_DOWN.as_bytes(), &mut notice);
                    let _ = outbox.push_lines(Bytes::from(notice), 1);
                }
                Admit::No => {}
            },
            Message::Binary(_) => {
                let bye = Outgoing::Close(close::UNSUPPORTED_DATA, "binary frames are not chat");
                let _ = outbox.push_control(bye);
                return LeaveReason::ProtocolError(close::UNSUPPORTED_DATA);
            }
            Message::Ping(data) => {
                let _ = outbox.push_pong(data);
            }
            Message::Pong(_) | Message::Frame(_) => {}
            Message::Close(frame) => {
                // tungstenite has already turned a code a client may not send
                // into 1002; echo the code as RFC 6455 section 5.5.1 suggests.
                let code = frame.map(|f| u16::from(f.code));
                let _ = outbox.push_control(Outgoing::Close(code.unwrap_or(0), ""));
                return match code {
                    Some(close::PROTOCOL_ERROR) => {
                        LeaveReason::ProtocolError(close::PROTOCOL_ERROR)
                    }
                    code => LeaveReason::Closed(code),
                };
            }
        }
    }
}

/// Map a read error to a close code (sent through the writer) and a reason.
/// tungstenite reports protocol errors but sends nothing; RFC 6455 wants a
/// close frame with the right code first.
fn read_error(id: ClientId, error: WsError, outbox: &Outbox) -> LeaveReason {
    let code = match &error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => return LeaveReason::Dropped,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            return LeaveReason::Dropped
        }
        WsError::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            let _ = outbox.push_control(Outgoing::Close(close::GOING_AWAY, "silent too long"));
            return LeaveReason::TimedOut;
        }
        WsError::Io(e) if is_disconnect(e) => return LeaveReason::Dropped,
        WsError::Io(e) => return LeaveReason::ReadFailed(e.to_string()),
        WsError::Utf8(_) => close::INVALID_PAYLOAD,
        // Over the message or frame limit, announced or reached.
        WsError::Capacity(_) => close::MESSAGE_TOO_BIG,
        // Everything else tungstenite refuses is bad framing, including a
        // 1-byte close payload. (Invalid UTF-8 in a close reason comes as
        // `Utf8` above, so it is 1007 as RFC 6455 section 8.1 says.)
        _ => close::PROTOCOL_ERROR,
    };
    throttled!(
        WARNINGS,
        Level::Warn,
        "client-{id}: {error}; closing with {code}"
    );
    let reason = match code {
        close::INVALID_PAYLOAD => "invalid UTF-8",
        close::MESSAGE_TOO_BIG => "message too big",
        _ => "protocol error",
    };
    let _ = outbox.push_control(Outgoing::Close(code, reason));
    LeaveReason::ProtocolError(code)
}

fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
    )
}

/// The reader's view of the socket. tungstenite's `read` queues pong and
/// close replies and writes them from inside `read`; this swallows those
/// writes, because only the writer thread may write (its replies come from
/// the outbox instead).
pub struct ReadOnly(pub Arc<TcpStream>);

impl Read for ReadOnly {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for ReadOnly {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Per-client flood limit: `rate` tokens a second, at most `burst` saved up.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Whether the sender has been told to slow down during this excess.
    warned: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Yes,
    /// Over the limit, and the sender has not been told yet.
    NoAndWarn,
    No,
}

impl TokenBucket {
    fn new(rate: f64, burst: u32) -> TokenBucket {
        TokenBucket {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: Instant::now(),
            warned: false,
        }
    }

    fn take(&mut self, now: Instant) -> Admit {
        if self.rate <= 0.0 {
            return Admit::Yes; // --rate 0: no limit
        }
        let earned = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.warned = false;
            Admit::Yes
        } else if !self.warned {
            self.warned = true;
            Admit::NoAndWarn
        } else {
            Admit::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn a_panicking_reader_still_leaves_exactly_once() {
        let (events, room_events) = crossbeam_channel::unbounded();
        let reader = thread::spawn(move || {
            let _guard = LeaveGuard {
                id: 7,
                events: &events,
                reason: LeaveReason::Closed(Some(1000)),
            };
            panic!("a bug in a client thread (this panic is expected)");
        });
        assert!(reader.join().is_err());
        let leave = room_events.try_recv().expect("a Leave");
        assert!(
            matches!(
                leave,
                Event::Leave {
                    id: 7,
                    reason: LeaveReason::Panicked
                }
            ),
            "{leave:?}"
        );
        assert!(room_events.try_recv().is_err(), "more than one event");

        // The room turns it into the usual leave line for the others.
        let mut room = crate::room::Room::new();
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        let (gone, _gone_queue) = outbox::new(10);
        let (other, other_queue) = outbox::new(10);
        room.join(7, peer, gone);
        room.join(8, peer, other);
        let nick = room.nickname(7).expect("joined").to_owned();
        room.handle(leave);
        room.flush();
        let mut sent = Vec::new();
        while let Some(item) = other_queue.try_recv() {
            if let Outgoing::Frames { bytes, .. } = item {
                sent.extend_from_slice(&bytes);
            }
        }
        let line = crate::protocol::has_left(&nick);
        assert!(
            sent.windows(line.len()).any(|w| w == line.as_bytes()),
            "no {line:?} in {:?}",
            String::from_utf8_lossy(&sent)
        );
    }

    #[test]
    fn a_panicking_writer_cuts_the_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let server_side = Arc::new(server_side);
        let socket = server_side.clone();
        let writer = thread::spawn(move || {
            let _cut = CutOnPanic(&socket);
            panic!("a bug in a writer thread (this panic is expected)");
        });
        assert!(writer.join().is_err());
        // The reader's side reads EOF at once (so it leaves)...
        server_side
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!((&*server_side).read(&mut [0u8; 8]).unwrap(), 0);
        // ...and the client sees the connection end.
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(client.read(&mut [0u8; 8]).unwrap(), 0);
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut b = TokenBucket::new(10.0, 20);
        b.last = start;
        for _ in 0..20 {
            assert_eq!(b.take(start), Admit::Yes);
        }
        assert_eq!(b.take(start), Admit::NoAndWarn);
        assert_eq!(b.take(start), Admit::No);
        // 100 ms later one token has been earned.
        let later = start + Duration::from_millis(100);
        assert_eq!(b.take(later), Admit::Yes);
        assert_eq!(b.take(later), Admit::NoAndWarn);
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let mut b = TokenBucket::new(0.0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| b.take(now) == Admit::Yes));
    }
}
