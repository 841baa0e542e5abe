//! The room path and session parser (`room::path`): never panics; a room
//! name is valid, lowercase and parses back to itself.
#![no_main]
use chat_server::fuzz_api::{Place, RoomName, SessionId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(place) = Place::from_target(&text) {
        let name = place.room.as_str();
        assert!((1..=32).contains(&name.len()), "{name}");
        assert!(name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
        assert_eq!(RoomName::parse(name).as_ref(), Some(&place.room));
        if let Some(session) = &place.session {
            assert_eq!(
                SessionId::parse(session.as_secret()).as_ref(),
                Some(session)
            );
        }
    }
    if let Some(room) = RoomName::parse(&text) {
        assert_eq!(room.as_str(), text.to_ascii_lowercase());
    }
});
