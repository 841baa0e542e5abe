//! The wire wording: every line the server sends, in both wire formats,
//! and the close codes. Run on the broadcaster thread (and a client's
//! reader, for its own notices); owns nothing.
//!
//! - **Plain text**, the seed's protocol, byte for byte: `nick: text`,
//!   `* nick action`, `from -> to: text`, and system lines that start with
//!   ` .... `. What clients see by default.
//! - **JSON** (the subprotocol [`JSON_SUBPROTOCOL`], RFC 6455 section 1.9):
//!   one object per text frame, with `"type"` and, for room events, `"id"`
//!   and `"time"` (see `docs/protocol.md`).
//!
//! Either way, no line can look like another line or drive a terminal:
//! see [`clean`].

use std::borrow::Cow;

use serde::Serialize;

use crate::event::{Event, What};
use crate::frame;

/// The subprotocol a client offers to get JSON (`chat.v1.json`).
pub const JSON_SUBPROTOCOL: &str = "chat.v1.json";

/// How a client reads what the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The seed's plain text lines.
    #[default]
    Text,
    /// One JSON object per frame ([`JSON_SUBPROTOCOL`]).
    Json,
}

/// The highest nickname number is below this (the seed's `(random 100000)`).
pub const NICKNAME_SPACE: u32 = 100_000;

/// A nickname is `user-N`, N below [`NICKNAME_SPACE`].
pub fn nickname(n: u32) -> String {
    format!("user-{n}")
}

/// Every system line starts with this (a space and four dots).
pub const SYSTEM: &str = " .... ";

/// Names shown in the plain presence line at most; past it, `, and K
/// more.` (a room of hundreds still gets a one-line greeting).
pub const PRESENCE_NAMES: usize = 50;
/// Names in a JSON presence object at most (`count` has them all).
pub const PRESENCE_NAMES_JSON: usize = 1000;

/// A sender is told [`SLOW_DOWN`] at most once per this, however many of
/// its messages are dropped by the rate limit.
pub const SLOW_DOWN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

// Notices: the text after ` .... `, to one member unless said otherwise.

/// Who you are (to a newcomer, and to `/nick` of your own name).
pub fn you_are(nick: &str) -> String {
    format!("you are {nick}.")
}

/// To a sender whose messages the rate limit drops.
pub const SLOW_DOWN: &str = "slow down.";

/// `/transcript`, to the teacher who asked: where the room's transcript is
/// (`page_url` ends in `/`).
pub fn transcript_link(page_url: &str, room: &str) -> String {
    format!(
        "transcript: {page_url}{room}/transcript.txt (send your teacher key as a Bearer token; \
         the page has a button)."
    )
}

/// To a room's teachers when the store cannot write: the chat goes on in
/// memory.
pub fn not_saved(reason: &str) -> String {
    format!("history is not being saved: {reason}.")
}

/// To a room's teachers when the store writes again.
pub const SAVED_AGAIN: &str = "history is being saved again.";

/// To the room, once, when this instance loses its peers (`--redis`).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub const RECONNECTING: &str = "the server is reconnecting to its peers.";

/// The nickname asked for belongs to someone else.
pub fn is_taken(nick: &str) -> String {
    format!("{nick} is taken.")
}

/// The nickname asked for breaks the rule.
pub const NICK_RULE: &str =
    "a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits.";

/// `/msg` to someone not in the room.
pub fn not_here(nick: &str) -> String {
    format!("no {nick} here.")
}

/// A `/word` that is no command.
pub fn unknown_command(word: &str) -> String {
    format!("unknown command /{word} (try /help).")
}

/// How to use a command the sender got wrong.
pub fn usage(command: &str) -> String {
    format!("usage: {command}")
}

// ---- A teacher's lines (`room::teacher`, `room::lobby`): the text after
// ` .... `, to one member unless said otherwise.

/// To a member whose `/teacher KEY` was right.
pub const YOU_ARE_TEACHER: &str = "you are a teacher.";
/// A `/teacher KEY` with a wrong key.
pub const WRONG_KEY: &str = "wrong key.";
/// A `/code CODE` in the lobby with a wrong code.
pub const WRONG_CODE: &str = "wrong code.";
/// The lobby's line, when the room has a join code.
pub const NEEDS_CODE: &str = "this room needs a join code: type /code CODE.";
/// The lobby's line, with `--rooms teachers`, before a teacher came.
pub const WAITING_FOR_TEACHER: &str = "waiting for a teacher to open this room.";
/// A newcomer to a locked room (then close 1008 `locked`).
pub const LOCKED: &str = "this room is locked.";
/// A barred newcomer (then close 1008 `barred`).
pub const BARRED: &str = "you are barred from this room.";
/// `/bans` with nobody barred.
pub const NOBODY_BARRED: &str = "nobody is barred.";
/// `/code off`, to the teachers.
pub const NO_CODE: &str = "no join code.";
/// `/quiet`, to the room; and to a student who speaks while it is on.
pub const QUIET_ON: &str = "only teachers can speak now.";
/// `/delete`, `/purge` with nothing to remove.
pub const NOTHING_TO_REMOVE: &str = "nothing to remove.";

/// The new join code, to the teachers.
pub fn join_code(code: &str) -> String {
    format!("join code: {code}.")
}

/// A student used a teacher's command.
pub fn for_teachers(word: &str) -> String {
    format!("/{word} is for teachers.")
}

/// To the member removed by `/kick`.
pub fn you_were_removed(by: &str) -> String {
    format!("you were removed by {by}.")
}

/// To the member removed by `/ban`.
pub fn you_are_barred(by: &str) -> String {
    format!("you are barred from this room by {by}.")
}

/// One line of `/bans`.
pub fn barred_line(nick: &str, address: &str, minutes: u64) -> String {
    format!("barred: {nick} ({address}, {minutes} min left).")
}

/// `/unban NICK`.
pub fn may_come_back(nick: &str) -> String {
    format!("{nick} may come back.")
}

/// A muted member's line that reached no one.
pub fn you_are_muted(minutes: u64) -> String {
    format!("you are muted ({minutes} min left).")
}

/// A student's line sooner than slow mode allows.
pub fn slow_wait(seconds: u64) -> String {
    format!("slow mode: wait {seconds} s.")
}

/// The teacher's part of `/help`, to teachers only.
pub const TEACHER_HELP: [&str; 19] = [
    "teacher commands:",
    "/op NICK, /deop NICK: make NICK a teacher here, or not",
    "/code, /code off: a new join code for this room, or none",
    "/lock, /unlock: keep newcomers out, or let them in",
    "/kick NICK: remove NICK",
    "/ban NICK [MINUTES]: remove NICK and bar them (60 min)",
    "/bans: who is barred",
    "/unban NICK: let NICK come back",
    "/mute NICK [MINUTES], /unmute NICK: silence NICK (10 min)",
    "/quiet, /quiet off: only teachers speak",
    "/slow SECONDS: one line every SECONDS s per student (0: off)",
    "/rename NICK NEW: give NICK a new name",
    "/delete ID: remove a line",
    "/purge NICK: remove NICK's lines",
    "/clear: empty the history",
    "/pin TEXT, /pin off: a line every newcomer sees",
    "/transcript: where to download this room's transcript",
    "/teacher KEY: become a teacher",
    "/help: this list",
];

/// The answer to `/help`, one line each.
pub const HELP: [&str; 7] = [
    "commands:",
    "/nick NEW: take the nickname NEW",
    "/who: who is here",
    "/me ACTION: tell the room what you do, as * NICK ACTION",
    "/msg NICK TEXT: a private line to NICK only",
    "/help: this list",
    "//text sends /text as a chat line",
];

/// The presence line, ` .... here now (N): A, B, C.`: `names` in order of
/// arrival, `total` of them in all (only the first [`PRESENCE_NAMES`] are
/// written out).
pub fn here_now<'a>(total: usize, names: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = format!("{SYSTEM}here now ({total}): ");
    let mut shown = 0;
    for name in names.into_iter().take(PRESENCE_NAMES) {
        if shown > 0 {
            line.push_str(", ");
        }
        line.push_str(name);
        shown += 1;
    }
    if total > shown {
        line.push_str(&format!(", and {} more", total - shown));
    }
    line.push('.');
    line
}

/// `text` made safe to show: carriage returns not followed by a line feed,
/// the other C0 controls but tab and line feed, DEL and the C1 controls
/// become U+FFFD, so no line can pass for another (`hi\r .... x has left.`)
/// or drive a terminal (ESC sequences). Everything else is kept byte for
/// byte: tabs, CRLF line ends, emoji.
pub fn clean(text: &str) -> Cow<'_, str> {
    fn bad(c: char, next: Option<char>) -> bool {
        match c {
            '\t' | '\n' => false,
            '\r' => next != Some('\n'),
            c => c.is_control(), // C0, DEL and C1
        }
    }
    let mut chars = text.chars().peekable();
    let mut dirty = false;
    while let Some(c) = chars.next() {
        if bad(c, chars.peek().copied()) {
            dirty = true;
            break;
        }
    }
    if !dirty {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(if bad(c, chars.peek().copied()) {
            '\u{FFFD}'
        } else {
            c
        });
    }
    Cow::Owned(out)
}

/// `text` made safe to put in a log line: as [`clean`], and line feeds
/// and every carriage return become U+FFFD too, so what a client sent
/// (an `Origin`, a `Host`, a request target, a forwarded header, a user
/// agent, a reason, a nickname, a room name) can neither forge a log line
/// nor drive the terminal that shows the log. Tabs and everything else are
/// kept byte for byte.
///
/// The one way client bytes reach a log: every `log::` call that formats
/// such bytes wraps them in `log_safe`, and the binary's logger passes
/// every whole line through it once more (`logging`), so a call site that
/// forgets is still safe. Replacing rather than escaping makes that second
/// pass a no-op on a line already made safe (U+FFFD is no control).
pub fn log_safe(text: &str) -> Cow<'_, str> {
    let bad = |c: char| c != '\t' && c.is_control(); // C0 (LF, CR too), DEL, C1
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// A nickname (or any name) made safe to show: one line, always. The
/// nickname rules allow no control at all, but names also come from other
/// instances and the store, so the renderer does not rely on them: as
/// [`log_safe`], line feeds included.
fn name(nick: &str) -> Cow<'_, str> {
    log_safe(nick)
}

/// Append `event` to `out` as one text frame in `format`; `history`: it is
/// replayed to a newcomer (JSON flags it).
pub fn encode(event: &Event, format: Format, history: bool, out: &mut Vec<u8>) {
    match format {
        Format::Text => encode_text(event, out),
        Format::Json => {
            let json = to_json(event, history);
            frame::encode(frame::TEXT, &json, out);
        }
    }
}

/// The plain-text frame of `event`, written in parts (no line built first).
fn encode_text(event: &Event, out: &mut Vec<u8>) {
    // The parts straight into the frame: no line built, nothing allocated
    // (this runs once per event per batch, on the broadcaster).
    fn text<const N: usize>(parts: [&str; N], out: &mut Vec<u8>) {
        frame::encode_parts(frame::TEXT, &parts.map(str::as_bytes), out);
    }
    match &event.what {
        What::Chat { nick, text: t } => text([&name(nick), ": ", &clean(t)], out),
        What::Action { nick, text: t } => text(["* ", &name(nick), " ", &clean(t)], out),
        What::Private { from, to, text: t } => {
            text([&name(from), " -> ", &name(to), ": ", &clean(t)], out)
        }
        What::Join { nick } => text([SYSTEM, &name(nick), " has joined."], out),
        What::Leave { nick } => text([SYSTEM, &name(nick), " has left."], out),
        What::Rename { from, to } => text([SYSTEM, &name(from), " is now ", &name(to), "."], out),
        What::Welcome { nick, .. } => text([SYSTEM, "you are ", &name(nick), "."], out),
        What::Presence { members, count } => {
            let names: Vec<String> = members
                .iter()
                .map(|m| {
                    if m.teacher {
                        format!("@{}", name(&m.nick))
                    } else {
                        name(&m.nick).into_owned()
                    }
                })
                .collect();
            let line = here_now(*count, names.iter().map(String::as_str));
            text([&line], out)
        }
        What::Notice { text: t } => text([SYSTEM, &clean(t)], out),
        other => {
            let line = teacher_line(other).unwrap_or_default();
            text([SYSTEM, &clean(&line)], out)
        }
    }
}

/// The text after ` .... ` of a teacher's room line (see `event::What`).
pub fn teacher_line(what: &What) -> Option<String> {
    Some(match what {
        What::Role {
            nick,
            teacher: true,
            ..
        } => format!("{nick} is a teacher here."),
        What::Role { nick, .. } => format!("{nick} is no longer a teacher here."),
        What::Removed {
            nick,
            by,
            barred: false,
            ..
        } => format!("{nick} was removed by {by}."),
        What::Removed { nick, by, .. } => format!("{nick} was barred by {by}."),
        What::Muted { nick, by, .. } => format!("{nick} was muted by {by}."),
        What::Unmuted { nick, .. } => format!("{nick} can speak again."),
        What::Lock { by, locked: true } => format!("{by} locked the room."),
        What::Lock { by, .. } => format!("{by} unlocked the room."),
        What::Quiet { on: true, .. } => QUIET_ON.to_owned(),
        What::Quiet { .. } => "everyone can speak again.".to_owned(),
        What::Slow { seconds: 0, .. } => "slow mode is off.".to_owned(),
        What::Slow { seconds, .. } => format!("slow mode: one line every {seconds} s."),
        What::Renamed { from, to, .. } => format!("{from} is now {to}."),
        What::Delete {
            by,
            nick,
            all: false,
            ..
        } => format!("{by} removed a line by {nick}."),
        What::Delete { by, nick, .. } => format!("{by} removed {nick}'s lines."),
        What::Clear { by } => format!("{by} cleared the history."),
        What::Pin {
            by,
            text: Some(text),
        } => format!("pinned by {by}: {text}"),
        What::Pin { by, .. } => format!("{by} unpinned the message."),
        _ => return None,
    })
}

/// A teacher's room line as a JSON object (see `docs/protocol.md`).
fn teacher_json(event: &Event, history: bool) -> Option<serde_json::Value> {
    use serde_json::json;
    let c = |s: &str| clean(s).into_owned();
    let by = |by: &Option<String>| by.as_deref().map(c);
    let mut value = match &event.what {
        What::Role {
            nick,
            teacher,
            by: b,
        } => json!({"type": "role", "nick": c(nick),
            "role": if *teacher { "teacher" } else { "student" }, "by": by(b)}),
        What::Removed {
            nick, by, barred, ..
        } => json!({
            "type": if *barred { "barred" } else { "removed" }, "nick": c(nick), "by": c(by)}),
        What::Muted { nick, by, minutes } => {
            json!({"type": "mute", "nick": c(nick), "by": c(by), "minutes": minutes})
        }
        What::Unmuted { nick, by: b } => json!({"type": "unmute", "nick": c(nick), "by": by(b)}),
        What::Lock { by, locked } => json!({"type": "lock", "by": c(by), "locked": locked}),
        What::Quiet { by, on } => json!({"type": "quiet", "by": c(by), "on": on}),
        What::Slow { by, seconds } => json!({"type": "slow", "by": c(by), "seconds": seconds}),
        What::Renamed { from, to, by } => {
            json!({"type": "rename", "from": c(from), "to": c(to), "by": c(by)})
        }
        What::Delete { by, nick, ids, all } => {
            json!({"type": "delete", "by": c(by), "nick": c(nick), "ids": ids, "all": all})
        }
        What::Clear { by } => json!({"type": "clear", "by": c(by)}),
        What::Pin { by, text } => {
            json!({"type": "pin", "by": c(by), "text": text.as_deref().map(c)})
        }
        _ => return None,
    };
    if let Some(map) = value.as_object_mut() {
        if event.id > 0 {
            map.insert("id".into(), json!(event.id));
        }
        map.insert("time".into(), json!(event.time.rfc3339()));
        if history {
            map.insert("history".into(), json!(true));
        }
    }
    Some(value)
}

/// One JSON object, as the JSON format sends it (see `docs/protocol.md`).
#[derive(Serialize)]
struct Json<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nick: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<JsonMember<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    history: bool,
}

#[derive(Serialize)]
struct JsonMember<'a> {
    nick: Cow<'a, str>,
    role: &'static str,
}

/// `event` as one JSON object's bytes.
pub fn to_json(event: &Event, history: bool) -> Vec<u8> {
    if let Some(value) = teacher_json(event, history) {
        return serde_json::to_vec(&value).unwrap_or_default();
    }
    let mut json = Json {
        kind: "notice",
        id: (event.id > 0).then_some(event.id),
        time: event.time.rfc3339(),
        nick: None,
        from: None,
        to: None,
        text: None,
        room: None,
        members: None,
        count: None,
        history,
    };
    match &event.what {
        What::Chat { nick, text } | What::Action { nick, text } => {
            json.kind = if matches!(event.what, What::Chat { .. }) {
                "chat"
            } else {
                "action"
            };
            json.nick = Some(name(nick));
            json.text = Some(clean(text));
        }
        What::Private { from, to, text } => {
            json.kind = "private";
            json.from = Some(name(from));
            json.to = Some(name(to));
            json.text = Some(clean(text));
        }
        What::Join { nick } | What::Leave { nick } => {
            json.kind = if matches!(event.what, What::Join { .. }) {
                "join"
            } else {
                "leave"
            };
            json.nick = Some(name(nick));
        }
        What::Rename { from, to } => {
            json.kind = "rename";
            json.from = Some(name(from));
            json.to = Some(name(to));
        }
        What::Welcome { nick, room } => {
            json.kind = "welcome";
            json.nick = Some(name(nick));
            json.room = Some(room);
        }
        What::Presence { members, count } => {
            json.kind = "presence";
            json.members = Some(
                members
                    .iter()
                    .map(|m| JsonMember {
                        nick: name(&m.nick),
                        role: if m.teacher { "teacher" } else { "student" },
                    })
                    .collect(),
            );
            json.count = Some(*count);
        }
        What::Notice { text } => json.text = Some(clean(text)),
        _ => {} // a teacher's lines: `teacher_json`
    }
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_vec(&json).unwrap_or_default()
}

/// Close codes (RFC 6455, section 7.4.1) and the reasons we send with them.
pub mod close {
    /// The server is shutting down, or the peer went silent.
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol violation: bad framing, reserved bits or opcodes, bad close code.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A binary frame: this chat speaks text only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A text message that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The client could not keep up (its outbox filled).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A message over the size limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;

    /// What a close code we send says happened, for the close frame's
    /// reason and the log: a limit is not a protocol error.
    pub fn cause(code: u16) -> &'static str {
        match code {
            GOING_AWAY => "going away",
            PROTOCOL_ERROR => "protocol error",
            UNSUPPORTED_DATA => "binary message",
            INVALID_PAYLOAD => "invalid UTF-8",
            POLICY_VIOLATION => "could not keep up",
            MESSAGE_TOO_BIG => "message too big",
            _ => "closed by the server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Present, Time};

    fn text_of(what: What) -> String {
        let event = Event {
            id: 1,
            time: Time(0),
            what,
        };
        let mut out = Vec::new();
        encode(&event, Format::Text, false, &mut out);
        let start = out.len() - frame_len(&out);
        String::from_utf8(out[start..].to_vec()).unwrap()
    }

    /// The payload length of the one small frame in `out`.
    fn frame_len(out: &[u8]) -> usize {
        usize::from(out[1] & 0x7f)
    }

    #[test]
    fn plain_lines_match_the_seed() {
        let s = |x: &str| x.to_owned();
        assert_eq!(nickname(42), "user-42");
        let chat = What::Chat {
            nick: s("user-42"),
            text: s("hello"),
        };
        assert_eq!(text_of(chat), "user-42: hello");
        assert_eq!(
            text_of(What::Leave { nick: s("user-42") }),
            " .... user-42 has left."
        );
        assert_eq!(text_of(What::Join { nick: s("a") }), " .... a has joined.");
        let action = What::Action {
            nick: s("bob"),
            text: s("waves"),
        };
        assert_eq!(text_of(action), "* bob waves");
        let private = What::Private {
            from: s("a"),
            to: s("b"),
            text: s("hi"),
        };
        assert_eq!(text_of(private), "a -> b: hi");
        let rename = What::Rename {
            from: s("user-1"),
            to: s("bob"),
        };
        assert_eq!(text_of(rename), " .... user-1 is now bob.");
        let welcome = What::Welcome {
            nick: s("user-7"),
            room: s("chat"),
        };
        assert_eq!(text_of(welcome), " .... you are user-7.");
        let notice = What::Notice {
            text: is_taken("bob"),
        };
        assert_eq!(text_of(notice), " .... bob is taken.");
        let presence = What::Presence {
            members: vec![
                Present {
                    nick: s("A"),
                    teacher: true,
                },
                Present {
                    nick: s("B"),
                    teacher: false,
                },
            ],
            count: 2,
        };
        assert_eq!(text_of(presence), " .... here now (2): @A, B.");
    }

    #[test]
    fn a_limit_is_not_a_protocol_error() {
        assert_eq!(close::cause(close::MESSAGE_TOO_BIG), "message too big");
        assert_eq!(close::cause(close::PROTOCOL_ERROR), "protocol error");
    }

    #[test]
    fn presence_lists_fifty_then_counts_the_rest() {
        assert_eq!(here_now(1, ["a"]), " .... here now (1): a.");
        let names: Vec<String> = (0..73).map(|i| format!("n{i}")).collect();
        let line = here_now(73, names.iter().map(String::as_str));
        let shown: Vec<&str> = names[..50].iter().map(String::as_str).collect();
        assert_eq!(
            line,
            format!(" .... here now (73): {}, and 23 more.", shown.join(", "))
        );
    }

    #[test]
    fn controls_cannot_fake_a_line_or_drive_a_terminal() {
        assert_eq!(
            clean("hi\r .... alice has left."),
            "hi\u{FFFD} .... alice has left."
        );
        assert_eq!(
            clean("\u{1b}[2J\u{7f}\u{85}x"),
            "\u{FFFD}[2J\u{FFFD}\u{FFFD}x"
        );
        for kept in ["a\tb", "line\r\nnext", "emoji 😀", "plain"] {
            assert_eq!(clean(kept), kept);
        }
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_objects() {
        let event = Event {
            id: 7,
            time: Time(1_765_015_200_123),
            what: What::Chat {
                nick: "ann".into(),
                text: "hi \"you\"".into(),
            },
        };
        let json: serde_json::Value = serde_json::from_slice(&to_json(&event, true)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "chat", "id": 7, "time": "2025-12-06T10:00:00.123Z",
                "nick": "ann", "text": "hi \"you\"", "history": true})
        );
        let notice = Event::notice(Time(0), "slow down.");
        let json: serde_json::Value = serde_json::from_slice(&to_json(&notice, false)).unwrap();
        assert_eq!(json["type"], "notice");
        assert!(json.get("id").is_none());
    }

    mod properties {
        use super::*;
        use crate::event::Present;
        use proptest::prelude::*;

        /// Whether `text` is one line: no control but tab.
        fn one_line(text: &str) -> bool {
            !text.chars().any(|c| c != '\t' && c.is_control())
        }

        /// Any event, its names and (line-feed-free) text anything at all.
        fn any_event() -> impl Strategy<Value = Event> {
            let name = any::<String>;
            let text = || any::<String>().prop_map(|t| t.replace('\n', " "));
            let what = prop_oneof![
                (name(), text()).prop_map(|(nick, text)| What::Chat { nick, text }),
                (name(), text()).prop_map(|(nick, text)| What::Action { nick, text }),
                (name(), name(), text()).prop_map(|(from, to, text)| What::Private {
                    from,
                    to,
                    text
                }),
                name().prop_map(|nick| What::Join { nick }),
                name().prop_map(|nick| What::Leave { nick }),
                (name(), name()).prop_map(|(from, to)| What::Rename { from, to }),
                (name(), name()).prop_map(|(nick, room)| What::Welcome { nick, room }),
                proptest::collection::vec(name(), 0..4).prop_map(|names| What::Presence {
                    count: names.len(),
                    members: names
                        .into_iter()
                        .enumerate()
                        .map(|(i, nick)| Present {
                            nick,
                            teacher: i == 0
                        })
                        .collect(),
                }),
                text().prop_map(|text| What::Notice { text }),
            ];
            (any::<u64>(), what).prop_map(|(id, what)| Event {
                id,
                time: Time(0),
                what,
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// The plain-text line of any event is one frame and one line
            /// (its text had no line feed), whatever its names and text hold.
            #[test]
            fn the_plain_line_of_any_event_is_one_line(event in any_event()) {
                let mut out = Vec::new();
                encode(&event, Format::Text, false, &mut out);
                let mut cursor = std::io::Cursor::new(&out[..]);
                let (_, len) = tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
                    .unwrap()
                    .unwrap();
                let start = cursor.position() as usize;
                prop_assert_eq!(out.len() - start, len as usize, "one frame");
                let line = std::str::from_utf8(&out[start..]).unwrap();
                prop_assert!(one_line(line), "{:?}", line);
            }

            /// In JSON every string is clean too, and names are one line.
            #[test]
            fn json_strings_are_clean(event in any_event()) {
                let value: serde_json::Value = serde_json::from_slice(&to_json(&event, false)).unwrap();
                for field in ["nick", "from", "to"] {
                    if let Some(s) = value.get(field).and_then(|v| v.as_str()) {
                        prop_assert!(one_line(s), "{}: {:?}", field, s);
                    }
                }
                if let Some(s) = value.get("text").and_then(|v| v.as_str()) {
                    prop_assert_eq!(clean(s), s);
                }
            }

            /// `clean` keeps what is safe byte for byte and is idempotent;
            /// `log_safe` leaves no control but tab.
            #[test]
            fn cleaning_is_idempotent(text in any::<String>()) {
                let once = clean(&text).into_owned();
                prop_assert_eq!(clean(&once), once.as_str());
                prop_assert!(one_line(&log_safe(&text)));
                let safe = log_safe(&text).into_owned();
                prop_assert_eq!(log_safe(&safe), safe.as_str());
            }
        }
    }
}
