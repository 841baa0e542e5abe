//! A room's rules, as its teachers set them: the join code, the lock, the
//! bars and mutes (with when they end), quiet, slow mode, the pin and, with
//! `--rooms teachers`, whether a teacher has opened it. Plain data
//! ([`Moderation`], one per room), and how it is kept in the store: each
//! rule is one setting (`key`, `value`, `expires`) the room records as an
//! [`Output::Keep`](super::Output::Keep) and gets back at start
//! ([`Moderation::restore`]). Owns no member: the commands that change the
//! rules are in `teacher.rs`, the lobby in `lobby.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::path::{JoinCode, SessionId};
use crate::event::{Event, Time, What};
use crate::nickname::fold;

/// A member barred from the room (`/ban`).
#[derive(Debug, Clone)]
pub struct Bar {
    pub nick: String,
    /// Its session's digest ([`SessionId::digest`]), if it had one: a
    /// newcomer with that session is barred.
    pub session: Option<String>,
    /// Its address (canonical: an IPv4-mapped IPv6 address is IPv4).
    pub address: IpAddr,
    pub until: Time,
}

/// A member who may not speak (`/mute`), by name.
#[derive(Debug, Clone)]
pub struct Mute {
    pub nick: String,
    pub until: Time,
}

/// One room's rules.
#[derive(Debug, Default)]
pub struct Moderation {
    pub code: Option<JoinCode>,
    pub locked: bool,
    /// By the barred member's case-folded name.
    pub bars: HashMap<String, Bar>,
    /// By the muted member's case-folded name.
    pub mutes: HashMap<String, Mute>,
    pub quiet: bool,
    /// Slow mode: a student's lines at least this many seconds apart (0: off).
    pub slow: u32,
    /// The pinned line, as the room heard it.
    pub pin: Option<Arc<Event>>,
    /// With `--rooms teachers`: a teacher has opened this room.
    pub opened: bool,
}

/// The store keys (the bars and mutes add `:` and the folded name).
pub const CODE: &str = "code";
pub const LOCK: &str = "lock";
pub const QUIET: &str = "quiet";
pub const SLOW: &str = "slow";
pub const PIN: &str = "pin";
pub const OPEN: &str = "open";
pub const BAR: &str = "bar:";
pub const MUTE: &str = "mute:";

/// An address as the same host however written (`::ffff:1.2.3.4` is
/// `1.2.3.4`).
pub fn host(peer: SocketAddr) -> IpAddr {
    peer.ip().to_canonical()
}

/// Whole minutes from `now` to `until`, rounded up (at least 1).
pub fn minutes_left(now: Time, until: Time) -> u64 {
    until.since(now).as_millis().div_ceil(60_000).max(1) as u64
}

/// `minutes` from `now`.
pub fn after_minutes(now: Time, minutes: u64) -> Time {
    now.plus(Duration::from_secs(minutes.saturating_mul(60)))
}

impl Moderation {
    /// The rules an earlier run kept (`settings` as the store gives them:
    /// unexpired), as of `now`. Unreadable values are skipped.
    pub fn restore(settings: &[(String, String)], now: Time) -> Moderation {
        let mut m = Moderation::default();
        for (key, value) in settings {
            match key.as_str() {
                CODE => m.code = JoinCode::parse(value),
                LOCK => m.locked = value == "1",
                QUIET => m.quiet = value == "1",
                SLOW => m.slow = value.parse().unwrap_or(0),
                OPEN => m.opened = value == "1",
                PIN => {
                    if let Some((by, text)) = value.split_once('\t') {
                        m.pin = Some(Arc::new(Event {
                            id: 0,
                            time: now,
                            what: What::Pin {
                                by: by.to_owned(),
                                text: Some(text.to_owned()),
                            },
                        }));
                    }
                }
                _ => {
                    if let Some(bar) = key.strip_prefix(BAR).and_then(|_| parse_bar(value)) {
                        if bar.until > now {
                            m.bars.insert(fold(&bar.nick), bar);
                        }
                    } else if let Some(mute) =
                        key.strip_prefix(MUTE).and_then(|_| parse_mute(value))
                    {
                        if mute.until > now {
                            m.mutes.insert(fold(&mute.nick), mute);
                        }
                    }
                }
            }
        }
        m
    }

    /// The rules as the store keeps them (the inverse of
    /// [`Moderation::restore`]): for a room evicted from memory, so it
    /// gets them back when it opens again.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut all = Vec::new();
        let mut put = |key: &str, value: String| all.push((key.to_owned(), value));
        if let Some(code) = &self.code {
            put(CODE, code.as_str().to_owned());
        }
        for (on, key) in [
            (self.locked, LOCK),
            (self.quiet, QUIET),
            (self.opened, OPEN),
        ] {
            if on {
                put(key, "1".to_owned());
            }
        }
        if self.slow > 0 {
            put(SLOW, self.slow.to_string());
        }
        if let Some(What::Pin {
            by,
            text: Some(text),
        }) = self.pin.as_ref().map(|p| &p.what)
        {
            put(PIN, format!("{by}\t{text}"));
        }
        for (name, bar) in &self.bars {
            put(&format!("{BAR}{name}"), bar_value(bar));
        }
        for (name, mute) in &self.mutes {
            put(&format!("{MUTE}{name}"), mute_value(mute));
        }
        all
    }

    /// Whether a newcomer with this session and address is barred at `now`.
    pub fn barred(&self, session: Option<&SessionId>, peer: SocketAddr, now: Time) -> bool {
        let address = host(peer);
        self.bars.values().any(|bar| {
            bar.until > now
                && (bar.address == address
                    || session.is_some_and(|s| bar.session.as_deref() == Some(&*s.digest())))
        })
    }

    /// Until when member `nick` is muted, if it is at `now`.
    pub fn muted(&self, nick: &str, now: Time) -> Option<Time> {
        self.mutes
            .get(&fold(nick))
            .map(|m| m.until)
            .filter(|&until| until > now)
    }

    /// When the next mute or bar ends.
    pub fn next_deadline(&self) -> Option<Time> {
        let mutes = self.mutes.values().map(|m| m.until);
        let bars = self.bars.values().map(|b| b.until);
        mutes.chain(bars).min()
    }
}

/// A bar as the store keeps it: `NICK\tADDRESS\tUNTIL\tDIGEST` (the
/// session's digest, never the session ID).
pub fn bar_value(bar: &Bar) -> String {
    let session = bar.session.as_deref().unwrap_or("");
    format!("{}\t{}\t{}\t{session}", bar.nick, bar.address, bar.until.0)
}

fn parse_bar(value: &str) -> Option<Bar> {
    let mut parts = value.split('\t');
    let nick = parts.next()?.to_owned();
    let address = parts.next()?.parse().ok()?;
    let until = Time(parts.next()?.parse().ok()?);
    let session = parts
        .next()
        .filter(|d| d.len() == 16 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    Some(Bar {
        nick,
        session,
        address,
        until,
    })
}

/// A mute as the store keeps it: `NICK\tUNTIL`.
pub fn mute_value(mute: &Mute) -> String {
    format!("{}\t{}", mute.nick, mute.until.0)
}

fn parse_mute(value: &str) -> Option<Mute> {
    let (nick, until) = value.split_once('\t')?;
    Some(Mute {
        nick: nick.to_owned(),
        until: Time(until.parse().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_survive_the_store_and_expired_ones_do_not() {
        let now = Time(1_000_000);
        let bar = Bar {
            nick: "Bob".into(),
            session: SessionId::parse("aaaaaaaaaaaaaaaaaaaa").map(|s| s.digest()),
            address: "10.0.0.7".parse().unwrap(),
            until: after_minutes(now, 5),
        };
        let old = Mute {
            nick: "eve".into(),
            until: Time(10),
        };
        let settings = vec![
            (CODE.to_owned(), "K7Q2XH".to_owned()),
            (LOCK.to_owned(), "1".to_owned()),
            (SLOW.to_owned(), "30".to_owned()),
            (PIN.to_owned(), "MrsK\tread page 4".to_owned()),
            (format!("{BAR}bob"), bar_value(&bar)),
            (format!("{MUTE}eve"), mute_value(&old)),
            ("bar:x".to_owned(), "garbage".to_owned()),
        ];
        let m = Moderation::restore(&settings, now);
        assert_eq!(m.code.as_ref().map(JoinCode::as_str), Some("K7Q2XH"));
        assert!(m.locked && !m.quiet && m.slow == 30);
        assert!(m.pin.is_some());
        assert!(m.mutes.is_empty(), "an expired mute is gone");
        let v4: SocketAddr = "10.0.0.7:1".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:10.0.0.7]:2".parse().unwrap();
        let other: SocketAddr = "10.0.0.8:1".parse().unwrap();
        assert!(m.barred(None, v4, now));
        assert!(m.barred(None, mapped, now), "the same host however written");
        assert!(!m.barred(None, other, now));
        let session = SessionId::parse("aaaaaaaaaaaaaaaaaaaa");
        assert!(m.barred(session.as_ref(), other, now), "by session");
        assert!(
            !bar_value(&bar).contains("aaaaaaaaaaaaaaaaaaaa"),
            "never the ID itself"
        );
        assert!(!m.barred(None, v4, bar.until), "over once it ends");
        let again = Moderation::restore(&m.settings(), now);
        assert!(again.locked && again.slow == 30 && again.pin.is_some());
        assert!(again.barred(None, v4, now));
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes_left(Time(0), Time(1)), 1);
        assert_eq!(minutes_left(Time(0), Time(60_000)), 1);
        assert_eq!(minutes_left(Time(0), Time(60_001)), 2);
        assert_eq!(minutes_left(Time(0), after_minutes(Time(0), 57)), 57);
    }
}
