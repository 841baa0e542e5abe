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
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rand::RngExt;
use tungstenite::Utf8Bytes;

use crate::outbox::{Kick, Outgoing};
use crate::protocol::{self, close, NICKNAME_SPACE};

/// Each connection's id, given by the acceptor; never reused in a run.
pub type ClientId = u64;

/// What client threads tell the room. Sent by client threads (and by the
/// server handle for `Shutdown`); received only by the room thread.
#[derive(Debug)]
pub enum Event {
    /// A client finished its handshake (the seed's `:open`).
    Join {
        id: ClientId,
        peer: SocketAddr,
        /// Where the room puts this client's lines; the writer drains it.
        outbox: Sender<Outgoing>,
        /// How the room drops the client when its outbox is full.
        kick: Arc<Kick>,
    },
    /// A text message from a client (the seed's `:message`).
    Message { id: ClientId, text: Utf8Bytes },
    /// A client is gone (the seed's `:close` and `:error`). Sent exactly once
    /// per joined client, by a drop guard in its reader thread.
    Leave { id: ClientId, reason: LeaveReason },
    /// The server is stopping: close every client with 1001.
    Shutdown,
}

/// Why a client left, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The client sent a close frame with this code (None: no code).
    Closed(Option<u16>),
    /// The TCP connection ended without a close frame.
    Dropped,
    /// We closed the connection with this code after a protocol error.
    ProtocolError(u16),
    /// Nothing arrived within the allowed silence.
    TimedOut,
    /// Reading the socket failed.
    ReadFailed(String),
    /// The writer stopped (write failed or timed out, or the room dropped it).
    WriterGone,
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
            LeaveReason::Dropped => write!(f, "connection dropped"),
            LeaveReason::ProtocolError(code) => write!(f, "protocol error, closed with {code}"),
            LeaveReason::TimedOut => write!(f, "silent too long"),
            LeaveReason::ReadFailed(err) => write!(f, "read failed: {err}"),
            LeaveReason::WriterGone => write!(f, "write failed or timed out"),
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
    outbox: Sender<Outgoing>,
    kick: Arc<Kick>,
}

/// The table and the rules. [`run`] drives it from a channel; tests drive it
/// directly.
pub struct Room {
    members: HashMap<ClientId, Member>,
    /// Nickname numbers in use, so a new one never collides.
    taken: HashSet<u32>,
    /// After `Shutdown`: no more joins or broadcasts, only goodbyes.
    closing: bool,
}

/// The room thread's body: handle events until every sender is gone.
/// Blocks on the channel. Returns once the acceptor, the server handle and
/// every client thread have dropped their senders.
pub fn run(events: Receiver<Event>) {
    let mut room = Room::new();
    for event in events {
        room.handle(event);
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
            closing: false,
        }
    }

    /// How many clients are in the room.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The nickname of a member, if it is here.
    pub fn nickname(&self, id: ClientId) -> Option<&str> {
        self.members.get(&id).map(|m| m.nickname.as_str())
    }

    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Join {
                id,
                peer,
                outbox,
                kick,
            } => self.join(id, peer, outbox, kick),
            Event::Message { id, text } => self.message(id, &text),
            Event::Leave { id, reason } => self.leave(id, &reason),
            Event::Shutdown => self.shutdown(),
        }
    }

    /// The seed's `handle-new-connection`: pick a free `user-N`, tell the
    /// newcomer who they are and the others who arrived.
    pub fn join(
        &mut self,
        id: ClientId,
        peer: SocketAddr,
        outbox: Sender<Outgoing>,
        kick: Arc<Kick>,
    ) {
        if self.closing {
            let _ = outbox.try_send(Outgoing::Close(close::GOING_AWAY, "server shutting down"));
            return;
        }
        let Some(number) = self.free_number() else {
            // Every nickname is taken: only possible with --max-clients above
            // NICKNAME_SPACE. Refuse rather than hand out a duplicate.
            log::warn!("room: no free nickname for {peer}, closing it");
            let _ = outbox.try_send(Outgoing::Close(close::GOING_AWAY, "room is full"));
            return;
        };
        let nickname = protocol::nickname(number);
        log::info!("room: {nickname} joined from {peer}");
        // The newcomer's own line goes first, so its outbox cannot be full yet.
        let _ = outbox.try_send(Outgoing::Line(protocol::you_are(&nickname).into()));
        let joined: Utf8Bytes = protocol::has_joined(&nickname).into();
        self.send_to_all(&joined);
        self.taken.insert(number);
        self.members.insert(
            id,
            Member {
                nickname,
                number,
                peer,
                outbox,
                kick,
            },
        );
    }

    /// The seed's `broadcast-to-room`: `nick: message` to everyone, sender
    /// included. The line is formatted once and shared by every outbox.
    pub fn message(&mut self, id: ClientId, text: &str) {
        if self.closing {
            return;
        }
        let Some(member) = self.members.get(&id) else {
            return; // already dropped by the room; its last words go nowhere
        };
        log::debug!("room: {}: {text}", member.nickname);
        let line: Utf8Bytes = protocol::chat_line(&member.nickname, text).into();
        self.send_to_all(&line);
    }

    /// The seed's `handle-close-connection`: remove the member first, then
    /// tell everyone left. A second Leave for the same id does nothing, so the
    /// leave line goes out exactly once however the client went.
    pub fn leave(&mut self, id: ClientId, reason: &LeaveReason) {
        let Some(member) = self.remove(id) else {
            return;
        };
        log::info!("room: {} left ({}): {reason}", member.nickname, member.peer);
        if !self.closing {
            let left: Utf8Bytes = protocol::has_left(&member.nickname).into();
            self.send_to_all(&left);
        }
    }

    /// Close every client with 1001 and stop taking part.
    pub fn shutdown(&mut self) {
        self.closing = true;
        for member in self.members.values() {
            let bye = Outgoing::Close(close::GOING_AWAY, "server shutting down");
            if member.outbox.try_send(bye).is_err() {
                member.kick.kick(close::GOING_AWAY);
            }
        }
    }

    /// Put `line` in every member's outbox without ever blocking. A member
    /// whose outbox is full is too slow: it is dropped (its writer closes it
    /// with 1008) and the others are told it left, which may drop more.
    fn send_to_all(&mut self, line: &Utf8Bytes) {
        let mut lines = vec![line.clone()];
        while let Some(line) = lines.pop() {
            let mut slow = Vec::new();
            for (&id, member) in &self.members {
                match member.outbox.try_send(Outgoing::Line(line.clone())) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => slow.push(id),
                    // The writer is gone; the reader's Leave is on its way.
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
            for id in slow {
                if let Some(member) = self.remove(id) {
                    member.kick.kick(close::POLICY_VIOLATION);
                    log::info!(
                        "room: {} left ({}): outbox full, dropped",
                        member.nickname,
                        member.peer
                    );
                    lines.push(protocol::has_left(&member.nickname).into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox;
    use crossbeam_channel::Receiver;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40000))
    }

    /// Join a member with an outbox of `lines` entries; return its receiving end.
    fn join(room: &mut Room, id: ClientId, lines: usize) -> (Receiver<Outgoing>, Arc<Kick>) {
        let (tx, rx) = outbox::bounded(lines);
        let kick = Kick::new();
        room.join(id, peer(), tx, kick.clone());
        (rx, kick)
    }

    fn texts(rx: &Receiver<Outgoing>) -> Vec<String> {
        rx.try_iter()
            .map(|o| match o {
                Outgoing::Line(line) => line.as_str().to_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn nicknames_are_user_n_below_100000() {
        let mut room = Room::new();
        for id in 0..200 {
            let (rx, _) = join(&mut room, id, 1000);
            let nick = room.nickname(id).unwrap().to_owned();
            let n: u32 = nick.strip_prefix("user-").unwrap().parse().unwrap();
            assert!(n < NICKNAME_SPACE);
            assert_eq!(texts(&rx)[0], format!(" .... you are {nick}."));
        }
    }

    #[test]
    fn nicknames_are_unique_even_when_the_space_is_crowded() {
        let mut room = Room::new();
        // Fill all but 10 numbers by hand, then join 10: all must be distinct.
        room.taken = (0..NICKNAME_SPACE - 10).collect();
        let mut got = HashSet::new();
        for id in 0..10 {
            let _ = join(&mut room, id, 10);
            let nick = room.nickname(id).unwrap().to_owned();
            let n: u32 = nick.strip_prefix("user-").unwrap().parse().unwrap();
            assert!(n >= NICKNAME_SPACE - 10, "{nick} was taken");
            assert!(got.insert(n), "{nick} given twice");
        }
        // The space is now full: the next join is refused, not duplicated.
        let (rx, _) = join(&mut room, 99, 10);
        assert_eq!(room.len(), 10);
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Close(1001, _))));
    }

    #[test]
    fn join_message_leave_as_the_seed() {
        let mut room = Room::new();
        let (a, _) = join(&mut room, 1, 100);
        let (b, _) = join(&mut room, 2, 100);
        let nick_a = room.nickname(1).unwrap().to_owned();
        let nick_b = room.nickname(2).unwrap().to_owned();
        assert_eq!(
            texts(&a),
            [
                format!(" .... you are {nick_a}."),
                format!(" .... {nick_b} has joined.")
            ]
        );
        assert_eq!(texts(&b), [format!(" .... you are {nick_b}.")]);

        room.message(1, "hello");
        assert_eq!(texts(&a), [format!("{nick_a}: hello")]);
        assert_eq!(texts(&b), [format!("{nick_a}: hello")]);

        room.leave(1, &LeaveReason::Closed(Some(1000)));
        assert_eq!(texts(&b), [format!(" .... {nick_a} has left.")]);
        // Removed first: the leaver gets nothing more.
        assert!(texts(&a).is_empty());
        assert_eq!(room.nickname(1), None);
        // A second Leave (say, from a drop guard) is silent.
        room.leave(1, &LeaveReason::Dropped);
        assert!(texts(&b).is_empty());
    }

    #[test]
    fn full_outbox_drops_that_client_only() {
        let mut room = Room::new();
        let (slow, kick) = join(&mut room, 1, 3);
        let (fast, _) = join(&mut room, 2, 100);
        let slow_nick = room.nickname(1).unwrap().to_owned();
        let fast_nick = room.nickname(2).unwrap().to_owned();
        // slow holds "you are" and "has joined"; one more line fills it.
        room.message(2, "one");
        assert_eq!(kick.code(), None);
        room.message(2, "two");
        assert_eq!(kick.code(), Some(close::POLICY_VIOLATION));
        assert_eq!(room.len(), 1);
        assert_eq!(texts(&slow).len(), 3);
        assert_eq!(
            texts(&fast),
            [
                format!(" .... you are {fast_nick}."),
                format!("{fast_nick}: one"),
                format!("{fast_nick}: two"),
                format!(" .... {slow_nick} has left."),
            ]
        );
    }

    #[test]
    fn messages_from_unknown_clients_are_ignored() {
        let mut room = Room::new();
        let (a, _) = join(&mut room, 1, 10);
        let _ = texts(&a);
        room.message(7, "ghost");
        assert!(texts(&a).is_empty());
    }

    #[test]
    fn shutdown_says_going_away_and_stops_broadcasting() {
        let mut room = Room::new();
        let (a, _) = join(&mut room, 1, 10);
        let (b, kick_b) = join(&mut room, 2, 2);
        let _ = texts(&a);
        // b's outbox: "you are" only, one slot left; fill it so the close
        // cannot be queued and must go through the kick switch.
        b.try_recv().unwrap();
        room.message(1, "x");
        room.message(1, "y");
        room.shutdown();
        assert!(texts(&a).iter().any(|t| t.starts_with("Close(1001")));
        assert_eq!(kick_b.code(), Some(close::GOING_AWAY));
        room.leave(1, &LeaveReason::Shutdown);
        room.message(2, "late");
        assert!(texts(&b).iter().all(|t| !t.contains("late")));
        // Joins after shutdown are turned away.
        let (c, _) = join(&mut room, 3, 10);
        assert!(matches!(c.try_recv(), Ok(Outgoing::Close(1001, _))));
    }

    #[test]
    fn run_stops_when_senders_are_gone() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let room = std::thread::spawn(move || run(rx));
        let (out_tx, out_rx) = outbox::bounded(10);
        tx.send(Event::Join {
            id: 1,
            peer: peer(),
            outbox: out_tx,
            kick: Kick::new(),
        })
        .unwrap();
        drop(tx);
        room.join().unwrap();
        assert_eq!(texts(&out_rx).len(), 1);
    }
}
