//! What instances tell each other through Redis: the key names, and the
//! text of one published room event. Pure functions; no thread, no I/O.
//!
//! A published message is `SEQ\tINSTANCE\tKIND\tFIELDS`, on the channel
//! `chat:room:ROOM`. `SEQ` is the room's counter, given by Redis inside the
//! script that publishes (so a room's sequence numbers and its delivery
//! order agree); `INSTANCE` is the publisher's id. Nicknames and room names
//! never hold a tab (issue 11's rules), so only the last field, free text,
//! may; it is split off last.

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

/// The keys a room keeps in Redis.
pub struct RoomKeys {
    /// Counter: the sequence number of the room's last published event.
    pub seq: String,
    /// Hash: lowercase nickname -> `INSTANCE\tNickname` (who holds it).
    pub names: String,
    /// Sorted set: lowercase nickname, scored by the sequence number of
    /// its join, so presence lists members in order of arrival.
    pub here: String,
    /// List: the room's last chat lines, oldest first.
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

/// Set of `ROOM\tlowercase-nickname` an instance holds, for its reaper.
pub fn holdings_key(instance: &str) -> String {
    format!("{PREFIX}instance:{instance}:members")
}

/// The key under which a nickname is unique in a room (issue 11: unique
/// ignoring case): lower, upper, then lower again, which folds what one
/// mapping alone does not (`ß`/`ẞ`/`SS`, final `ς`/`σ`), so every pair
/// Unicode's full case folding makes equal comes out equal. The room uses
/// it for its own members too.
pub fn name_key(nick: &str) -> String {
    nick.to_lowercase().to_uppercase().to_lowercase()
}

/// How long Redis remembers which name a session last had, for a resume
/// after its instance died (issue 15, point 4).
pub const SESSION_MEMORY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What Redis keeps of a session ID (a secret, never stored or logged as
/// is): a 64-bit SipHash of it, in hex. Enough to find a session's last
/// name again; not enough to resume as it (the ID itself is still needed).
pub fn session_digest(session: &str) -> String {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(session);
    format!("{hash:016x}")
}

/// What happened in a room, as one instance tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A member arrived on the publishing instance.
    Joined { nick: String },
    /// A member left (or its instance was reaped).
    Left { nick: String },
    /// A member took a new nickname.
    Renamed { old: String, new: String },
    /// A line for everyone, kept in the history: `nick: text` or
    /// `* nick action`, exactly as members see it.
    Line { text: String },
    /// A private line: only `from` and `to` see `text`.
    Private {
        from: String,
        to: String,
        text: String,
    },
}

impl Record {
    /// `KIND\tFIELDS`, as the publish script sends it after `SEQ\tINSTANCE\t`.
    pub fn encode(&self) -> String {
        match self {
            Record::Joined { nick } => format!("J\t{nick}"),
            Record::Left { nick } => format!("L\t{nick}"),
            Record::Renamed { old, new } => format!("N\t{old}\t{new}"),
            Record::Line { text } => format!("C\t{text}"),
            Record::Private { from, to, text } => format!("P\t{from}\t{to}\t{text}"),
        }
    }

    fn decode(kind_and_fields: &str) -> Option<Record> {
        let (kind, rest) = kind_and_fields.split_once('\t')?;
        let no_tab = |s: &str| (!s.is_empty() && !s.contains('\t')).then(|| s.to_owned());
        Some(match kind {
            "J" => Record::Joined {
                nick: no_tab(rest)?,
            },
            "L" => Record::Left {
                nick: no_tab(rest)?,
            },
            "N" => {
                let (old, new) = rest.split_once('\t')?;
                Record::Renamed {
                    old: no_tab(old)?,
                    new: no_tab(new)?,
                }
            }
            "C" => Record::Line {
                text: rest.to_owned(),
            },
            "P" => {
                let (from, rest) = rest.split_once('\t')?;
                let (to, text) = rest.split_once('\t')?;
                Record::Private {
                    from: no_tab(from)?,
                    to: no_tab(to)?,
                    text: text.to_owned(),
                }
            }
            _ => return None,
        })
    }
}

/// One published event as a subscriber receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub room: String,
    /// The room's sequence number for this event (1, 2, ...; gapless per
    /// room while Redis keeps its data).
    pub seq: u64,
    /// The id of the instance that published it (for a reaped member's
    /// leave, the dead instance's id).
    pub instance: String,
    pub record: Record,
}

impl Envelope {
    /// Parse a message from `channel`; `None` if it is not ours or is
    /// malformed (logged by the caller, never trusted).
    pub fn decode(channel: &str, payload: &str) -> Option<Envelope> {
        let room = channel.strip_prefix(PREFIX)?.strip_prefix("room:")?;
        if room.is_empty() || room.contains(':') {
            return None;
        }
        let (seq, rest) = payload.split_once('\t')?;
        let (instance, rest) = rest.split_once('\t')?;
        Some(Envelope {
            room: room.to_owned(),
            seq: seq.parse().ok()?,
            instance: instance.to_owned(),
            record: Record::decode(rest)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(record: Record) {
        let payload = format!("42\tabc\t{}", record.encode());
        let env = Envelope::decode("chat:room:main", &payload).unwrap();
        assert_eq!(
            env,
            Envelope {
                room: "main".into(),
                seq: 42,
                instance: "abc".into(),
                record
            }
        );
    }

    #[test]
    fn every_record_survives_the_trip() {
        round_trip(Record::Joined {
            nick: "Zoë".into()
        });
        round_trip(Record::Left { nick: "bob".into() });
        round_trip(Record::Renamed {
            old: "user-1".into(),
            new: "ann".into(),
        });
        // Free text keeps its tabs and colons.
        round_trip(Record::Line {
            text: "ann: a\tb: c".into(),
        });
        round_trip(Record::Private {
            from: "ann".into(),
            to: "bob".into(),
            text: "ann -> bob: \thi".into(),
        });
    }

    #[test]
    fn foreign_or_broken_messages_are_refused() {
        for (channel, payload) in [
            ("other:room:main", "1\ta\tJ\tx"),
            ("chat:room:main:seq", "1\ta\tJ\tx"),
            ("chat:room:", "1\ta\tJ\tx"),
            ("chat:room:main", "x\ta\tJ\tx"),
            ("chat:room:main", "1\ta\tQ\tx"),
            ("chat:room:main", "1\ta\tJ\t"),
            ("chat:room:main", "1\ta\tJ\tx\ty"),
            ("chat:room:main", "1\ta\tN\tx"),
            ("chat:room:main", "1\ta"),
        ] {
            assert_eq!(Envelope::decode(channel, payload), None, "{payload}");
        }
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
    }
}
