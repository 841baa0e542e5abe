//! The one event model: what happens in a room, as typed data, before it is
//! rendered for a wire format. Plain data; no thread, no I/O. The room core
//! (`room`) makes events, the broadcaster renders them (`protocol`: plain
//! text and JSON), the cluster (`cluster`, with `--redis`) carries them
//! between instances and the store keeps them. Nothing here imports any of
//! those, so each of them can import this.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A moment, in milliseconds since the Unix epoch (UTC). The core never
/// reads a clock: the broadcaster passes the time in with every input
/// (see `broadcaster::Clock`), and tests pass whatever time they like.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u64);

impl Time {
    /// `ms` milliseconds later (saturating).
    pub fn plus(self, after: Duration) -> Time {
        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(ms))
    }

    /// How long from `earlier` to this moment (zero if it is not earlier).
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// RFC 3339, UTC, with milliseconds: `2026-12-06T10:00:00.123Z`.
    pub fn rfc3339(self) -> String {
        let at = UNIX_EPOCH + Duration::from_millis(self.0);
        humantime::format_rfc3339_millis(at).to_string()
    }

    /// The moment `at` (for the broadcaster's clock; the core never calls it).
    pub fn from_system(at: SystemTime) -> Time {
        let ms = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Time(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// One thing that happened, for some or all of a room's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The room's sequence number: strictly increasing within a room (the
    /// same on every instance with `--redis`, where Redis gives it). Zero
    /// for what is not a room event: private lines, notices, the welcome
    /// and presence lines a newcomer alone gets.
    pub id: u64,
    /// When it happened (the server's time).
    pub time: Time,
    pub what: What,
}

/// What happened. The plain-text wording of each is in `protocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// `nick: text`; kept in the history.
    Chat { nick: String, text: String },
    /// `* nick text` (`/me`); kept in the history.
    Action { nick: String, text: String },
    /// `from -> to: text` (`/msg`), to those two alone; never kept.
    Private {
        from: String,
        to: String,
        text: String,
    },
    /// ` .... nick has joined.`
    Join { nick: String },
    /// ` .... nick has left.`
    Leave { nick: String },
    /// ` .... from is now to.`
    Rename { from: String, to: String },
    /// ` .... you are NICK.`, to a newcomer alone.
    Welcome { nick: String, room: String },
    /// ` .... here now (N): A, B.`: who is in the room, in order of arrival.
    Presence { members: Vec<Present>, count: usize },
    /// A line for one member (a refusal, `/help`, slow down) or, rarely,
    /// the whole room: ` .... text`.
    Notice { text: String },

    // ---- a teacher's room lines (`room::teacher`); `by` is the teacher
    // (`None`: the server, e.g. a mute that ran out). JSON `type` in
    // brackets.
    /// ` .... NICK is a teacher here.` or ` .... NICK is no longer a
    /// teacher here.` (`role`, with `role`: `"teacher"` or `"student"`).
    Role {
        nick: String,
        teacher: bool,
        by: Option<String>,
    },
    /// ` .... NICK was removed by BY.` (`/kick`; `removed`) or ` .... NICK
    /// was barred by BY.` (`/ban`; `barred`).
    Removed {
        nick: String,
        by: String,
        barred: bool,
        /// How long a bar lasts (0 for a kick): every instance bars alike.
        minutes: u64,
    },
    /// ` .... NICK was muted by BY.` (`mute`, with `minutes`).
    Muted {
        nick: String,
        by: String,
        minutes: u64,
    },
    /// ` .... NICK can speak again.` (`unmute`; `by` absent when the time
    /// ran out).
    Unmuted { nick: String, by: Option<String> },
    /// ` .... BY locked the room.` / ` .... BY unlocked the room.` (`lock`,
    /// with `locked`).
    Lock { by: String, locked: bool },
    /// ` .... only teachers can speak now.` / ` .... everyone can speak
    /// again.` (`quiet`, with `on`).
    Quiet { by: String, on: bool },
    /// ` .... slow mode: one line every N s.` / ` .... slow mode is off.`
    /// (`slow`, with `seconds`, 0 for off).
    Slow { by: String, seconds: u32 },
    /// ` .... FROM is now TO.`, a teacher's `/rename` (`rename`, with `by`).
    Renamed {
        from: String,
        to: String,
        by: String,
    },
    /// ` .... BY removed a line by NICK.` (`/delete`) or ` .... BY removed
    /// NICK's lines.` (`/purge`, `all`) (`delete`, with `ids`).
    Delete {
        by: String,
        nick: String,
        ids: Vec<u64>,
        all: bool,
    },
    /// ` .... BY cleared the history.` (`clear`).
    Clear { by: String },
    /// ` .... pinned by BY: TEXT` / ` .... BY unpinned the message.` (`pin`,
    /// with `text`, `null` when unpinned).
    Pin { by: String, text: Option<String> },
}

/// One name in a presence line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub nick: String,
    /// A teacher here (shown `@NICK`).
    pub teacher: bool,
}

impl Event {
    /// A notice (not a room event: no id).
    pub fn notice(time: Time, text: impl Into<String>) -> Event {
        Event {
            id: 0,
            time,
            what: What::Notice { text: text.into() },
        }
    }

    /// Whether a newcomer gets it with the history (chat and `/me` lines).
    pub fn is_kept(&self) -> bool {
        matches!(self.what, What::Chat { .. } | What::Action { .. })
    }
}

// ---------------------------------------------------------------------
// Between instances (`--redis`): what the cluster threads hand back to the
// broadcaster, which passes it to the core as inputs.

/// A room event as it came back from Redis, in the room's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub room: String,
    /// The room's sequence number Redis gave it (the event's `id`).
    pub seq: u64,
    /// Whether this instance published it.
    pub mine: bool,
    pub event: Event,
}

/// The answer to a nickname claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The name is ours, taken at this room sequence number (its place in
    /// the arrival order); its join or rename is published.
    Granted(u64),
    /// The session's earlier name (free again: its instance died) was
    /// claimed instead of the one proposed, at this sequence number.
    Restored(u64, String),
    /// This instance already held it (after a resync).
    Held,
    /// Another instance's member holds it.
    Taken,
    /// Redis is away: decide locally.
    Offline,
}

/// One room as Redis holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomState {
    pub room: String,
    /// The sequence number of the room's last event: the members and the
    /// history are as of it.
    pub seq: u64,
    /// Who is in the room, on every instance, in order of arrival.
    pub here: Vec<Holder>,
    /// The room's last chat and `/me` lines, oldest first, with their ids.
    pub history: Vec<Event>,
}

/// A member, and whether this instance holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub mine: bool,
    pub nick: String,
}
