//! What instances tell each other through Redis: the key names, and the
//! text of one published room event. Pure functions; no thread, no I/O.
//!
//! A published message is `SEQ\tINSTANCE\tTIME_MS\tKIND\tFIELDS`, on the
//! channel `chat:room:ROOM`: a typed [`Event`], so every instance renders
//! it in whatever wire format its clients speak. `SEQ` is the room's
//! counter, given by Redis inside the script that publishes (so a room's
//! sequence numbers and its delivery order agree); `INSTANCE` is the
//! publisher's id; `TIME_MS` the event's time in ms since the Unix epoch.
//! `KIND` is one letter: `C` chat (`NICK\tTEXT`), `A` action (`/me`:
//! `NICK\tTEXT`), `P` private (`FROM\tTO\tTEXT`), `J` join (`NICK`), `L`
//! leave (`NICK`), `N` rename (`FROM\tTO`), `S` notice (`TEXT`); and a
//! teacher's room lines, a flag or number first, the teacher (`BY`) next
//! (empty: the server), free text last: `O` role (`0|1\tBY\tNICK`), `X`
//! removed or barred (`0|1\tMINUTES\tBY\tNICK`), `M` muted
//! (`MINUTES\tBY\tNICK`), `U` unmuted (`BY\tNICK`), `K` lock (`0|1\tBY`),
//! `H` quiet (`0|1\tBY`), `W` slow mode (`SECONDS\tBY`), `R` a teacher's
//! rename (`BY\tFROM\tTO`), `D` delete (`0|1\tIDS\tBY\tNICK`, the ids
//! comma-separated), `E` clear (`BY`), `I` pin (`0\tBY` unpinned, `1\tBY\tTEXT`).
//! Nicknames and room names never hold a tab (the nickname rules), so only
//! the last field, free text, may; it is split off last. A room's history
//! list in Redis keeps its chat and action lines as `SEQ\tTIME_MS\tKIND\tFIELDS`.

use crate::event::{Envelope, Event, Time, What};

/// The tag that follows the instance id in a published event: `#N`, the
/// publisher's own number for it, counted from 1 since it started. Lets
/// the publisher tell its own late echo of a line it handed back for local
/// delivery (a stalled Redis that ran it after all) from every other.
/// Instances that do not know it read `INSTANCE#N` as someone else's id,
/// which is what it is to them. `#0` marks a leave published for the
/// other instances only (a name freed after an outage: this instance
/// showed the leave or rename already).
pub fn tag(number: u64) -> String {
    format!("#{number}")
}

/// Every key and channel starts with this, so one Redis can hold other data.
pub const PREFIX: &str = "chat:";
/// The pattern every subscriber listens to: every room's channel.
pub const ROOM_PATTERN: &str = "chat:room:*";
/// The set of instance ids that have not been reaped.
pub const INSTANCES: &str = "chat:instances";
/// The set of room names that ever had a member or a line.
pub const ROOMS: &str = "chat:rooms";

/// The pub/sub channel of a room; its keys share the prefix.
pub fn room_channel(room: &str) -> String {
    format!("{PREFIX}room:{room}")
}

/// The channel on which the snapshot script tells the subscriber of the
/// instance `instance` that the state it read is complete (see
/// `scripts::SNAPSHOT`). Under the room pattern, so the one subscription
/// hears it; no room name holds a `:`, so it is no room's channel (other
/// instances ignore it: [`is_sync_channel`]).
pub fn sync_channel(instance: &str) -> String {
    format!("{PREFIX}room:{instance}:sync")
}

/// Whether `channel` is some instance's [`sync_channel`].
pub fn is_sync_channel(channel: &str) -> bool {
    channel
        .strip_prefix(PREFIX)
        .and_then(|c| c.strip_prefix("room:"))
        .is_some_and(|c| c.ends_with(":sync"))
}

/// The keys a room keeps in Redis.
pub struct RoomKeys {
    /// Counter: the sequence number of the room's last published event.
    pub seq: String,
    /// Hash: folded nickname (`nickname::fold`) -> `INSTANCE\tNickname`
    /// (who holds it).
    pub names: String,
    /// Sorted set: lowercase nickname, scored by the sequence number of
    /// its join, so presence lists members in order of arrival.
    pub here: String,
    /// List: the room's last chat and `/me` lines, oldest first, as
    /// `SEQ\tTIME_MS\tKIND\tFIELDS`.
    pub history: String,
}

impl RoomKeys {
    pub fn new(room: &str) -> RoomKeys {
        let base = room_channel(room);
        RoomKeys {
            seq: format!("{base}:seq"),
            names: format!("{base}:names"),
            here: format!("{base}:here"),
            history: format!("{base}:history"),
        }
    }
}

/// The lease key of an instance: present while the instance is alive.
pub fn lease_key(instance: &str) -> String {
    format!("{PREFIX}instance:{instance}")
}

/// A short-lived key an instance writes to learn whether Redis takes
/// writes again, after a refusal.
pub fn probe_key(instance: &str) -> String {
    format!("{PREFIX}instance:{instance}:probe")
}

/// Set of `ROOM\tlowercase-nickname` an instance holds, for its reaper.
pub fn holdings_key(instance: &str) -> String {
    format!("{PREFIX}instance:{instance}:members")
}

/// How long Redis remembers which name a session last had, for a resume
/// after its instance died.
pub const SESSION_MEMORY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What Redis keeps of a session ID (a secret, never stored or logged as
/// is): a 64-bit SipHash of it, in hex. Enough to find a session's last
/// name again; not enough to resume as it (the ID itself is still needed).
pub fn session_digest(session: &str) -> String {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(session);
    format!("{hash:016x}")
}

/// The kinds of event that travel, as their letter on the wire.
const CHAT: &str = "C";
const ACTION: &str = "A";
const PRIVATE: &str = "P";
const JOIN: &str = "J";
const LEAVE: &str = "L";
const RENAME: &str = "N";
const NOTICE: &str = "S";
const ROLE: &str = "O";
const REMOVED: &str = "X";
const MUTED: &str = "M";
const UNMUTED: &str = "U";
const LOCK: &str = "K";
const QUIET: &str = "H";
const SLOW: &str = "W";
const RENAMED: &str = "R";
const DELETE: &str = "D";
const CLEAR: &str = "E";
const PIN: &str = "I";

/// A flag as it travels.
fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

/// A flag read back.
fn read_flag(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// An optional teacher (`None`: the server) as it travels: empty.
fn maybe(by: &Option<String>) -> Option<&str> {
    match by {
        Some(by) => name(by),
        None => Some(""),
    }
}

/// An event as it travels, `TIME_MS\tKIND\tFIELDS`: what follows
/// `SEQ\tINSTANCE\t` in a published message, and `SEQ\t` in a history
/// entry. Its `id` is not sent (Redis gives the sequence number).
///
/// `None` for what never travels (a welcome, a presence line: they are for
/// one member) and for a nickname that would not come back as it went
/// (empty, or holding a tab or a control character; the nickname rules
/// allow none of these).
pub fn encode(event: &Event) -> Option<String> {
    let time = event.time.0;
    let fields = match &event.what {
        What::Chat { nick, text } => format!("{CHAT}\t{}\t{text}", name(nick)?),
        What::Action { nick, text } => format!("{ACTION}\t{}\t{text}", name(nick)?),
        What::Private { from, to, text } => {
            format!("{PRIVATE}\t{}\t{}\t{text}", name(from)?, name(to)?)
        }
        What::Join { nick } => format!("{JOIN}\t{}", name(nick)?),
        What::Leave { nick } => format!("{LEAVE}\t{}", name(nick)?),
        What::Rename { from, to } => format!("{RENAME}\t{}\t{}", name(from)?, name(to)?),
        What::Notice { text } => format!("{NOTICE}\t{text}"),
        What::Welcome { .. } | What::Presence { .. } => return None,
        What::Role { nick, teacher, by } => {
            format!(
                "{ROLE}\t{}\t{}\t{}",
                flag(*teacher),
                maybe(by)?,
                name(nick)?
            )
        }
        What::Removed {
            nick,
            by,
            barred,
            minutes,
        } => format!(
            "{REMOVED}\t{}\t{minutes}\t{}\t{}",
            flag(*barred),
            name(by)?,
            name(nick)?
        ),
        What::Muted { nick, by, minutes } => {
            format!("{MUTED}\t{minutes}\t{}\t{}", name(by)?, name(nick)?)
        }
        What::Unmuted { nick, by } => format!("{UNMUTED}\t{}\t{}", maybe(by)?, name(nick)?),
        What::Lock { by, locked } => format!("{LOCK}\t{}\t{}", flag(*locked), name(by)?),
        What::Quiet { by, on } => format!("{QUIET}\t{}\t{}", flag(*on), name(by)?),
        What::Slow { by, seconds } => format!("{SLOW}\t{seconds}\t{}", name(by)?),
        What::Renamed { from, to, by } => {
            format!("{RENAMED}\t{}\t{}\t{}", name(by)?, name(from)?, name(to)?)
        }
        What::Delete { by, nick, ids, all } => {
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            format!(
                "{DELETE}\t{}\t{}\t{}\t{}",
                flag(*all),
                ids.join(","),
                name(by)?,
                name(nick)?
            )
        }
        What::Clear { by } => format!("{CLEAR}\t{}", name(by)?),
        What::Pin { by, text: None } => format!("{PIN}\t0\t{}", name(by)?),
        What::Pin { by, text: Some(t) } => format!("{PIN}\t1\t{}\t{t}", name(by)?),
    };
    Some(format!("{time}\t{fields}"))
}

/// A nickname or room name as it may travel: not empty, no tab, no
/// control character.
fn name(s: &str) -> Option<&str> {
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// Read `TIME_MS\tKIND\tFIELDS` back into an event with id `seq`. `None`
/// if it is malformed; never panics, whatever the bytes.
pub fn decode_body(seq: u64, body: &str) -> Option<Event> {
    let (time, rest) = body.split_once('\t')?;
    let (kind, fields) = rest.split_once('\t')?;
    let owned = |s: &str| name(s).map(str::to_owned);
    // Two names, the last field a name too.
    let two = |fields: &str| -> Option<(String, String)> {
        let (a, b) = fields.split_once('\t')?;
        Some((owned(a)?, owned(b)?))
    };
    // A name, then free text (which may hold tabs).
    let said = |fields: &str| -> Option<(String, String)> {
        let (nick, text) = fields.split_once('\t')?;
        Some((owned(nick)?, text.to_owned()))
    };
    let what = match kind {
        CHAT => {
            let (nick, text) = said(fields)?;
            What::Chat { nick, text }
        }
        ACTION => {
            let (nick, text) = said(fields)?;
            What::Action { nick, text }
        }
        PRIVATE => {
            let (from, rest) = fields.split_once('\t')?;
            let (to, text) = rest.split_once('\t')?;
            What::Private {
                from: owned(from)?,
                to: owned(to)?,
                text: text.to_owned(),
            }
        }
        JOIN => What::Join {
            nick: owned(fields)?,
        },
        LEAVE => What::Leave {
            nick: owned(fields)?,
        },
        RENAME => {
            let (from, to) = two(fields)?;
            What::Rename { from, to }
        }
        NOTICE => What::Notice {
            text: fields.to_owned(),
        },
        ROLE => {
            let (teacher, rest) = fields.split_once('\t')?;
            let (by, nick) = rest.split_once('\t')?;
            What::Role {
                nick: owned(nick)?,
                teacher: read_flag(teacher)?,
                by: if by.is_empty() {
                    None
                } else {
                    Some(owned(by)?)
                },
            }
        }
        REMOVED => {
            let (barred, rest) = fields.split_once('\t')?;
            let (minutes, rest) = rest.split_once('\t')?;
            let (by, nick) = two(rest)?;
            What::Removed {
                nick,
                by,
                barred: read_flag(barred)?,
                minutes: number(minutes)?,
            }
        }
        MUTED => {
            let (minutes, rest) = fields.split_once('\t')?;
            let (by, nick) = two(rest)?;
            What::Muted {
                nick,
                by,
                minutes: number(minutes)?,
            }
        }
        UNMUTED => {
            let (by, nick) = fields.split_once('\t')?;
            What::Unmuted {
                nick: owned(nick)?,
                by: if by.is_empty() {
                    None
                } else {
                    Some(owned(by)?)
                },
            }
        }
        LOCK => {
            let (locked, by) = fields.split_once('\t')?;
            What::Lock {
                by: owned(by)?,
                locked: read_flag(locked)?,
            }
        }
        QUIET => {
            let (on, by) = fields.split_once('\t')?;
            What::Quiet {
                by: owned(by)?,
                on: read_flag(on)?,
            }
        }
        SLOW => {
            let (seconds, by) = fields.split_once('\t')?;
            What::Slow {
                by: owned(by)?,
                seconds: u32::try_from(number(seconds)?).ok()?,
            }
        }
        RENAMED => {
            let (by, rest) = fields.split_once('\t')?;
            let (from, to) = two(rest)?;
            What::Renamed {
                from,
                to,
                by: owned(by)?,
            }
        }
        DELETE => {
            let (all, rest) = fields.split_once('\t')?;
            let (ids, rest) = rest.split_once('\t')?;
            let (by, nick) = two(rest)?;
            let ids = if ids.is_empty() {
                Vec::new()
            } else {
                ids.split(',').map(number).collect::<Option<Vec<u64>>>()?
            };
            What::Delete {
                by,
                nick,
                ids,
                all: read_flag(all)?,
            }
        }
        CLEAR => What::Clear { by: owned(fields)? },
        PIN => {
            let (pinned, rest) = fields.split_once('\t')?;
            if read_flag(pinned)? {
                let (by, text) = said(rest)?;
                What::Pin {
                    by,
                    text: Some(text),
                }
            } else {
                What::Pin {
                    by: owned(rest)?,
                    text: None,
                }
            }
        }
        _ => return None,
    };
    Some(Event {
        id: seq,
        time: Time(number(time)?),
        what,
    })
}

/// A decimal number, digits only (no sign, no space).
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A sequence number: as [`number`], and never zero (Redis counts from 1).
fn seq(s: &str) -> Option<u64> {
    number(s).filter(|&n| n > 0)
}

/// Parse a message from `channel`, as the instance `me` received it;
/// `None` if it is not ours or is malformed (logged by the caller, never
/// trusted).
pub fn decode(channel: &str, payload: &str, me: &str) -> Option<Envelope> {
    let room = channel.strip_prefix(PREFIX)?.strip_prefix("room:")?;
    if name(room).is_none() || room.contains(':') {
        return None;
    }
    let (number, rest) = payload.split_once('\t')?;
    let (instance, body) = rest.split_once('\t')?;
    let instance = instance.split_once('#').map_or(instance, |(id, _)| id);
    let seq = seq(number)?;
    Some(Envelope {
        room: room.to_owned(),
        seq,
        mine: instance == me,
        event: decode_body(seq, body)?,
    })
}

/// The publish number `N` of a message `SEQ\tINSTANCE#N\t...` that the
/// instance `me` published; `None` for anyone else's or an untagged one.
pub fn published_number(payload: &str, me: &str) -> Option<u64> {
    let (_, rest) = payload.split_once('\t')?;
    let (instance, _) = rest.split_once('\t')?;
    let (id, n) = instance.split_once('#')?;
    (id == me).then(|| number(n)).flatten()
}

/// Read a history entry, `SEQ\tTIME_MS\tKIND\tFIELDS`; `None` if malformed
/// (or written by an older instance, as plain text).
pub fn decode_history(entry: &str) -> Option<Event> {
    let (number, body) = entry.split_once('\t')?;
    decode_body(seq(number)?, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, what: What) -> Event {
        Event {
            id: 0,
            time: Time(ms),
            what,
        }
    }

    /// Every kind that travels, with awkward text.
    fn samples() -> Vec<Event> {
        let s = |x: &str| x.to_owned();
        vec![
            at(1, What::Join { nick: s("Zoë") }),
            at(2, What::Leave { nick: s("bob") }),
            at(
                3,
                What::Rename {
                    from: s("user-1"),
                    to: s("ann"),
                },
            ),
            // Free text keeps its tabs, colons, newlines and emoji.
            at(
                4,
                What::Chat {
                    nick: s("ann"),
                    text: s("a\tb: c\n\td 🎉"),
                },
            ),
            at(
                5,
                What::Action {
                    nick: s("日本語"),
                    text: s("waves\t\t"),
                },
            ),
            at(
                6,
                What::Private {
                    from: s("ann"),
                    to: s("bob"),
                    text: s("\thi\r\n"),
                },
            ),
            at(u64::MAX, What::Notice { text: s("") }),
            at(
                7,
                What::Role {
                    nick: s("bob"),
                    teacher: true,
                    by: Some(s("MrsK")),
                },
            ),
            at(
                7,
                What::Role {
                    nick: s("bob"),
                    teacher: false,
                    by: None,
                },
            ),
            at(
                8,
                What::Removed {
                    nick: s("Zoë"),
                    by: s("MrsK"),
                    barred: false,
                    minutes: 0,
                },
            ),
            at(
                8,
                What::Removed {
                    nick: s("bob"),
                    by: s("MrsK"),
                    barred: true,
                    minutes: 10_080,
                },
            ),
            at(
                9,
                What::Muted {
                    nick: s("bob"),
                    by: s("MrsK"),
                    minutes: 5,
                },
            ),
            at(
                9,
                What::Unmuted {
                    nick: s("bob"),
                    by: Some(s("MrsK")),
                },
            ),
            at(
                9,
                What::Unmuted {
                    nick: s("bob"),
                    by: None,
                },
            ),
            at(
                10,
                What::Lock {
                    by: s("MrsK"),
                    locked: true,
                },
            ),
            at(
                10,
                What::Lock {
                    by: s("MrsK"),
                    locked: false,
                },
            ),
            at(
                11,
                What::Quiet {
                    by: s("MrsK"),
                    on: true,
                },
            ),
            at(
                11,
                What::Quiet {
                    by: s("MrsK"),
                    on: false,
                },
            ),
            at(
                12,
                What::Slow {
                    by: s("MrsK"),
                    seconds: 600,
                },
            ),
            at(
                12,
                What::Slow {
                    by: s("MrsK"),
                    seconds: 0,
                },
            ),
            at(
                13,
                What::Renamed {
                    from: s("bob"),
                    to: s("robert"),
                    by: s("MrsK"),
                },
            ),
            at(
                14,
                What::Delete {
                    by: s("MrsK"),
                    nick: s("bob"),
                    ids: vec![3, 17, u64::MAX],
                    all: true,
                },
            ),
            at(
                14,
                What::Delete {
                    by: s("MrsK"),
                    nick: s("bob"),
                    ids: vec![4],
                    all: false,
                },
            ),
            at(15, What::Clear { by: s("MrsK") }),
            at(
                16,
                What::Pin {
                    by: s("MrsK"),
                    text: Some(s("read\tpage 4 🎉\n")),
                },
            ),
            at(
                16,
                What::Pin {
                    by: s("MrsK"),
                    text: Some(s("")),
                },
            ),
            at(
                16,
                What::Pin {
                    by: s("MrsK"),
                    text: None,
                },
            ),
            at(
                0,
                What::Chat {
                    nick: s("x"),
                    text: s(""),
                },
            ),
        ]
    }

    #[test]
    fn every_kind_survives_the_trip() {
        for event in samples() {
            let payload = format!("42\tabc\t{}", encode(&event).unwrap());
            let env = decode("chat:room:main", &payload, "abc").unwrap();
            let want = Event {
                id: 42,
                ..event.clone()
            };
            assert_eq!(
                env,
                Envelope {
                    room: "main".into(),
                    seq: 42,
                    mine: true,
                    event: want.clone(),
                }
            );
            let theirs = decode("chat:room:main", &payload, "other").unwrap();
            assert!(!theirs.mine);
            let entry = format!("42\t{}", encode(&event).unwrap());
            assert_eq!(decode_history(&entry), Some(want));
        }
    }

    #[test]
    fn what_is_for_one_member_or_badly_named_does_not_travel() {
        let welcome = What::Welcome {
            nick: "a".into(),
            room: "r".into(),
        };
        let presence = What::Presence {
            members: Vec::new(),
            count: 0,
        };
        for what in [
            welcome,
            presence,
            What::Join { nick: "".into() },
            What::Join {
                nick: "a\tb".into(),
            },
            What::Leave {
                nick: "a\nb".into(),
            },
            What::Chat {
                nick: "a\tb".into(),
                text: "x".into(),
            },
            What::Lock {
                by: "a\tb".into(),
                locked: true,
            },
            What::Removed {
                nick: "".into(),
                by: "MrsK".into(),
                barred: false,
                minutes: 0,
            },
            What::Role {
                nick: "bob".into(),
                teacher: true,
                by: Some(String::new()),
            },
        ] {
            assert_eq!(encode(&at(1, what.clone())), None, "{what:?}");
        }
    }

    #[test]
    fn foreign_or_broken_messages_are_refused() {
        for (channel, payload) in [
            ("other:room:main", "1\ta\t5\tJ\tx"),
            ("chat:room:main:seq", "1\ta\t5\tJ\tx"),
            ("chat:room:", "1\ta\t5\tJ\tx"),
            ("chat:room:main", "x\ta\t5\tJ\tx"),
            ("chat:room:main", "0\ta\t5\tJ\tx"),
            ("chat:room:main", "-1\ta\t5\tJ\tx"),
            ("chat:room:main", "+1\ta\t5\tJ\tx"),
            ("chat:room:main", "99999999999999999999999\ta\t5\tJ\tx"),
            ("chat:room:main", "1\ta\t-5\tJ\tx"),
            ("chat:room:main", "1\ta\t\tJ\tx"),
            ("chat:room:main", "1\ta\t5\tQ\tx"),
            ("chat:room:main", "1\ta\t5\tJ\t"),
            ("chat:room:main", "1\ta\t5\tJ\tx\ty"),
            ("chat:room:main", "1\ta\t5\tN\tx"),
            ("chat:room:main", "1\ta\t5\tC\tx"),
            ("chat:room:main", "1\ta\t5\tC\t\tx"),
            ("chat:room:main", "1\ta\t5\tP\tx\ty"),
            ("chat:room:main", "1\ta\t5\tJ"),
            ("chat:room:main", "1\ta\t5"),
            ("chat:room:main", "1\ta"),
            ("chat:room:main", ""),
            ("chat:room:main", "\t\t\t\t"),
            ("chat:room:main", "1\ta\t5\tJ\tx\u{7}"),
            // A teacher's lines: a bad flag, number or name.
            ("chat:room:main", "1\ta\t5\tK\t2\tMrsK"),
            ("chat:room:main", "1\ta\t5\tK\t1\t"),
            ("chat:room:main", "1\ta\t5\tH\t1\tMrs\tK"),
            ("chat:room:main", "1\ta\t5\tW\t99999999999\tMrsK"),
            ("chat:room:main", "1\ta\t5\tW\t-1\tMrsK"),
            ("chat:room:main", "1\ta\t5\tX\t1\tx\tMrsK\tbob"),
            ("chat:room:main", "1\ta\t5\tX\t1\t5\tMrsK"),
            ("chat:room:main", "1\ta\t5\tM\t5\tMrsK\tbob\tx"),
            ("chat:room:main", "1\ta\t5\tO\tyes\tMrsK\tbob"),
            ("chat:room:main", "1\ta\t5\tU\tbob"),
            ("chat:room:main", "1\ta\t5\tD\t1\t3,x\tMrsK\tbob"),
            ("chat:room:main", "1\ta\t5\tD\t1\t3,,4\tMrsK\tbob"),
            ("chat:room:main", "1\ta\t5\tE\t"),
            ("chat:room:main", "1\ta\t5\tI\t1\tMrsK"),
            ("chat:room:main", "1\ta\t5\tI\t0\tMrsK\tx"),
            ("chat:room:main", "1\ta\t5\tR\tMrsK\tbob"),
        ] {
            assert_eq!(decode(channel, payload, "a"), None, "{payload:?}");
        }
        // An older instance's plain-text history line is skipped.
        assert_eq!(decode_history("ann: hello"), None);
        assert_eq!(decode_history(""), None);
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap deterministic fuzz: every prefix of a few messages, and
        // bytes from a tiny generator, through both decoders.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut inputs: Vec<String> = Vec::new();
        for event in samples() {
            let full = format!("7\tme\t{}", encode(&event).unwrap());
            inputs.extend(full.char_indices().map(|(i, _)| full[..i].to_owned()));
        }
        let alphabet = [
            '1', '0', '\t', 'C', 'J', 'N', 'P', 'A', 'L', 'S', 'x', 'é', '\n', '-', 'O', 'X', 'M',
            'U', 'K', 'H', 'W', 'R', 'D', 'E', 'I', ',',
        ];
        for _ in 0..2000 {
            let len = (state % 24) as usize;
            let s: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            inputs.push(s);
        }
        for input in &inputs {
            let _ = decode("chat:room:main", input, "me");
            let _ = decode(input, input, "me");
            let _ = decode_history(input);
        }
    }

    #[test]
    fn a_tagged_message_is_ours_with_its_number() {
        let body = encode(&at(5, What::Notice { text: "x".into() })).unwrap();
        let payload = format!("3\tabc{}\t{body}", tag(17));
        assert!(decode("chat:room:main", &payload, "abc").unwrap().mine);
        assert!(!decode("chat:room:main", &payload, "abd").unwrap().mine);
        assert_eq!(published_number(&payload, "abc"), Some(17));
        assert_eq!(published_number(&payload, "abd"), None);
        assert_eq!(published_number(&format!("3\tabc\t{body}"), "abc"), None);
        assert_eq!(published_number(&format!("3\tabc#x\t{body}"), "abc"), None);
    }

    #[test]
    fn a_session_digest_is_stable_and_hides_the_id() {
        let id = "abcdefghijklmnop-0123";
        assert_eq!(session_digest(id), session_digest(id));
        assert_ne!(session_digest(id), session_digest("abcdefghijklmnop-0124"));
        assert_eq!(session_digest(id).len(), 16);
        assert!(!session_digest(id).contains("abc"));
    }

    #[test]
    fn keys_share_the_room_channel() {
        let keys = RoomKeys::new("math");
        assert_eq!(room_channel("math"), "chat:room:math");
        assert_eq!(keys.seq, "chat:room:math:seq");
        assert_eq!(keys.names, "chat:room:math:names");
        assert_eq!(lease_key("ab"), "chat:instance:ab");
        assert_eq!(holdings_key("ab"), "chat:instance:ab:members");
        assert!(is_sync_channel(&sync_channel("ab")));
        assert_eq!(decode(&sync_channel("ab"), "1\tab\t5\tJ\tx", "ab"), None);
        assert!(!is_sync_channel(&room_channel("ab")));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// Any record: an event or none, never a panic; what decodes
            /// encodes back to the same record.
            #[test]
            fn decode_never_panics_and_round_trips(
                record in "[0-9]{0,3}\t(me|other)?\t[0-9]{0,4}\t[CAPJLNSX]\t[a-z\t\u{0}-\u{1f} ]{0,20}",
                any_text in any::<String>(),
            ) {
                for text in [&record, &any_text] {
                    if let Some(envelope) = decode("chat:room:chat", text, "me") {
                        if let Some(body) = encode(&envelope.event) {
                            let again = decode_history(&format!("{}\t{body}", envelope.seq));
                            prop_assert_eq!(again.as_ref(), Some(&envelope.event));
                        }
                    }
                    let _ = decode_history(text);
                }
            }
        }
    }
}
