//! Which room a connection asks for, read from its request target. Runs on
//! the client's reader thread during the handshake, before anything reaches
//! the broadcaster: a bad path is refused with 404 there. Owns nothing.
//!
//! `/`, `/chat`, `/ws` and `/ws/` are the main room; `/NAME` and `/ws/NAME`
//! are room NAME: 1 to 32 of `a-z 0-9 - _`, matched ignoring case and shown
//! lowercase. `ws` and the page server's own paths are not room names.
//! `?session=ID` (16 to 64 of `A-Z a-z 0-9 - _`) asks to resume; a bad ID
//! is treated as none.

use std::fmt;

/// The main room's name: `/` and `/chat` both lead there.
pub const MAIN_ROOM: &str = "chat";
/// Longest room name, in characters.
pub const MAX_ROOM_NAME: usize = 32;
/// Paths that are never rooms: the proxy prefix (`/ws/NAME` behind a
/// proxy) and the page server's own paths (`/healthz`, `/metrics`).
pub const RESERVED: [&str; 3] = ["ws", "healthz", "metrics"];
/// Shortest and longest session ID, in characters.
pub const SESSION_CHARS: std::ops::RangeInclusive<usize> = 16..=64;

/// The 404 answer to a path that is no room.
pub const NOT_A_ROOM: &str = "no such room: a room is /NAME, NAME 1 to 32 of a-z 0-9 - _";

/// A room's name: valid and lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

impl RoomName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The main room.
    pub fn main() -> RoomName {
        RoomName(MAIN_ROOM.to_owned())
    }

    /// `name` as a room name (lowercased), if it is one.
    pub fn parse(name: &str) -> Option<RoomName> {
        let ok = (1..=MAX_ROOM_NAME).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let name = name.to_ascii_lowercase();
        (ok && !RESERVED.contains(&name.as_str())).then_some(RoomName(name))
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resume secret. Never logged: its `Debug` hides it, and it has no
/// `Display`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// `id` as a session ID, if it is one.
    pub fn parse(id: &str) -> Option<SessionId> {
        let ok = SESSION_CHARS.contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionId(id.to_owned()))
    }

    /// The secret itself, for the Redis layer to digest (never to log).
    /// What a bar keeps of the session, in memory and in the store: a
    /// 64-bit SipHash of it, in hex, never the ID itself (the ID is a
    /// secret: whoever has it can resume as that member).
    pub fn digest(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        "chat-server bar".hash(&mut hasher);
        self.0.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    pub fn as_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(..)")
    }
}

/// The characters of a join code (no `0 O 1 I L`, easy to read out).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// A join code's length.
pub const CODE_CHARS: usize = 6;

/// A room's join code (`/code`, `?code=`): [`CODE_CHARS`] of
/// [`CODE_ALPHABET`], matched ignoring case. Never logged: its `Debug`
/// hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinCode(String);

impl JoinCode {
    /// `code` as a join code (uppercased), if it is one.
    pub fn parse(code: &str) -> Option<JoinCode> {
        let code = code.to_ascii_uppercase();
        let ok = code.len() == CODE_CHARS && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
        ok.then_some(JoinCode(code))
    }

    /// The code, for the teachers and the store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for JoinCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinCode(..)")
    }
}

/// Where a connection goes: its room, the session it wants back and the
/// join code it gives (`?code=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub room: RoomName,
    pub session: Option<SessionId>,
    pub code: Option<JoinCode>,
}

impl Place {
    /// Read a request target (`/NAME?session=ID`). `None`: no such room
    /// path (answer 404).
    pub fn from_target(target: &str) -> Option<Place> {
        let (path, query) = path_and_query(target);
        let room = room_of_path(path)?;
        let session = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("session="))
            .and_then(SessionId::parse);
        let code = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("code="))
            .and_then(JoinCode::parse);
        Some(Place {
            room,
            session,
            code,
        })
    }
}

/// A request target's path and query. A target in absolute form
/// (`http://host/x?y`, which RFC 9112 section 3.2.2 says a server must
/// accept) counts by its path (`/` if it has none) and query.
fn path_and_query(target: &str) -> (&str, &str) {
    if let Some((scheme, rest)) = target.split_once("://") {
        if ["http", "https", "ws", "wss"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            let (path, query) = match rest.find(['/', '?']) {
                Some(at) => rest[at..].split_once('?').unwrap_or((&rest[at..], "")),
                None => ("", ""),
            };
            return (if path.is_empty() { "/" } else { path }, query);
        }
    }
    target.split_once('?').unwrap_or((target, ""))
}

/// The room a path names (see the module doc), if any.
pub fn room_of_path(path: &str) -> Option<RoomName> {
    let rest = path.strip_prefix('/')?;
    let rest = match rest.strip_prefix("ws") {
        Some("") | Some("/") => return Some(RoomName::main()),
        Some(name) if name.starts_with('/') => &name[1..],
        _ => rest,
    };
    if rest.is_empty() {
        return Some(RoomName::main());
    }
    RoomName::parse(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(target: &str) -> Option<String> {
        Place::from_target(target).map(|p| p.room.to_string())
    }

    #[test]
    fn paths_pick_rooms() {
        for main in [
            "/",
            "/chat",
            "/CHAT",
            "/ws",
            "/ws/",
            "/ws/chat",
            "/?x=1",
            "http://127.0.0.1:12345/",
            "HTTP://h",
            "ws://h?session=x",
        ] {
            assert_eq!(room(main).as_deref(), Some("chat"), "{main}");
        }
        assert_eq!(room("/Maths-2_b").as_deref(), Some("maths-2_b"));
        assert_eq!(room("/ws/maths").as_deref(), Some("maths"));
        assert_eq!(room("https://h:1/ws/maths?a").as_deref(), Some("maths"));
        let long = "a".repeat(32);
        assert_eq!(room(&format!("/{long}")), Some(long.clone()));
        for bad in [
            "",
            "chat",
            "/a/b",
            "/maths/",
            "/ws/ws",
            "/ws/a/b",
            "/healthz",
            "/metrics",
            "/a.b",
            "/caf%C3%A9",
            "/café",
            "//",
            &format!("/{long}a"),
            "ftp://x/chat",
        ] {
            assert_eq!(room(bad), None, "{bad}");
        }
    }

    #[test]
    fn join_codes() {
        let code = |t: &str| Place::from_target(t).and_then(|p| p.code);
        assert_eq!(code("/?code=k7q2xh").unwrap().as_str(), "K7Q2XH");
        let both = Place::from_target("/maths?session=aaaaaaaaaaaaaaaaaaaa&code=K7Q2XH").unwrap();
        assert!(both.session.is_some());
        assert_eq!(both.code.unwrap().as_str(), "K7Q2XH");
        for bad in ["/?code=K7Q2X", "/?code=K7Q2XHH", "/?code=O0O0O0", "/?code="] {
            assert!(code(bad).is_none(), "{bad}");
        }
        assert_eq!(
            format!("{:?}", JoinCode::parse("K7Q2XH")),
            "Some(JoinCode(..))"
        );
    }

    #[test]
    fn session_ids() {
        let id = "abcDEF0123456789-_xy";
        let place = Place::from_target(&format!("/maths?session={id}")).unwrap();
        assert_eq!(place.session, SessionId::parse(id));
        assert!(place.session.is_some());
        let other = Place::from_target(&format!("/?a=b&session={id}&c")).unwrap();
        assert_eq!(other.session, SessionId::parse(id));
        for bad in [
            "short",
            &"x".repeat(65),
            "has space 0123456789",
            "with.dot.0123456789",
        ] {
            let place = Place::from_target(&format!("/?session={bad}")).unwrap();
            assert_eq!(place.session, None, "{bad}");
        }
        assert_eq!(
            format!("{:?}", SessionId::parse(id).unwrap()),
            "SessionId(..)"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// Any target: a place or none, never a panic; a room name is
            /// valid, lowercase and parses back to itself.
            #[test]
            fn a_room_name_is_valid_and_stable(
                target in "(/|/ws/|http://h/|wss://h)?[a-zA-Z0-9_/?&=%.-]{0,40}(session=[A-Za-z0-9_-]{0,70})?",
                any_text in any::<String>(),
            ) {
                for text in [&target, &any_text] {
                    if let Some(place) = Place::from_target(text) {
                        let name = place.room.as_str();
                        prop_assert!((1..=MAX_ROOM_NAME).contains(&name.len()));
                        prop_assert_eq!(name, name.to_ascii_lowercase());
                        prop_assert_eq!(RoomName::parse(name), Some(place.room.clone()));
                        if let Some(session) = &place.session {
                            let again = SessionId::parse(session.as_secret());
                            prop_assert_eq!(again.as_ref(), Some(session));
                        }
                    }
                }
            }
        }
    }
}
