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
