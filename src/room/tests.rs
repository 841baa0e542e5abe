//! The core's unit tests: a room driven by inputs and a fake clock, its
//! outputs checked. No sockets, no threads. Start here after the seed.

use super::*;
use crate::event::What;

/// A member handle for tests: just the member's name tag.
type H = &'static str;

fn core() -> Core<H> {
    Core::new(Settings::default(), 7)
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn main_room() -> Place {
    Place::from_target("/").expect("the main room")
}

/// Admit and join `id` into the main room at `now`.
fn join(core: &mut Core<H>, id: ClientId, tag: H, now: Time) {
    assert_eq!(core.admit(id, main_room(), now), Admission::Welcome);
    core.join(id, peer(), tag, now);
}

/// Every output so far, pending batches taken as `(room, events, targets)`.
fn drain(core: &mut Core<H>) -> Vec<Output<H>> {
    std::iter::from_fn(|| core.next_output()).collect()
}

#[test]
fn a_newcomer_is_greeted_and_the_others_hear_of_it() {
    let mut core = core();
    join(&mut core, 1, "ann", Time(1000));
    let out = drain(&mut core);
    let Some(Output::Send { to, events, .. }) =
        out.iter().find(|o| matches!(o, Output::Send { .. }))
    else {
        panic!("no greeting: {out:?}");
    };
    assert_eq!(*to, "ann");
    let nick = core.nickname(1).expect("joined").to_owned();
    assert!(matches!(&events[0].what, What::Welcome { nick: n, .. } if *n == nick));
    assert!(matches!(&events[1].what, What::Presence { count: 1, .. }));
    let batch = core.take_batch(&RoomName::main()).expect("the join line");
    assert!(matches!(&batch.events[0].what, What::Join { nick: n } if *n == nick));
    assert!(
        batch.targets.is_empty(),
        "the newcomer does not hear its own join"
    );
}

#[test]
fn a_dropped_member_with_a_session_is_kept_for_the_grace() {
    let mut core = core();
    let place = Place::from_target("/?session=aaaaaaaaaaaaaaaaaaaa").expect("place");
    core.admit(1, place, Time(1000));
    core.join(1, peer(), "ann", Time(1000));
    join(&mut core, 2, "bob", Time(1000));
    drain(&mut core);
    core.take_batch(&RoomName::main());
    core.leave(1, &LeaveReason::Aborted, Time(2000));
    let out = drain(&mut core);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Detach { id: 1, .. })),
        "{out:?}"
    );
    assert!(
        core.take_batch(&RoomName::main()).is_none(),
        "the others heard nothing"
    );
    assert_eq!(core.next_deadline(), Some(Time(32_000)));
    core.tick(Time(31_999));
    assert!(
        core.take_batch(&RoomName::main()).is_none(),
        "let go too early"
    );
    core.tick(Time(32_000));
    let batch = core.take_batch(&RoomName::main()).expect("the leave");
    assert!(matches!(&batch.events[0].what, What::Leave { .. }));
}

/// With `--redis`: a newcomer's name granted just before Redis is back
/// (the answer before the resync, its join already in the state read
/// then) is let in on the resync, not left waiting for a join line that
/// is dropped as old (found by `tests/redis_stall.rs`).
#[test]
fn a_newcomer_granted_before_the_resync_enters_with_it() {
    use crate::event::{Claim, RoomState};
    let settings = Settings {
        shared: true,
        ..Settings::default()
    };
    let mut core: Core<H> = Core::new(settings, 7);
    let now = Time(1000);
    assert_eq!(core.admit(1, main_room(), now), Admission::Welcome);
    let chat = |seq| RoomState {
        room: "chat".to_owned(),
        seq,
        ..RoomState::default()
    };
    core.opened(chat(0), now);
    core.join(1, peer(), "ann", now);
    let ticket = drain(&mut core)
        .into_iter()
        .find_map(|o| match o {
            Output::Claim {
                ticket,
                claim: ClaimOp::Join { .. },
                ..
            } => Some(ticket),
            _ => None,
        })
        .expect("a join claim");
    core.peers_lost(now);
    core.claimed("chat", ticket, Claim::Granted(5), now);
    assert_eq!(core.nickname(1), None, "waiting for its join line");
    core.peers_back(Some(vec![chat(5)]), now);
    assert!(core.nickname(1).is_some(), "let in on the resync");
    let out = drain(&mut core);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Send { to: "ann", events, .. }
                if matches!(events.first().map(|e| &e.what), Some(What::Welcome { .. })))),
        "greeted: {out:?}"
    );
}
