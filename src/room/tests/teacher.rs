//! A teacher's commands, the door and the lobby, and the room's rules, with
//! the fake clock: what the teacher, the student and the room hear.

use super::*;

const KEY: &str = "correct-horse-battery";

fn class() -> Core<H> {
    class_with(Settings::default())
}

fn class_with(settings: Settings) -> Core<H> {
    let mut core = core_with(settings);
    core.set_teacher_key(KEY.to_owned());
    core
}

const MIN: u64 = 60_000;

/// `text` from `id` at `now`: what `tag` alone was sent, and the room's
/// batch.
fn say(
    core: &mut Core<H>,
    id: ClientId,
    tag: H,
    text: &str,
    now: Time,
) -> (Vec<String>, Vec<String>) {
    core.message(id, text, now);
    let alone = sent_to(&drain(core), tag);
    (alone, batch_texts(core, &main()))
}

/// A class: MrsK (1, a teacher by the key), alice (2) and bob (3).
fn mrs_k_alice_bob() -> Core<H> {
    let mut core = class();
    join(&mut core, 1, "mrsk", T0);
    core.message(1, "/nick MrsK", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    join(&mut core, 2, "alice", T0);
    core.message(2, "/nick alice", T0);
    join(&mut core, 3, "bob", T0);
    core.message(3, "/nick bob", T0);
    settle(&mut core);
    core
}

fn outputs_close(outputs: &[Output<H>], tag: H) -> Option<(u16, &'static str)> {
    outputs.iter().find_map(|o| match o {
        Output::Close { to, code, reason } if *to == tag => Some((*code, *reason)),
        _ => None,
    })
}

#[test]
fn the_key_makes_a_teacher_and_the_room_hears_it() {
    let mut core = class();
    join(&mut core, 1, "mrsk", T0);
    core.message(1, "/nick MrsK", T0);
    settle(&mut core);
    // Both lines, in this order, for the teacher too: the room line is
    // sent to it with its own, and its part of the batch starts after it.
    let (alone, room) = say(&mut core, 1, "mrsk", &format!("/teacher {KEY}"), T0);
    assert_eq!(
        alone,
        [" .... you are a teacher.", " .... MrsK is a teacher here."]
    );
    assert_eq!(room, [" .... MrsK is a teacher here."]);
    let (alone, _) = say(&mut core, 1, "mrsk", "/who", T0);
    assert_eq!(alone, [" .... here now (1): @MrsK."]);
}

#[test]
fn the_key_line_is_never_logged_and_five_wrong_keys_close() {
    let mut core = class();
    join(&mut core, 1, "eve", T0);
    settle(&mut core);
    for _ in 0..4 {
        let (alone, room) = say(&mut core, 1, "eve", "/teacher guess-guess-guess", T0);
        assert_eq!(alone, [" .... wrong key."]);
        assert!(room.is_empty());
    }
    core.message(1, "/TEACHER guess-guess-guess", T0);
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "eve"), [" .... wrong key."]);
    assert_eq!(
        outputs_close(&out, "eve"),
        Some((1008, "too many wrong keys"))
    );
    for o in &out {
        if let Output::Log(_, line) = o {
            assert!(!line.contains("guess"), "{line}");
        }
    }
    // A right key is never in the log either.
    let mut core = class();
    join(&mut core, 1, "t", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    for o in drain(&mut core) {
        if let Output::Log(_, line) = o {
            assert!(!line.contains(KEY), "{line}");
        }
    }
}

#[test]
fn students_are_refused_teacher_commands_and_usage_is_shown() {
    let mut core = mrs_k_alice_bob();
    for (cmd, word) in [("/kick bob", "kick"), ("/lock", "lock"), ("/PIN hi", "pin")] {
        let (alone, room) = say(&mut core, 2, "alice", cmd, T0);
        assert_eq!(alone, [format!(" .... /{word} is for teachers.")]);
        assert!(room.is_empty());
    }
    for (cmd, usage) in [
        ("/mute", " .... usage: /mute NICK [MINUTES]."),
        ("/mute bob soon", " .... usage: /mute NICK [MINUTES]."),
        ("/ban bob -1", " .... usage: /ban NICK [MINUTES]."),
        ("/slow 9999", " .... usage: /slow SECONDS (1-600, 0: off)."),
        ("/delete x", " .... usage: /delete ID."),
        ("/kick", " .... usage: /kick NICK."),
    ] {
        let (alone, room) = say(&mut core, 1, "mrsk", cmd, T0);
        assert_eq!(alone, [usage], "{cmd}");
        assert!(room.is_empty());
    }
    let (alone, _) = say(&mut core, 1, "mrsk", "/kick nobody", T0);
    assert_eq!(alone, [" .... no nobody here."]);
    let (alone, _) = say(&mut core, 1, "mrsk", "/help", T0);
    assert!(alone.iter().any(|l| l.contains("/kick NICK")));
    let (alone, _) = say(&mut core, 2, "alice", "/help", T0);
    assert!(!alone.iter().any(|l| l.contains("/kick")));
}

#[test]
fn op_and_deop() {
    let mut core = mrs_k_alice_bob();
    let (_, room) = say(&mut core, 1, "mrsk", "/op alice", T0);
    assert_eq!(room, [" .... alice is a teacher here."]);
    let (alone, _) = say(&mut core, 3, "bob", "/who", T0);
    assert_eq!(alone, [" .... here now (3): @MrsK, @alice, bob."]);
    let (_, room) = say(&mut core, 2, "alice", "/quiet", T0);
    assert_eq!(room, [" .... only teachers can speak now."]);
    let (_, room) = say(&mut core, 1, "mrsk", "/deop alice", T0);
    assert_eq!(room, [" .... alice is no longer a teacher here."]);
    let (alone, _) = say(&mut core, 2, "alice", "/quiet off", T0);
    assert_eq!(alone, [" .... /quiet is for teachers."]);
}

#[test]
fn a_join_code_keeps_newcomers_in_the_lobby() {
    let mut core = mrs_k_alice_bob();
    core.message(1, "/code", T0);
    let out = drain(&mut core);
    let line = sent_to(&out, "mrsk");
    let code = line[0]
        .strip_prefix(" .... join code: ")
        .and_then(|c| c.strip_suffix('.'))
        .expect("a code")
        .to_owned();
    assert_eq!(code.len(), 6);
    assert!(sent_to(&out, "alice").is_empty(), "students do not see it");
    // A newcomer waits: no join line, not in presence.
    assert_eq!(join(&mut core, 4, "dan", T0), "");
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "dan"),
        [" .... this room needs a join code: type /code CODE."]
    );
    assert!(batch_texts(&mut core, &main()).is_empty());
    let (alone, room) = say(&mut core, 4, "dan", "hello?", T0);
    assert_eq!(
        alone,
        [" .... this room needs a join code: type /code CODE."]
    );
    assert!(room.is_empty());
    let (alone, _) = say(&mut core, 4, "dan", "/code AAAAAA", T0);
    assert_eq!(alone, [" .... wrong code."]);
    core.message(4, &format!("/code {}", code.to_lowercase()), T0);
    let out = drain(&mut core);
    let greeting = sent_to(&out, "dan");
    let nick = core.nickname(4).expect("in").to_owned();
    assert_eq!(greeting[0], format!(" .... you are {nick}."));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [format!(" .... {nick} has joined.")]
    );
    // ?code= admits at once; five wrong codes close.
    assert_ne!(
        join_at(&mut core, 5, "eve", &format!("/?code={code}"), T0),
        ""
    );
    settle(&mut core);
    join(&mut core, 6, "mallory", T0);
    settle(&mut core);
    for _ in 0..4 {
        core.message(6, "/code ZZZZZZ", T0);
    }
    settle(&mut core);
    core.message(6, "/code ZZZZZZ", T0);
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "mallory"), [" .... wrong code."]);
    assert_eq!(outputs_close(&out, "mallory").map(|c| c.0), Some(1008));
    // /code off: teachers hear it; newcomers come straight in.
    let (alone, _) = say(&mut core, 1, "mrsk", "/code off", T0);
    assert_eq!(alone, [" .... no join code."]);
    assert_ne!(join(&mut core, 7, "fay", T0), "");
}

#[test]
fn a_teacher_comes_in_through_the_lobby() {
    let mut core = mrs_k_alice_bob();
    core.message(1, "/code", T0);
    settle(&mut core);
    join(&mut core, 4, "mr-t", T0);
    settle(&mut core);
    core.message(4, &format!("/teacher {KEY}"), T0);
    let out = drain(&mut core);
    let lines = sent_to(&out, "mr-t");
    let nick = core.nickname(4).expect("in").to_owned();
    assert!(
        lines.contains(&" .... you are a teacher.".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(&format!("@{nick}"))),
        "{lines:?}"
    );
    assert_eq!(
        batch_texts(&mut core, &main()),
        [
            format!(" .... {nick} has joined."),
            format!(" .... {nick} is a teacher here.")
        ]
    );
}

#[test]
fn a_locked_room_turns_newcomers_away_but_a_resume_comes_back() {
    let mut core = class();
    join(&mut core, 1, "mrsk", T0);
    core.message(1, "/nick MrsK", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    let nick = join_at(&mut core, 2, "ann", SESSION, T0);
    settle(&mut core);
    let (_, room) = say(&mut core, 1, "mrsk", "/lock", T0);
    assert_eq!(room, [" .... MrsK locked the room."]);
    core.leave(2, &LeaveReason::Aborted, T0);
    settle(&mut core);
    assert_eq!(join(&mut core, 3, "newbie", T0), "");
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "newbie"), [" .... this room is locked."]);
    assert_eq!(outputs_close(&out, "newbie"), Some((1008, "locked")));
    core.leave(3, &LeaveReason::Closed(Some(1008)), T0);
    assert_eq!(join_at(&mut core, 4, "ann2", SESSION, T0), nick);
    settle(&mut core);
    let (_, room) = say(&mut core, 1, "mrsk", "/unlock", T0);
    assert_eq!(room, [" .... MrsK unlocked the room."]);
}

#[test]
fn kick_removes_and_the_session_is_dead() {
    let mut core = class();
    join(&mut core, 1, "mrsk", T0);
    core.message(1, "/nick MrsK", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    join_at(&mut core, 2, "bob", SESSION, T0);
    core.message(2, "/nick bob", T0);
    settle(&mut core);
    core.message(1, "/kick BOB", T0);
    let out = drain(&mut core);
    assert_eq!(sent_to(&out, "bob"), [" .... you were removed by MrsK."]);
    assert_eq!(outputs_close(&out, "bob"), Some((1008, "removed")));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... bob was removed by MrsK."]
    );
    core.leave(2, &LeaveReason::Aborted, T0);
    assert!(drain(&mut core)
        .iter()
        .all(|o| !matches!(o, Output::Send { .. })));
    let again = join_at(&mut core, 3, "bob2", SESSION, T0);
    assert!(again.starts_with("user-"), "{again}");
}

#[test]
fn ban_bars_the_session_and_the_address_until_it_ends() {
    let mut core = class();
    join(&mut core, 1, "mrsk", T0);
    core.message(1, "/nick MrsK", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    let far = SocketAddr::from(([10, 0, 0, 9], 5000));
    assert_eq!(core.admit(2, place(SESSION), T0), Admission::Welcome);
    core.join(2, far, "bob", T0);
    core.message(2, "/nick bob", T0);
    settle(&mut core);
    core.message(1, "/ban bob 5", T0);
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "bob"),
        [" .... you are barred from this room by MrsK."]
    );
    assert_eq!(outputs_close(&out, "bob"), Some((1008, "barred")));
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Keep { key, expires: Some(_), .. } if key == "bar:bob")));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... bob was barred by MrsK."]
    );
    // By session (from another address), and by address however written.
    assert_eq!(join_at(&mut core, 3, "bob-s", SESSION, T0), "");
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "bob-s"),
        [" .... you are barred from this room."]
    );
    assert_eq!(outputs_close(&out, "bob-s"), Some((1008, "barred")));
    let mapped: SocketAddr = "[::ffff:10.0.0.9]:6000".parse().unwrap();
    assert_eq!(core.admit(4, place("/"), T0), Admission::Welcome);
    core.join(4, mapped, "bob-a", T0);
    assert_eq!(
        sent_to(&drain(&mut core), "bob-a"),
        [" .... you are barred from this room."]
    );
    let (alone, _) = say(&mut core, 1, "mrsk", "/bans", T0);
    assert_eq!(alone, [" .... barred: bob (10.0.0.9, 5 min left)."]);
    // Five minutes on, the bar is over.
    let later = Time(T0.0 + 5 * MIN);
    assert!(core.next_deadline().is_some_and(|at| at <= later));
    core.tick(later);
    settle(&mut core);
    assert_eq!(core.admit(5, place("/"), later), Admission::Welcome);
    core.join(5, far, "bob-later", later);
    assert!(core.nickname(5).is_some());
    settle(&mut core);
    let (alone, _) = say(&mut core, 1, "mrsk", "/bans", later);
    assert_eq!(alone, [" .... nobody is barred."]);
}

#[test]
fn unban_lets_them_back() {
    let mut core = mrs_k_alice_bob();
    core.message(1, "/ban bob", T0);
    settle(&mut core);
    let (alone, _) = say(&mut core, 1, "mrsk", "/unban bob", T0);
    assert_eq!(alone, [" .... bob may come back."]);
    assert_ne!(join(&mut core, 4, "bob2", T0), "");
}

#[test]
fn mute_silences_until_it_runs_out() {
    let mut core = mrs_k_alice_bob();
    let (_, room) = say(&mut core, 1, "mrsk", "/mute bob 2", T0);
    assert_eq!(room, [" .... bob was muted by MrsK."]);
    for line in ["hi", "/me waves", "/msg alice psst"] {
        let (alone, room) = say(&mut core, 3, "bob", line, Time(T0.0 + 30_000));
        assert_eq!(alone, [" .... you are muted (2 min left)."], "{line}");
        assert!(room.is_empty());
    }
    core.tick(Time(T0.0 + 2 * MIN));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... bob can speak again."]
    );
    let (_, room) = say(&mut core, 3, "bob", "back", Time(T0.0 + 2 * MIN));
    assert_eq!(room, ["bob: back"]);
    core.message(1, "/mute bob", T0);
    settle(&mut core);
    let (_, room) = say(&mut core, 1, "mrsk", "/unmute bob", T0);
    assert_eq!(room, [" .... bob can speak again."]);
}

#[test]
fn quiet_and_slow_mode_spare_teachers() {
    let mut core = mrs_k_alice_bob();
    let (_, room) = say(&mut core, 1, "mrsk", "/quiet", T0);
    assert_eq!(room, [" .... only teachers can speak now."]);
    let (alone, room) = say(&mut core, 2, "alice", "hi", T0);
    assert_eq!(alone, [" .... only teachers can speak now."]);
    assert!(room.is_empty());
    let (_, room) = say(&mut core, 1, "mrsk", "listen", T0);
    assert_eq!(room, ["MrsK: listen"]);
    let (_, room) = say(&mut core, 1, "mrsk", "/quiet off", T0);
    assert_eq!(room, [" .... everyone can speak again."]);
    let (_, room) = say(&mut core, 1, "mrsk", "/slow 30", T0);
    assert_eq!(room, [" .... slow mode: one line every 30 s."]);
    let (_, room) = say(&mut core, 2, "alice", "one", T0);
    assert_eq!(room, ["alice: one"]);
    let (alone, room) = say(&mut core, 2, "alice", "two", Time(T0.0 + 10_500));
    assert_eq!(alone, [" .... slow mode: wait 20 s."]);
    assert!(room.is_empty());
    let (_, room) = say(&mut core, 2, "alice", "three", Time(T0.0 + 30_000));
    assert_eq!(room, ["alice: three"]);
    let (_, room) = say(&mut core, 1, "mrsk", "a", T0);
    let (_, room2) = say(&mut core, 1, "mrsk", "b", T0);
    assert_eq!((room.len(), room2.len()), (1, 1));
    let (_, room) = say(&mut core, 1, "mrsk", "/slow 0", T0);
    assert_eq!(room, [" .... slow mode is off."]);
}

#[test]
fn delete_purge_and_clear_leave_the_history_and_the_store() {
    let mut core = mrs_k_alice_bob();
    core.message(2, "first", T0);
    core.message(3, "rude", T0);
    core.message(3, "ruder", T0);
    let ids: Vec<u64> = core
        .take_batch(&main())
        .map(|b| b.events.iter().map(|e| e.id).collect())
        .unwrap_or_default();
    settle(&mut core);
    core.message(1, &format!("/delete {}", ids[1]), T0);
    let out = drain(&mut core);
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Forget { ids: f, .. } if f == &[ids[1]])));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... MrsK removed a line by bob."]
    );
    let (alone, _) = say(&mut core, 1, "mrsk", &format!("/delete {}", ids[1]), T0);
    assert_eq!(alone, [" .... nothing to remove."]);
    let (_, room) = say(&mut core, 1, "mrsk", "/purge BOB", T0);
    assert_eq!(room, [" .... MrsK removed bob's lines."]);
    join(&mut core, 4, "dan", T0);
    let history = sent_to(&drain(&mut core), "dan");
    assert_eq!(history[0], "alice: first");
    assert!(!history.iter().any(|l| l.starts_with("bob:")));
    settle(&mut core);
    core.message(1, "/clear", T0);
    let out = drain(&mut core);
    assert!(out.iter().any(|o| matches!(o, Output::ClearKept(_))));
    assert_eq!(
        batch_texts(&mut core, &main()),
        [" .... MrsK cleared the history."]
    );
    join(&mut core, 5, "eve", T0);
    let lines = sent_to(&drain(&mut core), "eve");
    assert!(lines[0].starts_with(" .... you are "), "{lines:?}");
}

#[test]
fn a_pin_greets_newcomers() {
    let mut core = mrs_k_alice_bob();
    let (_, room) = say(&mut core, 1, "mrsk", "/pin read page 4", T0);
    assert_eq!(room, [" .... pinned by MrsK: read page 4"]);
    join(&mut core, 4, "dan", T0);
    let lines = sent_to(&drain(&mut core), "dan");
    let at = lines
        .iter()
        .position(|l| l.starts_with(" .... here now"))
        .unwrap();
    assert_eq!(lines[at + 1], " .... pinned by MrsK: read page 4");
    settle(&mut core);
    let (_, room) = say(&mut core, 1, "mrsk", "/pin off", T0);
    assert_eq!(room, [" .... MrsK unpinned the message."]);
    join(&mut core, 5, "eve", T0);
    let lines = sent_to(&drain(&mut core), "eve");
    assert!(lines.last().unwrap().starts_with(" .... here now"));
}

#[test]
fn rename_and_names_that_pass_for_others() {
    let mut core = mrs_k_alice_bob();
    let (_, room) = say(&mut core, 1, "mrsk", "/rename bob robert", T0);
    assert_eq!(room, [" .... bob is now robert."]);
    let (alone, _) = say(&mut core, 1, "mrsk", "/rename robert \u{430}lice", T0);
    assert_eq!(alone, [" .... \u{430}lice is taken."]);
    let (alone, _) = say(&mut core, 3, "bob", "/nick Mrs\u{39A}", T0);
    assert_eq!(alone, [" .... Mrs\u{39A} is taken."]);
    let (alone, _) = say(&mut core, 3, "bob", "/nick us\u{435}r-12", T0);
    assert_eq!(alone, [" .... us\u{435}r-12 is taken."]);
    let (alone, _) = say(&mut core, 3, "bob", "/nick bo\u{3164}b", T0);
    assert_eq!(alone, [format!(" .... {}", protocol::NICK_RULE)]);
}

#[test]
fn rooms_wait_for_a_teacher_with_rooms_teachers() {
    let mut core = class_with(Settings {
        teachers_open_rooms: true,
        ..Settings::default()
    });
    assert_ne!(join(&mut core, 1, "main", T0), "", "the main room is open");
    assert_eq!(join_at(&mut core, 2, "ann", "/maths", T0), "");
    assert_eq!(join_at(&mut core, 3, "ben", "/maths", T0), "");
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "ann"),
        [" .... waiting for a teacher to open this room."]
    );
    join_at(&mut core, 4, "mrsk", "/maths", T0);
    settle(&mut core);
    core.message(4, &format!("/teacher {KEY}"), T0);
    settle(&mut core);
    assert!(core.nickname(2).is_some() && core.nickname(3).is_some());
    assert_ne!(join_at(&mut core, 5, "cat", "/maths", T0), "");
}

#[test]
fn the_rules_come_back_after_a_restart() {
    let mut core = mrs_k_alice_bob();
    for line in ["/lock", "/code", "/mute bob 5", "/ban alice 10", "/pin hi"] {
        core.message(1, line, T0);
    }
    let kept: Vec<(String, String)> = drain(&mut core)
        .into_iter()
        .filter_map(|o| match o {
            Output::Keep {
                key,
                value: Some(v),
                ..
            } => Some((key, v)),
            _ => None,
        })
        .collect();
    let later = Time(T0.0 + MIN);
    // The bar (on this address) comes back...
    let mut again = class();
    again.restore("chat", 9, Vec::new(), kept.clone());
    assert_eq!(join(&mut again, 1, "x", later), "");
    assert_eq!(
        sent_to(&drain(&mut again), "x"),
        [" .... you are barred from this room."]
    );
    // ...and so do the lock, the mute and the pin.
    let unbarred: Vec<_> = kept
        .into_iter()
        .filter(|(k, _)| !k.starts_with("bar:"))
        .collect();
    let mut again = class();
    again.restore("chat", 9, Vec::new(), unbarred.clone());
    assert_eq!(join(&mut again, 1, "x", later), "");
    assert_eq!(
        sent_to(&drain(&mut again), "x"),
        [" .... this room is locked."]
    );
    let open: Vec<_> = unbarred
        .into_iter()
        .filter(|(k, _)| k != "lock" && k != "code")
        .collect();
    let mut again = class();
    again.restore("chat", 9, Vec::new(), open.clone());
    join(&mut again, 1, "bob-tag", later);
    again.message(1, "/nick bob", later);
    let greeting = sent_to(&drain(&mut again), "bob-tag");
    assert_eq!(greeting.last().unwrap(), " .... pinned by MrsK: hi");
    let (alone, _) = say(&mut again, 1, "bob-tag", "hi", later);
    assert_eq!(alone, [" .... you are muted (4 min left)."]);
    // An expired mute is gone (the store gives back only unexpired ones;
    // the core drops any it is handed late).
    let mut again = class();
    again.restore("chat", 9, Vec::new(), open);
    let after = Time(T0.0 + 6 * MIN);
    join(&mut again, 1, "bob-tag", after);
    again.message(1, "/nick bob", after);
    settle(&mut again);
    let (_, room) = say(&mut again, 1, "bob-tag", "free", after);
    assert_eq!(room, ["bob: free"]);
}

#[test]
fn an_evicted_room_keeps_its_rules() {
    let mut core = class_with(Settings {
        max_rooms: 1,
        ..Settings::default()
    });
    join_at(&mut core, 1, "mrsk", "/maths", T0);
    core.message(1, &format!("/teacher {KEY}"), T0);
    core.message(1, "/lock", T0);
    core.leave(1, &LeaveReason::Closed(None), T0);
    settle(&mut core);
    assert_ne!(
        join_at(&mut core, 2, "art", "/art", T0),
        "",
        "maths evicted"
    );
    core.leave(2, &LeaveReason::Closed(None), T0);
    settle(&mut core);
    assert_eq!(join_at(&mut core, 3, "x", "/maths", T0), "");
    assert_eq!(
        sent_to(&drain(&mut core), "x"),
        [" .... this room is locked."]
    );
}

/// The store cannot write: the teachers are told why, the students are
/// not, and the chat goes on; told again when it writes again.
#[test]
fn teachers_hear_when_history_is_not_saved() {
    let mut core = mrs_k_alice_bob();
    core.store_health(Some("disk full".to_owned()), T0);
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "mrsk"),
        [" .... history is not being saved: disk full."]
    );
    assert!(sent_to(&out, "alice").is_empty());
    let (_, room) = say(&mut core, 2, "alice", "still here", T0);
    assert_eq!(room, ["alice: still here"]);
    core.store_health(None, T0);
    let out = drain(&mut core);
    assert_eq!(
        sent_to(&out, "mrsk"),
        [" .... history is being saved again."]
    );
}

/// `/transcript` tells a teacher where the room's transcript is; a student
/// is told it is for teachers.
#[test]
fn transcript_gives_the_link_to_teachers_only() {
    let mut core = mrs_k_alice_bob();
    let (alone, room) = say(&mut core, 1, "mrsk", "/transcript", T0);
    assert_eq!(
        alone,
        [" .... transcript: http://localhost:8080/chat/transcript.txt (send your teacher key as a Bearer token; the page has a button)."]
    );
    assert!(room.is_empty());
    let (alone, _) = say(&mut core, 2, "alice", "/transcript", T0);
    assert_eq!(alone, [" .... /transcript is for teachers."]);
}
