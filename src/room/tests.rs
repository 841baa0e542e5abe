//! The core's unit tests: rooms driven by inputs and a fake clock, their
//! outputs checked. No sockets, no threads, no sleeps. Start here after
//! the seed.
//!
//! How to read them: a member's handle is its name tag (`"ann"`), time is
//! `Time(ms)` passed in with each input, and what members hear is rendered
//! as the plain text a client would see (`protocol::encode`). Two places
//! things come out: [`sent_to`] (lines for one member alone, in
//! `Output::Send`: greetings, refusals, private lines) and [`heard`] /
//! [`batch_texts`] (the room's pending batch, for everyone). The tests at
//! the end (`shared_...`) run with `--redis`: their inputs stand for the
//! answers Redis sends back.

use std::io::Cursor;

use super::*;
use crate::event::What;
use crate::protocol::{self, Format};
use crate::test_support::read_frame;

/// A member handle for tests: just the member's name tag.
type H = &'static str;

const T0: Time = Time(1_000);

fn core() -> Core<H> {
    core_with(Settings::default())
}

fn core_with(settings: Settings) -> Core<H> {
    Core::new(settings, 7)
}

fn shared() -> Settings {
    Settings {
        shared: true,
        ..Settings::default()
    }
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn main() -> RoomName {
    RoomName::main()
}

fn place(target: &str) -> Place {
    Place::from_target(target).expect("a room")
}

/// A session ID to resume with.
const SESSION: &str = "/?session=aaaaaaaaaaaaaaaaaaaa";

/// Admit `id` at `target` (`"/"`, `"/maths"`, `SESSION`) and join it; its
/// nickname, if it entered.
fn join_at(core: &mut Core<H>, id: ClientId, tag: H, target: &str, now: Time) -> String {
    assert_eq!(core.admit(id, place(target), now), Admission::Welcome);
    core.join(id, peer(), tag, now);
    core.nickname(id).unwrap_or_default().to_owned()
}

/// Admit and join `id` into the main room at `now`; its nickname.
fn join(core: &mut Core<H>, id: ClientId, tag: H, now: Time) -> String {
    join_at(core, id, tag, "/", now)
}

/// Every output so far.
fn drain(core: &mut Core<H>) -> Vec<Output<H>> {
    std::iter::from_fn(|| core.next_output()).collect()
}

/// Forget everything so far: outputs and pending batches.
fn settle(core: &mut Core<H>) {
    drain(core);
    for room in core.pending_rooms() {
        core.take_batch(&room);
    }
}

/// The text of one encoded frame.
fn frame_text(frame: &[u8]) -> String {
    let (_, payload) = read_frame(&mut Cursor::new(frame)).expect("a frame");
    String::from_utf8(payload).expect("text")
}

/// `event` as a plain-text client sees it.
fn text(event: &Event) -> String {
    let mut out = Vec::new();
    protocol::encode(event, Format::Text, false, &mut out);
    frame_text(&out)
}

/// `nick: text`, as an event.
fn chat(nick: &str, text: &str) -> Event {
    Event {
        id: 1,
        time: T0,
        what: What::Chat {
            nick: nick.into(),
            text: text.into(),
        },
    }
}

/// `event` encoded as the broadcaster hands it to an outbox.
fn frame(event: &Event) -> Bytes {
    crate::frame::encoded(|out| protocol::encode(event, Format::Text, false, out))
}

/// The lines an `Output::Send` carries, in the order they go out.
fn sent_texts(output: &Output<H>) -> Vec<String> {
    let Output::Send {
        frames,
        history,
        events,
        ..
    } = output
    else {
        return Vec::new();
    };
    let frames = frames.iter().map(|f| frame_text(f));
    frames
        .chain(history.iter().chain(events).map(|e| text(e)))
        .collect()
}

/// Every line sent to `tag` alone in `outputs`.
fn sent_to(outputs: &[Output<H>], tag: H) -> Vec<String> {
    outputs
        .iter()
        .filter(|o| matches!(o, Output::Send { to, .. } if *to == tag))
        .flat_map(sent_texts)
        .collect()
}

/// Take `room`'s pending batch: every line in it (none if there is none).
fn batch_texts(core: &mut Core<H>, room: &RoomName) -> Vec<String> {
    core.take_batch(room)
        .map(|batch| batch.events.iter().map(|e| text(e)).collect())
        .unwrap_or_default()
}

/// Take `room`'s pending batch: what each member hears of it, by tag.
fn heard(core: &mut Core<H>, room: &RoomName) -> Vec<(H, Vec<String>)> {
    let Some(batch) = core.take_batch(room) else {
        return Vec::new();
    };
    let mut heard: Vec<(H, Vec<String>)> = batch
        .targets
        .iter()
        .map(|t| {
            (
                *t.handle,
                batch.events[t.from..].iter().map(|e| text(e)).collect(),
            )
        })
        .collect();
    heard.sort();
    heard
}

/// The ticket and nickname of the one join claim in `outputs`.
fn join_claim(outputs: &[Output<H>]) -> (u64, String) {
    let claims: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Claim {
                ticket,
                claim: ClaimOp::Join { nick, .. },
                ..
            } => Some((*ticket, nick.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(claims.len(), 1, "{outputs:?}");
    claims[0].clone()
}

/// Admit `id` to the shared main room, open it (its state, empty, as Redis
/// sends it back) and join it; the outputs.
fn shared_join(core: &mut Core<H>, id: ClientId, tag: H) -> Vec<Output<H>> {
    assert_eq!(core.admit(id, place("/"), T0), Admission::Welcome);
    let state = RoomState {
        room: main().to_string(),
        ..RoomState::default()
    };
    core.opened(state, T0);
    core.join(id, peer(), tag, T0);
    drain(core)
}

/// An event back from Redis (the core's input for it).
fn back_from_redis(core: &mut Core<H>, envelope: Envelope) {
    core.peer_event(envelope, T0);
}

/// A join line as Redis hands it back.
fn join_envelope(seq: u64, nick: &str, mine: bool) -> Envelope {
    Envelope {
        room: main().to_string(),
        seq,
        mine,
        event: Event {
            id: 0,
            time: T0,
            what: What::Join { nick: nick.into() },
        },
    }
}

// ---- joining ------------------------------------------------------------

/// A newcomer gets the history, ` .... you are NICK.`, then who is here;
/// the others hear it joined, each from its own arrival on.
#[test]
fn a_newcomer_is_greeted_and_the_others_hear_of_it() {
    let mut core = core();
    let ann = join(&mut core, 1, "ann", T0);
    core.message(1, "hi", T0);
    settle(&mut core);

    let bob = join(&mut core, 2, "bob", T0);
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "bob"),
        [
            format!("{ann}: hi"),
            format!(" .... you are {bob}."),
            format!(" .... here now (2): {ann}, {bob}."),
        ]
    );
    let cat = join(&mut core, 3, "cat", T0);
    assert_eq!(
        heard(&mut core, &main()),
        [
            (
                "ann",
                vec![
                    format!(" .... {bob} has joined."),
                    format!(" .... {cat} has joined.")
                ]
            ),
            ("bob", vec![format!(" .... {cat} has joined.")]),
            // cat: not sent its own join line.
        ]
    );
}

// ---- chat -------------------------------------------------------------

/// `nick: text` goes to everyone, the sender included.
#[test]
fn a_chat_line_goes_to_everyone_sender_included() {
    let mut core = core();
    let ann = join(&mut core, 1, "ann", T0);
    join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.message(1, "hello", T0);
    let line = format!("{ann}: hello");
    assert_eq!(
        heard(&mut core, &main()),
        [("ann", vec![line.clone()]), ("bob", vec![line])]
    );
}

/// `/me waves` is `* nick waves`; `//who` is the chat line `/who`.
#[test]
fn me_is_an_action_and_a_double_slash_sends_one_slash() {
    let mut core = core();
    let ann = join(&mut core, 1, "ann", T0);
    settle(&mut core);
    core.message(1, "/me waves", T0);
    core.message(1, "//who", T0);
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!("* {ann} waves"), format!("{ann}: /who")]
    );
}

/// Every room event gets an id higher than the one before, whatever it is.
#[test]
fn room_event_ids_strictly_increase() {
    let mut core = core();
    join(&mut core, 1, "ann", T0);
    core.message(1, "one", T0);
    join(&mut core, 2, "bob", T0);
    let mut ids: Vec<u64> = Vec::new();
    let mut take = |core: &mut Core<H>| {
        let batch = core.take_batch(&main()).expect("a batch");
        ids.extend(batch.events.iter().map(|e| e.id));
    };
    take(&mut core);
    core.message(2, "/me waves", T0);
    core.message(1, "/nick ann", T0);
    core.leave(2, &LeaveReason::Closed(Some(1000)), T0);
    take(&mut core);
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

// ---- leaving ----------------------------------------------------------

/// ` .... NICK has left.` goes out once, however many leaves come in.
#[test]
fn a_leave_is_announced_exactly_once() {
    let mut core = core();
    join(&mut core, 1, "ann", T0);
    let bob = join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(2, &LeaveReason::Closed(Some(1000)), T0);
    core.leave(2, &LeaveReason::Aborted, T0);
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!(" .... {bob} has left.")]
    );
    core.leave(2, &LeaveReason::ReadFailed("reset".into()), T0);
    assert!(batch_texts(&mut core, &main()).is_empty());
}

/// A member without a session that drops leaves at once: no grace.
#[test]
fn a_drop_without_a_session_leaves_at_once() {
    let mut core = core();
    join(&mut core, 1, "ann", T0);
    let bob = join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(2, &LeaveReason::Aborted, T0);
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!(" .... {bob} has left.")]
    );
    assert_eq!(core.next_deadline(), None);
    assert!(!drain(&mut core)
        .iter()
        .any(|o| matches!(o, Output::Detach { .. })));
}

/// A member too slow to take its lines is dropped with 1008; the others
/// hear it left.
#[test]
fn a_member_too_slow_is_dropped() {
    let mut core = core();
    join(&mut core, 1, "ann", T0);
    let bob = join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.undelivered(2, Refused::Full, Vec::new(), 0, T0);
    let out = drain(&mut core);
    assert!(out.iter().any(|o| matches!(o, Output::DroppedTooSlow)));
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Abort {
                to: "bob",
                code: 1008,
                ..
            }
        )),
        "{out:?}"
    );
    assert_eq!(
        heard(&mut core, &main()),
        [("ann", vec![format!(" .... {bob} has left.")])]
    );
}

// ---- nicknames --------------------------------------------------------

/// Two members ask for one name (`Bob`, `bOB`) one input after the other:
/// the first gets it, the second is told it is taken.
#[test]
fn of_two_asking_for_one_name_exactly_one_gets_it() {
    let mut core = core();
    let ann = join(&mut core, 1, "ann", T0);
    join(&mut core, 2, "other", T0);
    settle(&mut core);
    core.message(1, "/nick Bob", T0);
    core.message(2, "/nick bOB", T0);
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "other"), [" .... bOB is taken."]);
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!(" .... {ann} is now Bob.")]
    );
    assert_eq!(core.nickname(1), Some("Bob"));
}

/// A name that breaks the rule (a server name, an empty one) is refused
/// with the rule.
#[test]
fn a_name_breaking_the_rule_is_refused_with_the_rule() {
    let mut core = core();
    let ann = join(&mut core, 1, "ann", T0);
    settle(&mut core);
    core.message(1, "/nick user-5", T0);
    core.message(1, "/nick", T0);
    let rule = format!(" .... {}", protocol::NICK_RULE);
    assert_eq!(sent_to(&drain(&mut core), "ann"), [rule.clone(), rule]);
    assert_eq!(core.nickname(1), Some(ann.as_str()));
    assert!(batch_texts(&mut core, &main()).is_empty());
}

// ---- resuming ---------------------------------------------------------

/// A member with a session that drops is away for the grace; the others
/// hear nothing until it ends, then that it left.
#[test]
fn a_dropped_member_with_a_session_is_kept_for_the_grace() {
    let mut core = core();
    join_at(&mut core, 1, "ann", SESSION, T0);
    join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(1, &LeaveReason::Aborted, Time(2_000));
    let out = drain(&mut core);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Detach { id: 1, to: "ann" })),
        "{out:?}"
    );
    assert!(batch_texts(&mut core, &main()).is_empty(), "heard too soon");
    assert_eq!(core.next_deadline(), Some(Time(32_000)));
    core.tick(Time(31_999));
    assert!(
        batch_texts(&mut core, &main()).is_empty(),
        "let go too early"
    );
    core.tick(Time(32_000));
    let ann = core.nickname(1).map(str::to_owned);
    assert_eq!(ann, None, "still here after the grace");
    assert_eq!(batch_texts(&mut core, &main()).len(), 1, "the leave");
    assert_eq!(core.next_deadline(), None);
}

/// Back within the grace: the same nickname, the lines missed (a private
/// one included), then who it is and who is here; the others see nothing.
#[test]
fn a_resume_within_the_grace_gets_what_it_missed() {
    let mut core = core();
    let ann = join_at(&mut core, 1, "ann", SESSION, T0);
    let bob = join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.message(2, "one", T0);
    settle(&mut core); // "one" reached ann's outbox, not her screen
    core.leave(1, &LeaveReason::Aborted, Time(2_000));
    drain(&mut core); // the Detach: the broadcaster hands back "one"
    let one = chat(&bob, "one");
    core.kept(1, vec![frame(&one)], 1, Time(2_000));
    core.message(2, "two", Time(3_000));
    core.message(2, &format!("/msg {ann} psst"), Time(3_000));
    settle(&mut core);

    let back = join_at(&mut core, 3, "ann again", SESSION, Time(4_000));
    assert_eq!(back, ann);
    assert_eq!(
        sent_to(&drain(&mut core), "ann again"),
        [
            text(&one),
            format!("{bob}: two"),
            format!("{bob} -> {ann}: psst"),
            format!(" .... you are {ann}."),
            format!(" .... here now (2): {ann}, {bob}."),
        ]
    );
    assert!(batch_texts(&mut core, &main()).is_empty(), "bob saw it");
    assert_eq!(core.next_deadline(), None);
}

/// After the grace, the session is just a newcomer's: a new name, and the
/// others hear it join.
#[test]
fn after_the_grace_a_session_joins_as_a_newcomer() {
    let mut core = core();
    join_at(&mut core, 1, "ann", SESSION, T0);
    join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(1, &LeaveReason::TimedOut, T0);
    core.tick(T0.plus(Settings::default().resume_grace));
    settle(&mut core);
    let again = join_at(&mut core, 3, "ann again", SESSION, Time(60_000));
    assert_eq!(
        heard(&mut core, &main()),
        [("bob", vec![format!(" .... {again} has joined.")])]
    );
}

// ---- history ----------------------------------------------------------

/// A room keeps its last `history_lines` chat and `/me` lines (not joins
/// or leaves); a newcomer gets them oldest first, flagged as history.
#[test]
fn a_newcomer_gets_the_last_lines_oldest_first() {
    let mut core = core_with(Settings {
        history_lines: 3,
        ..Settings::default()
    });
    let ann = join(&mut core, 1, "ann", T0);
    for line in ["a", "b", "/me c", "d"] {
        core.message(1, line, T0);
    }
    settle(&mut core);
    join(&mut core, 2, "bob", T0);
    let out = drain(&mut core);
    let Some(Output::Send { history, .. }) = out.iter().find(|o| matches!(o, Output::Send { .. }))
    else {
        panic!("no greeting: {out:?}");
    };
    let lines: Vec<String> = history.iter().map(|e| text(e)).collect();
    assert_eq!(
        lines,
        [
            format!("{ann}: b"),
            format!("* {ann} c"),
            format!("{ann}: d")
        ]
    );
}

// ---- presence ---------------------------------------------------------

/// In a room of 60, the plain presence line names the first 50 to arrive,
/// then `, and 10 more.`
#[test]
fn presence_names_fifty_then_counts_the_rest() {
    let mut core = core();
    let mut nicks: Vec<String> = (1..60)
        .map(|id| join(&mut core, id, "someone", T0))
        .collect();
    settle(&mut core);
    nicks.push(join(&mut core, 60, "last", T0));
    let out = drain(&mut core);
    let greeting = sent_to(&out, "last");
    let expected = format!(
        " .... here now (60): {}, and 10 more.",
        nicks[..50].join(", ")
    );
    assert_eq!(greeting.last(), Some(&expected));
}

// ---- rooms ------------------------------------------------------------

/// With `max_rooms: 2`, a third room evicts the empty room used least
/// recently (not the oldest), with its history; the other keeps its own.
#[test]
fn a_third_room_evicts_the_least_recently_used_empty_room() {
    let mut core = core_with(Settings {
        max_rooms: 2,
        ..Settings::default()
    });
    join_at(&mut core, 1, "ann", "/a", T0);
    join_at(&mut core, 2, "bob", "/b", T0);
    core.message(2, "in b", T0);
    core.leave(2, &LeaveReason::Closed(None), T0);
    core.message(1, "in a", T0); // /a used last
    core.leave(1, &LeaveReason::Closed(None), T0);
    settle(&mut core);
    join_at(&mut core, 3, "cat", "/c", T0); // evicts /b
    join_at(&mut core, 4, "dan", "/a", T0);
    let out = drain(&mut core);
    let greeting = sent_to(&out, "dan");
    assert_eq!(greeting.len(), 3, "{greeting:?}");
    assert!(greeting[0].ends_with(": in a"), "{greeting:?}");
    assert_eq!(core.sizes().0, 2);
}

/// When every room slot is held by a room in use, no room is made; after
/// `shutdown`, no one is let in at all.
#[test]
fn no_room_when_every_room_is_in_use_and_none_after_shutdown() {
    let mut core = core_with(Settings {
        max_rooms: 2,
        ..Settings::default()
    });
    join_at(&mut core, 1, "ann", "/a", T0);
    assert_eq!(core.admit(2, place("/b"), T0), Admission::Welcome); // admitted counts
    assert_eq!(core.admit(3, place("/c"), T0), Admission::NoRoom);
    core.shutdown(T0);
    assert_eq!(core.admit(4, place("/a"), T0), Admission::Closing);
    let out = drain(&mut core);
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Close {
                to: "ann",
                code: 1001,
                ..
            }
        )),
        "{out:?}"
    );
}

// ---- shared rooms (`--redis`) -----------------------------------------

/// A newcomer's name is claimed first; it enters when the claim is granted
/// and its own join comes back, in that order.
#[test]
fn shared_a_newcomer_enters_when_granted_then_its_join_is_back() {
    let mut core = core_with(shared());
    let out = shared_join(&mut core, 1, "ann");
    let first = out.iter().find(|o| !matches!(o, Output::Log(..)));
    assert!(matches!(first, Some(Output::Open(room)) if *room == main()));
    let (ticket, nick) = join_claim(&out);
    core.claimed(main().as_str(), ticket, Claim::Granted(5), T0);
    assert_eq!(core.nickname(1), None, "in before its join came back");
    assert!(sent_to(&drain(&mut core), "ann").is_empty());
    back_from_redis(&mut core, join_envelope(5, &nick, true));
    assert_eq!(core.nickname(1), Some(nick.as_str()));
    let greeting = sent_to(&drain(&mut core), "ann");
    assert_eq!(greeting[0], format!(" .... you are {nick}."));
}

/// The newcomer's join may come back before the claim's answer: it enters
/// then, and the late answer changes nothing.
#[test]
fn shared_a_newcomer_enters_when_its_join_is_back_before_the_answer() {
    let mut core = core_with(shared());
    let (ticket, nick) = join_claim(&shared_join(&mut core, 1, "ann"));
    back_from_redis(&mut core, join_envelope(5, &nick, true));
    assert_eq!(core.nickname(1), Some(nick.as_str()));
    assert_eq!(sent_to(&drain(&mut core), "ann").len(), 2, "greeted");
    core.claimed(main().as_str(), ticket, Claim::Granted(5), T0);
    assert!(
        sent_to(&drain(&mut core), "ann").is_empty(),
        "greeted twice"
    );
    assert_eq!(core.nickname(1), Some(nick.as_str()));
}

/// With Redis away (`Claim::Offline`), the newcomer enters locally.
#[test]
fn shared_offline_lets_the_newcomer_in_locally() {
    let mut core = core_with(shared());
    let (ticket, nick) = join_claim(&shared_join(&mut core, 1, "ann"));
    core.claimed(main().as_str(), ticket, Claim::Offline, T0);
    assert_eq!(core.nickname(1), Some(nick.as_str()));
    assert_eq!(
        sent_to(&drain(&mut core), "ann"),
        [
            format!(" .... you are {nick}."),
            format!(" .... here now (1): {nick}.")
        ]
    );
}

/// A member of a shared room, let in locally.
fn shared_member(core: &mut Core<H>) -> String {
    let (ticket, nick) = join_claim(&shared_join(core, 1, "ann"));
    core.claimed(main().as_str(), ticket, Claim::Offline, T0);
    settle(core);
    nick
}

/// A chat line is published, and announced only when it comes back, with
/// Redis's sequence number as its id.
#[test]
fn shared_a_chat_line_is_announced_when_it_comes_back() {
    let mut core = core_with(shared());
    let ann = shared_member(&mut core);
    core.message(1, "hi", T0);
    let out = drain(&mut core);
    let Some(Output::Publish { event, .. }) = out.into_iter().next() else {
        panic!("not published");
    };
    assert!(
        batch_texts(&mut core, &main()).is_empty(),
        "announced early"
    );
    back_from_redis(
        &mut core,
        Envelope {
            room: main().to_string(),
            seq: 9,
            mine: true,
            event,
        },
    );
    let batch = core.take_batch(&main()).expect("announced");
    assert_eq!(batch.events.len(), 1);
    assert_eq!(batch.events[0].id, 9);
    assert_eq!(text(&batch.events[0]), format!("{ann}: hi"));
}

/// A line that could not be published is announced here.
#[test]
fn shared_an_unsent_line_is_announced_locally() {
    let mut core = core_with(shared());
    let ann = shared_member(&mut core);
    core.message(1, "hi", T0);
    let Some(Output::Publish { event, .. }) = drain(&mut core).into_iter().next() else {
        panic!("not published");
    };
    core.unsent(main().as_str(), event, T0);
    assert_eq!(batch_texts(&mut core, &main()), [format!("{ann}: hi")]);
}

/// A teacher's rule given on another instance holds here as it comes
/// back: a mute silences a member here, a removal removes it (its notice,
/// then close 1008), each announced with Redis's order.
#[test]
fn shared_a_rule_from_another_instance_holds_here() {
    let mut core = core_with(shared());
    let ann = shared_member(&mut core);
    let from_b = |seq, what| Envelope {
        room: main().to_string(),
        seq,
        mine: false,
        event: Event {
            id: 0,
            time: T0,
            what,
        },
    };
    let muted = What::Muted {
        nick: ann.clone(),
        by: "MrsK".into(),
        minutes: 5,
    };
    back_from_redis(&mut core, from_b(5, muted));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!(" .... {ann} was muted by MrsK.")]
    );
    core.message(1, "hi", T0);
    let out = drain(&mut core);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Publish { .. })),
        "{out:?}"
    );
    assert_eq!(sent_to(&out, "ann"), [" .... you are muted (5 min left)."]);
    let removed = What::Removed {
        nick: ann.clone(),
        by: "MrsK".into(),
        barred: false,
        minutes: 0,
    };
    back_from_redis(&mut core, from_b(6, removed));
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "ann"), [" .... you were removed by MrsK."]);
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Close {
                to: "ann",
                code: 1008,
                reason: "removed"
            }
        )),
        "{out:?}"
    );
}

/// Losing Redis is told to the room, once.
#[test]
fn shared_losing_the_peers_is_told_to_the_room() {
    let mut core = core_with(shared());
    shared_member(&mut core);
    core.peers_lost(T0);
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... the server is reconnecting to its peers."]
    );
}

/// With `--redis`: a newcomer's name granted just before Redis is back
/// (the answer before the resync, its join already in the state read
/// then) is let in on the resync, not left waiting for a join line that
/// is dropped as old (found by the Redis stall test).
#[test]
fn a_newcomer_granted_before_the_resync_enters_with_it() {
    use crate::event::{Claim, RoomState};
    let settings = Settings {
        shared: true,
        ..Settings::default()
    };
    let mut core: Core<H> = Core::new(settings, 7);
    let now = Time(1000);
    assert_eq!(core.admit(1, place("/"), now), Admission::Welcome);
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

/// A close with 1001 (a browser's page going: a reload) from a member with
/// a session is a drop: it is kept for the grace and the others hear
/// nothing; a close with 1000 (a "Leave" button) leaves at once.
#[test]
fn a_reload_is_not_a_goodbye_but_leave_is() {
    let mut core = core();
    join_at(&mut core, 1, "ann", SESSION, T0);
    join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(1, &LeaveReason::Closed(Some(1001)), Time(2_000));
    assert!(
        batch_texts(&mut core, &main()).is_empty(),
        "a reload was heard"
    );
    assert!(core.nickname(1).is_some(), "kept for its resume");

    let mut core = self::core();
    join_at(&mut core, 1, "ann", SESSION, T0);
    join(&mut core, 2, "bob", T0);
    settle(&mut core);
    core.leave(1, &LeaveReason::Closed(Some(1000)), Time(2_000));
    assert_eq!(batch_texts(&mut core, &main()).len(), 1, "the leave");
    assert_eq!(core.nickname(1), None);
}

/// A teacher's commands, the lobby and the rules (`teacher.rs`, `lobby.rs`,
/// `moderation.rs`).
mod teacher;
