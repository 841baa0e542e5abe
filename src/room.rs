//! The room: the broadcaster thread, sole owner of the connection-to-nickname
//! table.
//!
//! Client threads send it [`Event`]s over one crossbeam channel; it answers by
//! putting lines in the clients' outboxes. Nothing else touches the table, so
//! there is no `Mutex`, and because one thread handles every event in turn,
//! every client sees the same lines in the same order.
//!
//! The seed's three handlers live here: `handle-new-connection` is
//! [`Room::join`], `broadcast-to-room` is [`Room::message`] and
//! `handle-close-connection` is [`Room::leave`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;

use crossbeam_channel::Receiver;
use rand::RngExt;
use tungstenite::{Bytes, Utf8Bytes};

use crate::frame;
use crate::id::ClientId;
use crate::outbox::{Outbox, Refused};
use crate::protocol::{self, close, NICKNAME_SPACE};

/// A busy room sends the lines of up to this many waiting events as one
/// batch: one shared buffer, one queue entry and one write per client.
/// Joins and leaves are part of the batch too (a newcomer gets the part of
/// it from its arrival on), so a crowd arriving costs one wake-up per
/// client per batch, not per arrival.
const MAX_BATCH_EVENTS: usize = 1024;
/// ...and sends a batch early once it holds this many bytes.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// From this many members on, a batch is sent from two threads (see
/// [`deliver_on_two_threads`]).
const SPLIT_FROM: usize = 1000;
/// The helper's stack: it only loops over sends.
const HELPER_STACK_BYTES: usize = 64 * 1024;

/// What client threads tell the room. Sent by client threads (and by the
/// server handle for `Shutdown`); received only by the room thread.
#[derive(Debug)]
pub enum Event {
    /// A client finished its handshake (the seed's `:open`).
    Join {
        id: ClientId,
        peer: SocketAddr,
        /// Where the room puts this client's lines; the writer drains it.
        outbox: Outbox,
    },
    /// A text message from a client (the seed's `:message`).
    Message { id: ClientId, text: Utf8Bytes },
    /// A client is gone (the seed's `:close` and `:error`). Sent exactly once
    /// per joined client, by a drop guard in its reader thread.
    Leave { id: ClientId, reason: LeaveReason },
    /// The server is stopping: close every client with 1001.
    Shutdown,
    /// `/healthz` asks whether the room thread answers: it sends `()` back.
    Ping(crossbeam_channel::Sender<()>),
}

/// Why a client left, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The client sent a close frame with this code (None: no code).
    Closed(Option<u16>),
    /// The TCP connection ended without a close handshake: the client
    /// aborted it, or we did after a failed or stalled write.
    Aborted,
    /// We closed the connection with this code: a protocol error, or a
    /// limit or rule broken; logged by its cause (`close::cause`).
    ProtocolError(u16),
    /// Nothing arrived within the allowed silence.
    TimedOut,
    /// Reading the socket failed.
    ReadFailed(String),
    /// The server is shutting down.
    Shutdown,
    /// The client's thread panicked.
    Panicked,
}

impl fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaveReason::Closed(Some(code)) => write!(f, "closed with {code}"),
            LeaveReason::Closed(None) => write!(f, "closed"),
            LeaveReason::Aborted => write!(f, "connection aborted"),
            LeaveReason::ProtocolError(code) => {
                write!(f, "{}, closed with {code}", close::cause(*code))
            }
            LeaveReason::TimedOut => write!(f, "silent too long"),
            LeaveReason::ReadFailed(err) => write!(f, "read failed: {err}"),
            LeaveReason::Shutdown => write!(f, "server shutting down"),
            LeaveReason::Panicked => write!(f, "client thread panicked"),
        }
    }
}

/// One connected client, as the room sees it.
struct Member {
    nickname: String,
    number: u32,
    peer: SocketAddr,
    outbox: Outbox,
    /// Where in the pending batch this member came in: it gets only the
    /// lines from there on. Zero once a batch has been sent.
    since: Mark,
}

/// A position in a [`Batch`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Mark {
    bytes: usize,
    lines: usize,
}

/// Text frames encoded back to back: the lines every member gets next.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    lines: usize,
}

impl Batch {
    /// Add one line, given in parts.
    fn push(&mut self, parts: &[&[u8]]) {
        frame::encode_parts(frame::TEXT, parts, &mut self.bytes);
        self.lines += 1;
    }

    fn is_full(&self) -> bool {
        self.bytes.len() >= MAX_BATCH_BYTES
    }

    fn end(&self) -> Mark {
        Mark {
            bytes: self.bytes.len(),
            lines: self.lines,
        }
    }
}

/// The table and the rules. [`run`] drives it from a channel; tests drive it
/// directly (and call [`Room::flush`] to send what is pending).
pub struct Room {
    members: HashMap<ClientId, Member>,
    /// Nickname numbers in use, so a new one never collides.
    taken: HashSet<u32>,
    /// Lines for every member, not yet sent.
    pending: Batch,
    /// After `Shutdown`: no more joins or broadcasts, only goodbyes.
    closing: bool,
    /// [`SPLIT_FROM`]; lower in tests, to try the two-thread path.
    split_from: usize,
}

/// The room thread's body: handle events until every sender is gone.
/// Blocks on the channel. Returns once the acceptor, the server handle and
/// every client thread have dropped their senders.
pub fn run(events: Receiver<Event>) {
    let mut room = Room::new();
    while let Ok(event) = events.recv() {
        room.handle(event);
        // Whatever else is already waiting joins the same batch.
        for event in events.try_iter().take(MAX_BATCH_EVENTS) {
            room.handle(event);
        }
        room.flush();
        let clients = room.members.len();
        crate::metrics::room_sizes(usize::from(clients > 0), clients);
    }
    log::debug!("room: all senders gone, stopping");
}

impl Default for Room {
    fn default() -> Self {
        Room::new()
    }
}

impl Room {
    pub fn new() -> Room {
        Room {
            members: HashMap::new(),
            taken: HashSet::new(),
            pending: Batch::default(),
            closing: false,
            split_from: SPLIT_FROM,
        }
    }

    #[cfg(test)]
    /// How many clients are in the room.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    #[cfg(test)]
    /// The nickname of a member, if it is here.
    pub fn nickname(&self, id: ClientId) -> Option<&str> {
        self.members.get(&id).map(|m| m.nickname.as_str())
    }

    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Join { id, peer, outbox } => self.join(id, peer, outbox),
            Event::Message { id, text } => self.message(id, &text),
            Event::Leave { id, reason } => self.leave(id, &reason),
            Event::Shutdown => self.shutdown(),
            Event::Ping(reply) => {
                let _ = reply.send(());
            }
        }
    }

    /// The seed's `handle-new-connection`: pick a free `user-N`, tell the
    /// newcomer who they are and the others who arrived.
    pub fn join(&mut self, id: ClientId, peer: SocketAddr, outbox: Outbox) {
        if self.closing {
            outbox.close(close::GOING_AWAY, "server shutting down");
            return;
        }
        let Some(number) = self.free_number() else {
            // Every nickname is taken: only possible with --max-clients above
            // NICKNAME_SPACE. Refuse rather than hand out a duplicate.
            log::warn!("room: no free nickname for {peer}, closing it");
            outbox.close(close::GOING_AWAY, "room is full");
            return;
        };
        let nickname = protocol::nickname(number);
        log::info!("room: {nickname} joined from {peer}");
        // Who they are, first and to them alone; then the join notice, to
        // the others only: the newcomer hears the batch from after it.
        let mut hello = Vec::new();
        frame::encode(
            frame::TEXT,
            protocol::you_are(&nickname).as_bytes(),
            &mut hello,
        );
        let _ = outbox.send_lines(&Bytes::from(hello), 1);
        self.pend(&protocol::has_joined(&nickname));
        self.taken.insert(number);
        self.members.insert(
            id,
            Member {
                nickname,
                number,
                peer,
                outbox,
                since: self.pending.end(),
            },
        );
    }

    /// The seed's `broadcast-to-room`: `nick: message` to everyone, sender
    /// included. The line is encoded once, into the batch every member gets.
    pub fn message(&mut self, id: ClientId, text: &str) {
        if self.closing {
            return;
        }
        let Some(member) = self.members.get(&id) else {
            return; // already dropped by the room; its last words go nowhere
        };
        log::debug!("room: {}: {text}", member.nickname);
        let line = protocol::chat_line(&member.nickname, text).map(str::as_bytes);
        self.pending.push(&line);
        if self.pending.is_full() {
            self.flush();
        }
    }

    /// The seed's `handle-close-connection`: remove the member first, then
    /// tell everyone left. A second Leave for the same id does nothing, so the
    /// leave line goes out exactly once however the client went.
    pub fn leave(&mut self, id: ClientId, reason: &LeaveReason) {
        let Some(member) = self.remove(id) else {
            return;
        };
        log::info!("room: {} left ({}): {reason}", member.nickname, member.peer);
        crate::metrics::left(reason);
        if !self.closing {
            self.pend(&protocol::has_left(&member.nickname));
        }
    }

    /// Send what was accepted, then close every client with 1001.
    pub fn shutdown(&mut self) {
        self.flush();
        self.closing = true;
        for member in self.members.values() {
            member
                .outbox
                .close(close::GOING_AWAY, "server shutting down");
        }
    }

    /// Add one line for every member to the pending batch.
    fn pend(&mut self, line: &str) {
        self.pending.push(&[line.as_bytes()]);
        if self.pending.is_full() {
            self.flush();
        }
    }

    /// Send the pending batch to every member without ever blocking: each
    /// outbox sends it at once, or queues it for a writer if the socket is
    /// full. A member with too many lines waiting is too slow: it is
    /// dropped (a parting close 1008, then its connection is aborted) and
    /// the others are told it left, which is a new batch, which may drop
    /// more.
    pub fn flush(&mut self) {
        while self.pending.lines > 0 {
            let Batch { bytes, lines } = std::mem::take(&mut self.pending);
            crate::metrics::broadcast(lines, bytes.len());
            let batch = Bytes::from(bytes);
            let slow = if self.members.len() < self.split_from {
                deliver(self.members.iter_mut(), &batch, lines)
            } else {
                deliver_on_two_threads(&mut self.members, &batch, lines)
            };
            for id in slow {
                if let Some(member) = self.remove(id) {
                    crate::metrics::dropped_too_slow();
                    member
                        .outbox
                        .abort_with(close::POLICY_VIOLATION, "too slow: too many lines waiting");
                    log::info!(
                        "room: {} left ({}): too many lines waiting, dropped",
                        member.nickname,
                        member.peer
                    );
                    if !self.closing {
                        let left = protocol::has_left(&member.nickname);
                        self.pending.push(&[left.as_bytes()]);
                    }
                }
            }
        }
    }

    fn remove(&mut self, id: ClientId) -> Option<Member> {
        let member = self.members.remove(&id)?;
        self.taken.remove(&member.number);
        Some(member)
    }

    /// A nickname number no member has: uniformly random (the seed's
    /// `(random 100000)`), re-rolled on collision.
    fn free_number(&self) -> Option<u32> {
        if self.taken.len() >= NICKNAME_SPACE as usize {
            return None;
        }
        let mut rng = rand::rng();
        // While the space is less than half full each roll succeeds with
        // probability over 1/2, so this loop almost never runs long.
        for _ in 0..64 {
            let n = rng.random_range(0..NICKNAME_SPACE);
            if !self.taken.contains(&n) {
                return Some(n);
            }
        }
        // Crowded: pick uniformly among the free numbers instead.
        let free = NICKNAME_SPACE as usize - self.taken.len();
        let pick = rng.random_range(0..free);
        (0..NICKNAME_SPACE)
            .filter(|n| !self.taken.contains(n))
            .nth(pick)
    }
}

/// Send `batch` (of `lines` lines) to each of `members`, from where each
/// came in; return those too far behind to take it.
fn deliver<'a>(
    members: impl Iterator<Item = (&'a ClientId, &'a mut Member)>,
    batch: &Bytes,
    lines: usize,
) -> Vec<ClientId> {
    let mut slow = Vec::new();
    for (&id, member) in members {
        let since = std::mem::take(&mut member.since);
        if since.lines == lines {
            continue; // joined after the last line of this batch
        }
        // A newcomer gets a slice of the same buffer: no copy.
        let slice;
        let from = if since.bytes == 0 {
            batch
        } else {
            slice = batch.slice(since.bytes..);
            &slice
        };
        // Gone: the connection is ending; the reader's Leave is on its way.
        if member.outbox.send_lines(from, lines - since.lines) == Err(Refused::Full) {
            slow.push(id);
        }
    }
    slow
}

/// [`deliver`] for a big room: the room thread sends to half the members
/// while a helper thread, started for this batch, sends to the other half.
/// Each send is a system call of several microseconds (on loopback it also
/// does the receiving side's work), so one thread takes tens of
/// milliseconds for thousands of members; starting a thread costs tens of
/// microseconds. If no thread can be started, the room sends them all.
fn deliver_on_two_threads(
    members: &mut HashMap<ClientId, Member>,
    batch: &Bytes,
    lines: usize,
) -> Vec<ClientId> {
    let mut all: Vec<(&ClientId, &mut Member)> = members.iter_mut().collect();
    let half = all.len() / 2;
    let (mine, theirs) = all.split_at_mut(half);
    let (mut slow, helped) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("room-helper".into())
            .stack_size(HELPER_STACK_BYTES)
            .spawn_scoped(scope, || deliver(pairs(theirs), batch, lines));
        let slow = deliver(pairs(mine), batch, lines);
        (slow, helper.map(|helper| helper.join()))
    });
    match helped {
        Ok(Ok(more)) => slow.extend(more),
        // Nothing in `deliver` panics; if it did, say so.
        Ok(Err(_)) => log::error!("room: the helper thread panicked"),
        Err(e) => {
            log::debug!("room: no helper thread ({e}); sending alone");
            slow.extend(deliver(pairs(theirs), batch, lines));
        }
    }
    slow
}

/// The (id, member) pairs of a slice of them, as [`deliver`] takes them.
fn pairs<'a, 'b: 'a>(
    members: &'a mut [(&'b ClientId, &'b mut Member)],
) -> impl Iterator<Item = (&'a ClientId, &'a mut Member)> + use<'a, 'b> {
    members
        .iter_mut()
        .map(|(id, member)| (&**id, &mut **member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{filler, pair, Peer};

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40000))
    }

    /// Join a member whose outbox holds `lines`, on a real connection;
    /// return the client's end.
    fn join(room: &mut Room, id: ClientId, lines: usize) -> (Peer, Outbox) {
        let (outbox, client) = pair(id, lines);
        room.join(id, peer(), outbox.clone());
        (client, outbox)
    }

    /// A room that sends every batch from two threads, however small.
    fn on_two_threads() -> Room {
        Room {
            split_from: 2,
            ..Room::new()
        }
    }

    fn nick(room: &Room, id: ClientId) -> String {
        room.nickname(id).unwrap().to_owned()
    }

    #[test]
    fn nicknames_are_user_n_below_100000() {
        let mut room = Room::new();
        for id in 0..200 {
            let (mut client, _) = join(&mut room, id, 1000);
            let nick = nick(&room, id);
            let n: u32 = nick.strip_prefix("user-").unwrap().parse().unwrap();
            assert!(n < NICKNAME_SPACE);
            assert_eq!(client.texts(1), [format!(" .... you are {nick}.")]);
        }
    }

    #[test]
    fn nicknames_are_unique_even_when_the_space_is_crowded() {
        let mut room = Room::new();
        // Fill all but 10 numbers by hand, then join 10: all must be distinct.
        room.taken = (0..NICKNAME_SPACE - 10).collect();
        let mut got = HashSet::new();
        let mut clients = Vec::new();
        for id in 0..10 {
            clients.push(join(&mut room, id, 10));
            let nick = nick(&room, id);
            let n: u32 = nick.strip_prefix("user-").unwrap().parse().unwrap();
            assert!(n >= NICKNAME_SPACE - 10, "{nick} was taken");
            assert!(got.insert(n), "{nick} given twice");
        }
        // The space is now full: the next join is refused, not duplicated.
        let (mut refused, _) = join(&mut room, 99, 10);
        assert_eq!(room.len(), 10);
        assert_eq!(refused.close_code(), close::GOING_AWAY);
    }

    #[test]
    fn join_message_leave_as_the_seed() {
        join_message_leave(Room::new());
    }

    #[test]
    fn join_message_leave_with_two_sending_threads() {
        join_message_leave(on_two_threads());
    }

    fn join_message_leave(mut room: Room) {
        let (mut a, _) = join(&mut room, 1, 100);
        let (mut b, _) = join(&mut room, 2, 100);
        room.flush();
        let (nick_a, nick_b) = (nick(&room, 1), nick(&room, 2));
        assert_eq!(
            a.texts(2),
            [
                format!(" .... you are {nick_a}."),
                format!(" .... {nick_b} has joined.")
            ]
        );
        assert_eq!(b.texts(1), [format!(" .... you are {nick_b}.")]);

        room.message(1, "hello");
        room.flush();
        assert_eq!(a.texts(1), [format!("{nick_a}: hello")]);
        assert_eq!(b.texts(1), [format!("{nick_a}: hello")]);

        room.leave(1, &LeaveReason::Closed(Some(1000)));
        room.flush();
        assert_eq!(b.texts(1), [format!(" .... {nick_a} has left.")]);
        // Removed first: the leaver gets nothing more.
        a.assert_quiet();
        assert_eq!(room.nickname(1), None);
        // A second Leave (say, from a drop guard) is silent.
        room.leave(1, &LeaveReason::Aborted);
        room.flush();
        b.assert_quiet();
    }

    #[test]
    fn a_batch_keeps_the_order_and_skips_those_who_were_not_there() {
        let mut room = Room::new();
        let (mut a, _) = join(&mut room, 1, 100);
        let nick_a = nick(&room, 1);
        room.message(1, "before");
        // B joins mid-batch: it must not get "before", and A gets it first.
        let (mut b, _) = join(&mut room, 2, 100);
        let nick_b = nick(&room, 2);
        room.message(2, "after");
        room.flush();
        assert_eq!(
            a.texts(4)[1..],
            [
                format!("{nick_a}: before"),
                format!(" .... {nick_b} has joined."),
                format!("{nick_b}: after"),
            ]
        );
        assert_eq!(
            b.texts(2),
            [
                format!(" .... you are {nick_b}."),
                format!("{nick_b}: after")
            ]
        );
        a.assert_quiet();
        b.assert_quiet();
    }

    #[test]
    fn a_crowd_arriving_in_one_batch_hears_of_those_after_it() {
        a_crowd_arriving(Room::new());
    }

    #[test]
    fn a_crowd_arriving_with_two_sending_threads() {
        a_crowd_arriving(on_two_threads());
    }

    fn a_crowd_arriving(mut room: Room) {
        let mut clients: Vec<_> = (0..5).map(|id| join(&mut room, id, 100).0).collect();
        room.flush();
        let nicks: Vec<_> = (0..5).map(|id| nick(&room, id)).collect();
        for (i, client) in clients.iter_mut().enumerate() {
            let mut want = vec![format!(" .... you are {}.", nicks[i])];
            want.extend(
                nicks[i + 1..]
                    .iter()
                    .map(|n| format!(" .... {n} has joined.")),
            );
            assert_eq!(client.texts(want.len()), want);
            client.assert_quiet();
        }
    }

    #[test]
    fn too_many_lines_waiting_drops_that_client_only_with_1008() {
        too_many_lines_waiting(Room::new());
    }

    #[test]
    fn too_many_lines_waiting_with_two_sending_threads() {
        too_many_lines_waiting(on_two_threads());
    }

    fn too_many_lines_waiting(mut room: Room) {
        let (mut slow, slow_outbox) = join(&mut room, 1, 3);
        let (mut fast, _) = join(&mut room, 2, 100);
        let (slow_nick, fast_nick) = (nick(&room, 1), nick(&room, 2));
        // A frame bigger than loopback buffers hold, which the slow client
        // does not read yet: what follows it waits in the backlog.
        let big = 8 << 20;
        assert_eq!(slow_outbox.send_lines(&filler(big), 0), Ok(()));
        // "has joined", "one" and "two" fit in 3 lines; "three" does not.
        for text in ["one", "two"] {
            room.message(2, text);
            room.flush();
            assert_eq!(room.len(), 2);
        }
        room.message(2, "three");
        room.flush();
        assert_eq!(room.len(), 1);
        assert_eq!(
            fast.texts(5),
            [
                format!(" .... you are {fast_nick}."),
                format!("{fast_nick}: one"),
                format!("{fast_nick}: two"),
                format!("{fast_nick}: three"),
                format!(" .... {slow_nick} has left."),
            ]
        );
        // The slow client gets what its writer had started on, then 1008.
        assert_eq!(slow.texts(1), [format!(" .... you are {slow_nick}.")]);
        assert_eq!(slow.frame().1.len(), big);
        let mut rest = Vec::new();
        let code = loop {
            match slow.frame() {
                (frame::CLOSE, payload) => break u16::from_be_bytes([payload[0], payload[1]]),
                (_, text) => rest.push(String::from_utf8(text).unwrap()),
            }
        };
        let queued = [
            format!(" .... {fast_nick} has joined."),
            format!("{fast_nick}: one"),
            format!("{fast_nick}: two"),
        ];
        assert!(queued.starts_with(&rest), "{rest:?}");
        assert_eq!(code, close::POLICY_VIOLATION);
        slow.assert_ended();
    }

    #[test]
    fn messages_from_unknown_clients_are_ignored() {
        let mut room = Room::new();
        let (mut a, _) = join(&mut room, 1, 10);
        let _ = a.texts(1);
        room.message(7, "ghost");
        room.flush();
        a.assert_quiet();
    }

    #[test]
    fn shutdown_sends_what_was_accepted_then_going_away() {
        let mut room = Room::new();
        let (mut a, _) = join(&mut room, 1, 10);
        let nick_a = nick(&room, 1);
        let _ = a.texts(1);
        room.message(1, "last words");
        room.shutdown();
        assert_eq!(a.texts(1), [format!("{nick_a}: last words")]);
        assert_eq!(a.close_code(), close::GOING_AWAY);
        room.message(1, "late");
        room.leave(1, &LeaveReason::Shutdown);
        room.flush();
        a.assert_ended();
        // Joins after shutdown are turned away.
        let (mut c, _) = join(&mut room, 3, 10);
        assert_eq!(c.close_code(), close::GOING_AWAY);
    }

    #[test]
    fn run_stops_when_senders_are_gone() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let room = std::thread::spawn(move || run(rx));
        let (outbox, mut client) = pair(1, 10);
        tx.send(Event::Join {
            id: 1,
            peer: peer(),
            outbox,
        })
        .unwrap();
        tx.send(Event::Message {
            id: 1,
            text: "hi".into(),
        })
        .unwrap();
        drop(tx);
        room.join().unwrap();
        assert_eq!(client.texts(2).len(), 2);
    }
}
