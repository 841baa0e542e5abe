//! Unit tests of the room logic, each member on a real loopback connection
//! whose far end the test reads.
use std::collections::HashSet;

use super::*;
use crate::frame;
use crate::protocol::{self, close, NICKNAME_SPACE};
use crate::test_support::{filler, pair, Peer};

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

/// Join a member whose outbox holds `lines`, on a real connection, and
/// read its greeting (history, ` .... you are`, presence); return the
/// client's end.
fn join(room: &mut Room, id: ClientId, lines: usize) -> (Peer, Outbox) {
    let (client, outbox, _) = join_with(room, id, lines, None);
    (client, outbox)
}

/// [`join`] with a session; also return the lines before ` .... you are`.
fn join_with(
    room: &mut Room,
    id: ClientId,
    lines: usize,
    session: Option<&str>,
) -> (Peer, Outbox, Vec<String>) {
    let (outbox, mut client) = pair(id, lines);
    let session = session.map(|s| SessionId::parse(s).unwrap());
    room.join(id, peer(), outbox.clone(), session);
    let you_are = protocol::you_are(&nick(room, id));
    let mut before = Vec::new();
    loop {
        let line = client.texts(1).remove(0);
        if line == you_are {
            break;
        }
        before.push(line);
    }
    let presence = client.texts(1).remove(0);
    assert_eq!(presence, room.members.presence());
    (client, outbox, before)
}

/// A room that sends every batch from two threads, however small.
fn on_two_threads() -> Room {
    Room {
        split_from: 2,
        ..Room::default()
    }
}

fn nick(room: &Room, id: ClientId) -> String {
    room.nickname(id).unwrap().to_owned()
}

#[test]
fn nicknames_are_user_n_below_100000() {
    let mut room = Room::default();
    for id in 0..200 {
        let (mut client, _) = join(&mut room, id, 1000);
        let nick = nick(&room, id);
        let n: u32 = nick.strip_prefix("user-").unwrap().parse().unwrap();
        assert!(n < NICKNAME_SPACE);
        client.assert_quiet();
    }
}

#[test]
fn nicknames_are_unique_even_when_the_space_is_crowded() {
    let mut room = Room::default();
    // Fill all but 10 numbers by hand, then join 10: all must be distinct.
    room.members.take_numbers(0..NICKNAME_SPACE - 10);
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
    let (outbox, mut refused) = pair(99, 10);
    room.join(99, peer(), outbox, None);
    assert_eq!(room.len(), 10);
    assert_eq!(refused.close_code(), close::GOING_AWAY);
}

#[test]
fn join_message_leave_as_the_seed() {
    join_message_leave(Room::default());
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
    assert_eq!(a.texts(1), [format!(" .... {nick_b} has joined.")]);
    b.assert_quiet();

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
    let mut room = Room::default();
    let (mut a, _) = join(&mut room, 1, 100);
    let nick_a = nick(&room, 1);
    room.message(1, "before");
    // B joins mid-batch: it must not get "before", and A gets it first.
    let (mut b, _, history) = join_with(&mut room, 2, 100, None);
    assert_eq!(history, [format!("{nick_a}: before")]);
    let nick_b = nick(&room, 2);
    room.message(2, "after");
    room.flush();
    assert_eq!(
        a.texts(3),
        [
            format!("{nick_a}: before"),
            format!(" .... {nick_b} has joined."),
            format!("{nick_b}: after"),
        ]
    );
    assert_eq!(b.texts(1), [format!("{nick_b}: after")]);
    a.assert_quiet();
    b.assert_quiet();
}

#[test]
fn a_crowd_arriving_in_one_batch_hears_of_those_after_it() {
    a_crowd_arriving(Room::default());
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
        let want: Vec<String> = nicks[i + 1..]
            .iter()
            .map(|n| format!(" .... {n} has joined."))
            .collect();
        assert_eq!(client.texts(want.len()), want);
        client.assert_quiet();
    }
}

#[test]
fn too_many_lines_waiting_drops_that_client_only_with_1008() {
    too_many_lines_waiting(Room::default());
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
        fast.texts(4),
        [
            format!("{fast_nick}: one"),
            format!("{fast_nick}: two"),
            format!("{fast_nick}: three"),
            format!(" .... {slow_nick} has left."),
        ]
    );
    // The slow client gets what its writer had started on, then 1008.
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
    let mut room = Room::default();
    let (mut a, _) = join(&mut room, 1, 10);
    room.message(7, "ghost");
    room.flush();
    a.assert_quiet();
}

#[test]
fn shutdown_sends_what_was_accepted_then_going_away() {
    let mut room = Room::default();
    let (mut a, _) = join(&mut room, 1, 10);
    let nick_a = nick(&room, 1);
    room.message(1, "last words");
    room.shutdown();
    assert_eq!(a.texts(1), [format!("{nick_a}: last words")]);
    assert_eq!(a.close_code(), close::GOING_AWAY);
    room.message(1, "late");
    room.leave(1, &LeaveReason::Shutdown);
    room.flush();
    a.assert_ended();
    // Joins after shutdown are turned away.
    let (outbox, mut c) = pair(3, 10);
    room.join(3, peer(), outbox, None);
    assert_eq!(c.close_code(), close::GOING_AWAY);
}

#[test]
fn run_stops_when_senders_are_gone() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let room = std::thread::spawn(move || run(rx, Settings::default(), None));
    let (outbox, mut client) = pair(1, 10);
    let (reply, answer) = crossbeam_channel::bounded(1);
    let place = Place::from_target("/maths").unwrap();
    tx.send(Event::Admit {
        id: 1,
        place,
        reply,
    })
    .unwrap();
    assert_eq!(answer.recv().unwrap(), Admission::Welcome);
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
    let lines = client.texts(3);
    assert!(
        lines[1].starts_with(" .... here now (1): user-"),
        "{lines:?}"
    );
    assert!(lines[2].ends_with(": hi"), "{lines:?}");
}

#[test]
fn a_resume_gets_the_lines_its_dead_connection_never_took() {
    let mut room = Room::default();
    let session = "abcdefghijklmnop-1";
    let (mut old, old_outbox, _) = join_with(&mut room, 1, 100, Some(session));
    let (mut other, _) = join(&mut room, 2, 100);
    let (nick_a, nick_b) = (nick(&room, 1), nick(&room, 2));
    room.flush();
    assert_eq!(old.texts(1), [format!(" .... {nick_b} has joined.")]);
    // A big frame the client does not read: what follows it waits in the
    // outbox's backlog, behind a writer.
    assert_eq!(old_outbox.send_lines(&filler(8 << 20), 0), Ok(()));
    room.message(2, "queued");
    room.flush();
    // The connection drops: the room cuts it and keeps what waited.
    room.leave(1, &LeaveReason::Aborted);
    // Away, it holds no connection (no file descriptor) any more.
    assert!(room.members.get(1).is_some_and(|m| m.outbox.is_none()));
    room.message(2, "while away");
    room.flush();
    assert_eq!(other.texts(2)[1], format!("{nick_b}: while away"));
    assert_eq!(room.len(), 2);
    drop(old);

    // Back with the same session: the same name, the missed lines in order.
    let (mut new, _, missed) = join_with(&mut room, 3, 100, Some(session));
    assert_eq!(nick(&room, 3), nick_a);
    assert_eq!(
        missed,
        [format!("{nick_b}: queued"), format!("{nick_b}: while away")]
    );
    // The others noticed nothing; live lines reach the new connection.
    room.message(2, "welcome back");
    room.flush();
    assert_eq!(other.texts(1), [format!("{nick_b}: welcome back")]);
    assert_eq!(new.texts(1), [format!("{nick_b}: welcome back")]);
    other.assert_quiet();
}

#[test]
fn an_away_member_that_misses_too_much_is_let_go() {
    let mut room = Room {
        settings: Settings {
            outbox_lines: 3,
            ..Settings::default()
        },
        ..Room::default()
    };
    let session = "abcdefghijklmnop-2";
    let (old, _, _) = join_with(&mut room, 1, 100, Some(session));
    let (mut other, _) = join(&mut room, 2, 100);
    let nick_a = nick(&room, 1);
    room.flush();
    room.leave(1, &LeaveReason::TimedOut);
    drop(old);
    for i in 0..4 {
        room.message(2, &format!("line {i}"));
        room.flush();
    }
    // The fourth line was one too many: A is gone, and the others are told.
    assert_eq!(room.len(), 1);
    let lines = other.texts(5);
    assert_eq!(lines[4], format!(" .... {nick_a} has left."));
    let (_new, _, missed) = join_with(&mut room, 3, 100, Some(session));
    assert_ne!(nick(&room, 3), nick_a);
    assert_eq!(missed.len(), 4, "the history, not a resume: {missed:?}");
}

#[test]
fn rooms_admit_up_to_the_cap_and_evict_the_least_recently_used_empty_one() {
    let mut rooms = Rooms::new(Settings {
        max_rooms: 2,
        ..Settings::default()
    });
    let admit = |rooms: &mut Rooms, id: ClientId, target: &str| {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let place = Place::from_target(target).unwrap();
        rooms.handle(Event::Admit { id, place, reply });
        answer.try_recv().unwrap()
    };
    assert_eq!(admit(&mut rooms, 1, "/a"), Admission::Welcome);
    assert_eq!(admit(&mut rooms, 2, "/b"), Admission::Welcome);
    // Admitted but not joined yet still holds the room.
    assert_eq!(admit(&mut rooms, 3, "/c"), Admission::NoRoom);
    rooms.handle(Event::Leave {
        id: 1,
        reason: LeaveReason::Aborted,
    });
    assert_eq!(admit(&mut rooms, 4, "/c"), Admission::Welcome);
    assert_eq!(rooms.len(), 2);
    assert!(rooms.room(&RoomName::parse("a").unwrap()).is_none());
    rooms.handle(Event::Shutdown);
    assert_eq!(admit(&mut rooms, 5, "/b"), Admission::Closing);
}
