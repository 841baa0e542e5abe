//! One client's session: the seed's `chat-server` function, per connection.
//!
//! One thread per client, the **reader** (`client-N`, spawned by the
//! acceptor). It does the handshake, then reads frames and turns them into
//! room events; it is the socket's only reader. A drop guard sends the room
//! exactly one `Leave`, however the thread ends (close, error, timeout,
//! panic). When the client is quiet it pings it, and it closes a client
//! silent past the idle timeout.
//!
//! Nothing here writes the socket directly: pongs, pings and close frames go
//! through the client's [`Outbox`], like the room's lines, so frames never
//! interleave. tungstenite's `read` writes too (it answers pings and closes
//! from inside `read`), so the reader's socket is a [`DiscardWrites`]: it
//! reads the socket and throws away what tungstenite writes. The reader, the outbox and a writer (if one is running)
//! share one `TcpStream` through an `Arc`, so a client costs one file
//! descriptor.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::Level;
use tungstenite::error::ProtocolError;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Error as WsError, Message, WebSocket};

use crate::broadcaster::{self, Input};
use crate::config::Limits;
use crate::event::{Event, Time};
use crate::http::head::{self, ReadFailure};
use crate::http::origin::OriginPolicy;
use crate::http::upgrade::{self, Refusal, Refused, Upgrade};
use crate::id::ClientId;
use crate::outbox::Outbox;
use crate::permit::{Permit, Permits};
use crate::protocol::{self, close, log_safe, Format, JSON_SUBPROTOCOL, SLOW_DOWN};
use crate::proxy;
use crate::room::path::NOT_A_ROOM;
use crate::room::{LeaveReason, Place};
use crate::throttle::{Admit, Throttle, TokenBucket};
use crate::throttled;

/// Shortest read timeout we set (zero would mean none).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// Refused handshakes and protocol errors, at most this many log lines a second.
static WARNINGS: Throttle = Throttle::new(20);

/// What every client thread shares: the limits, the room's channel, and the
/// seats (for `--max-clients`).
pub struct Context {
    pub limits: Limits,
    pub origins: OriginPolicy,
    /// `--trust-proxy`: peers whose forwarding headers give the client's
    /// address (see `proxy.rs`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Sent on by every reader; received by the broadcaster.
    pub inputs: Sender<Input>,
    /// Seats for clients past their handshake, at most `--max-clients`: a
    /// reader takes one before it answers 101 and gives it back as its
    /// thread ends.
    pub seats: Arc<Permits>,
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
    // The handshake's parsed head, its strings and the 101's text are
    // freed when `handshake` returns: an idle session keeps only `Start`.
    let Some(Admitted {
        start,
        seat: _seat,
        guard,
    }) = handshake(id, &stream, peer, &ctx)
    else {
        return;
    };
    if let Err(e) = session(start, stream, &ctx, guard) {
        log::warn!("client-{id}: could not start a session for {peer}: {e}");
    }
}

/// What a handshake that ended in `101` leaves for the session.
struct Admitted<'a> {
    start: Start,
    /// Our seat under `--max-clients`, given back when the thread ends.
    seat: Permit<'a>,
    /// Once admitted, the room holds our place: the guard's Leave frees it.
    guard: LeaveGuard<'a>,
}

/// Read and check the upgrade, take a seat, be admitted to the room and
/// answer `101`; or refuse and return `None`. Not inlined, so its frames
/// (the head's parse, the accept key, the answer's formatting) are popped
/// before the session's read loop starts, and what it allocated is freed.
#[inline(never)]
fn handshake<'a>(
    id: ClientId,
    stream: &TcpStream,
    peer: SocketAddr,
    ctx: &'a Context,
) -> Option<Admitted<'a>> {
    let deadline = Instant::now() + ctx.limits.handshake_timeout;
    let upgrade = match upgrade::read_upgrade(stream, deadline, &ctx.origins) {
        Ok(upgrade) => upgrade,
        Err(Refused::Refused(refusal)) => {
            refuse(id, stream, peer, &refusal);
            return None;
        }
        Err(Refused::Read(ReadFailure::Bad(status, why))) => {
            refuse(id, stream, peer, &Refusal::new(status, why));
            return None;
        }
        Err(Refused::Read(ReadFailure::TimedOut)) => {
            throttled!(
                WARNINGS,
                Level::Info,
                "client-{id}: {peer} did not finish its handshake in time, aborted"
            );
            return None;
        }
        Err(Refused::Read(ReadFailure::Closed)) => {
            log::debug!("client-{id}: {peer} left during the handshake");
            return None;
        }
        Err(Refused::Read(ReadFailure::Io(e))) => {
            log::debug!("client-{id}: {peer} handshake read failed: {e}");
            return None;
        }
    };
    // (The target is never logged: it may hold a session secret.)
    let Some(place) = Place::from_target(upgrade.target()) else {
        refuse(id, stream, peer, &Refusal::new(404, NOT_A_ROOM));
        return None;
    };
    let peer = forwarded(id, peer, &upgrade, ctx);
    let Some(seat) = ctx.seats.try_take() else {
        let refusal = Refusal::new(503, "the room is full, try again later");
        refuse(id, stream, peer, &refusal);
        return None;
    };
    let guard = LeaveGuard {
        id,
        inputs: &ctx.inputs,
        reason: LeaveReason::Aborted,
    };
    if let Err(why) = broadcaster::admit(&ctx.inputs, id, place, deadline) {
        refuse(id, stream, peer, &Refusal::new(503, why));
        return None;
    }
    // JSON if the client offers it (RFC 6455 section 4.2.2), else plain text.
    let format = match upgrade.subprotocols().any(|p| p == JSON_SUBPROTOCOL) {
        true => Format::Json,
        false => Format::Text,
    };
    let selected = (format == Format::Json).then_some(JSON_SUBPROTOCOL);
    if let Err(e) = upgrade::accept(stream, &upgrade, selected) {
        log::debug!("client-{id}: {peer} went before the handshake answer: {e}");
        return None;
    }
    let start = Start {
        id,
        peer,
        format,
        early: upgrade.rest,
    };
    Some(Admitted { start, seat, guard })
}

/// The client's address: `peer`, or from a trusted proxy the one it
/// forwards for (logged once, with the proxy's).
fn forwarded(id: ClientId, peer: SocketAddr, upgrade: &Upgrade, ctx: &Context) -> SocketAddr {
    let client = proxy::client_of(peer, &upgrade.head, &ctx.trusted_proxies);
    if client != peer {
        let shown = match client.port() {
            0 => client.ip().to_string(),
            _ => client.to_string(),
        };
        log::info!("client-{id}: {peer} forwards for {shown}");
    }
    client
}

fn refuse(id: ClientId, stream: &TcpStream, peer: SocketAddr, refusal: &Refusal) {
    crate::metrics::handshake_refused(refusal.status);
    throttled!(
        WARNINGS,
        Level::Info,
        "client-{id}: refused {peer}: {} {}",
        refusal.status,
        log_safe(&refusal.why) // may quote the client's Origin
    );
    upgrade::refuse(stream, refusal);
}

/// Sends the broadcaster this client's `Leave` when dropped: at the end of
/// the reader, or while unwinding from a panic.
struct LeaveGuard<'a> {
    id: ClientId,
    inputs: &'a Sender<Input>,
    reason: LeaveReason,
}

impl Drop for LeaveGuard<'_> {
    fn drop(&mut self) {
        let reason = if thread::panicking() {
            LeaveReason::Panicked
        } else {
            std::mem::replace(&mut self.reason, LeaveReason::Aborted)
        };
        let _ = self.inputs.send(Input::Leave {
            id: self.id,
            reason,
        });
    }
}

/// A client past its `101`: who it is, and what it sent early.
struct Start {
    id: ClientId,
    peer: SocketAddr,
    format: Format,
    /// Bytes that came after the request head (frames sent early).
    early: Vec<u8>,
}

/// After the handshake: join the room, read until the end, leave.
fn session(
    start: Start,
    stream: Arc<TcpStream>,
    ctx: &Context,
    mut guard: LeaveGuard<'_>,
) -> io::Result<()> {
    let Start {
        id,
        peer,
        format,
        early,
    } = start;
    let limits = &ctx.limits;
    // Wake up after a ping interval of quiet (see `read_loop`).
    let quiet = limits.ping_interval.min(limits.idle_timeout).max(MIN_WAIT);
    stream.set_read_timeout(Some(quiet))?;
    stream.set_write_timeout(Some(limits.write_timeout.max(MIN_WAIT)))?;
    let outbox = Outbox::new(id, stream.clone(), limits);

    let joined = ctx.inputs.send(Input::Join {
        id,
        peer,
        outbox: outbox.clone(),
        format,
    });
    let socket = DiscardWrites {
        stream,
        last_read: Instant::now(),
    };
    let mut ws = WebSocket::from_partially_read(socket, early, Role::Server, Some(ctx.ws_config()));
    // Whatever happens from here, even a panic, the connection is aborted
    // when the session ends (after our close handshake, if there was one).
    let _abort = AbortOnDrop(&outbox);
    if joined.is_ok() {
        guard.reason = read_loop(id, &mut ws, &outbox, format, ctx);
    }
    let must_drain = matches!(
        guard.reason,
        LeaveReason::ProtocolError(_) | LeaveReason::TimedOut
    );
    // The room hears of it now, not after the waits below.
    drop(guard);
    // Let our close frame (if any) go out before we abort the connection.
    outbox.wait_written(limits.write_timeout);
    if must_drain {
        // Read and drop what the client still sends, so our close is not
        // lost to a reset, until its close or EOF.
        head::drain(&ws.get_ref().stream, limits.close_timeout);
    }
    Ok(())
}

/// Aborts the connection (see [`Outbox::abort`]) when the session ends.
struct AbortOnDrop<'a>(&'a Outbox);

impl Drop for AbortOnDrop<'_> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Read frames and hand them on until the client goes; return why it went.
fn read_loop(
    id: ClientId,
    ws: &mut WebSocket<DiscardWrites>,
    outbox: &Outbox,
    format: Format,
    ctx: &Context,
) -> LeaveReason {
    let limits = &ctx.limits;
    let mut bucket = TokenBucket::new(limits.rate_per_second, limits.burst);
    let mut last_ping = Instant::now();
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(WsError::Io(e)) if is_timeout(&e) => {
                match on_quiet(ws, outbox, limits, &mut last_ping) {
                    Some(reason) => return reason,
                    None => continue,
                }
            }
            Err(e) => return read_error(id, e, outbox),
        };
        match message {
            Message::Text(text) => match bucket.take(Instant::now()) {
                Admit::Yes => {
                    if ctx.inputs.send(Input::Message { id, text }).is_err() {
                        return LeaveReason::Shutdown; // the broadcaster is gone
                    }
                }
                Admit::NoAndWarn => {
                    // (The reader's own notice: the time is only for JSON.)
                    let now = Time::from_system(std::time::SystemTime::now());
                    let mut notice = Vec::new();
                    protocol::encode(&Event::notice(now, SLOW_DOWN), format, false, &mut notice);
                    let _ = outbox.send_lines(&Bytes::from(notice), 1);
                }
                Admit::No => {}
            },
            Message::Binary(_) => {
                outbox.close(close::UNSUPPORTED_DATA, "binary frames are not chat");
                return LeaveReason::ProtocolError(close::UNSUPPORTED_DATA);
            }
            Message::Ping(data) => {
                outbox.pong(data);
            }
            Message::Pong(_) | Message::Frame(_) => {}
            Message::Close(frame) => {
                // tungstenite has already turned a code a client may not send
                // into 1002; echo the code as RFC 6455 section 5.5.1 suggests.
                let code = frame.map(|f| u16::from(f.code));
                outbox.close(code.unwrap_or(0), "");
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

/// The read timed out: the client has been quiet for a while. Ping it, or
/// give up on it if it has been silent past the idle timeout (or has not
/// answered our close); then set when to wake up next. `Some`: it is gone.
fn on_quiet(
    ws: &WebSocket<DiscardWrites>,
    outbox: &Outbox,
    limits: &Limits,
    last_ping: &mut Instant,
) -> Option<LeaveReason> {
    if outbox.is_closing() {
        return Some(LeaveReason::Aborted); // our close went unanswered
    }
    let (now, last_read) = (Instant::now(), ws.get_ref().last_read);
    if now >= last_read + limits.idle_timeout {
        outbox.close(close::GOING_AWAY, "silent too long");
        return Some(LeaveReason::TimedOut);
    }
    if now >= last_read.max(*last_ping) + limits.ping_interval {
        outbox.ping();
        *last_ping = now;
    }
    let next =
        (last_read.max(*last_ping) + limits.ping_interval).min(last_read + limits.idle_timeout);
    let wait = next.saturating_duration_since(now).max(MIN_WAIT);
    match ws.get_ref().stream.set_read_timeout(Some(wait)) {
        Ok(()) => None,
        Err(e) => Some(LeaveReason::ReadFailed(e.to_string())),
    }
}

/// Map a read error to a close code (sent through the writer) and a reason.
/// tungstenite reports protocol errors but sends nothing; RFC 6455 wants a
/// close frame with the right code first.
fn read_error(id: ClientId, error: WsError, outbox: &Outbox) -> LeaveReason {
    let code = match &error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => return LeaveReason::Aborted,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            return LeaveReason::Aborted
        }
        WsError::Io(e) if is_disconnect(e) => return LeaveReason::Aborted,
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
        "client-{id}: {}; closing with {code}",
        log_safe(&error.to_string()) // tungstenite's words may quote the client's
    );
    outbox.close(code, close::cause(code));
    LeaveReason::ProtocolError(code)
}

/// A read that timed out (`SO_RCVTIMEO` gives `EAGAIN`).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
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
/// writes, because everything we send goes through the outbox (its replies
/// come from there instead). It also notes when the client last sent
/// anything, for the idle timeout.
struct DiscardWrites {
    stream: Arc<TcpStream>,
    last_read: Instant,
}

impl Read for DiscardWrites {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = (&*self.stream).read(buf)?;
        if read > 0 {
            self.last_read = Instant::now();
        }
        Ok(read)
    }
}

impl Write for DiscardWrites {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_reader_still_leaves_exactly_once() {
        let (inputs, broadcaster) = crossbeam_channel::unbounded();
        let reader = thread::spawn(move || {
            let _guard = LeaveGuard {
                id: 7,
                inputs: &inputs,
                reason: LeaveReason::Closed(Some(1000)),
            };
            panic!("a bug in a client thread (this panic is expected)");
        });
        assert!(reader.join().is_err());
        let leave = broadcaster.try_recv().expect("a Leave");
        assert!(
            matches!(
                leave,
                Input::Leave {
                    id: 7,
                    reason: LeaveReason::Panicked
                }
            ),
            "{leave:?}"
        );
        assert!(broadcaster.try_recv().is_err(), "more than one input");
    }
}
