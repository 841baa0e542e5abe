//! The origin parser and policy (`http::origin`): never panic, and an
//! origin's serialization parses back to the same origin.
#![no_main]
use chat_server::fuzz_api::{Origin, OriginPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (origin, host) = text.split_once('\n').unwrap_or((&text, "127.0.0.1:12345"));
    if let Ok(parsed) = Origin::parse(origin) {
        let shown = parsed.to_string();
        assert_eq!(Origin::parse(&shown).as_ref(), Ok(&parsed), "{shown}");
        assert!(!shown.contains(['\r', '\n', '/', '?', '#', '@']) || shown.contains("://"));
    }
    let policy = OriginPolicy::new(&["http://a.example:8443".to_owned()], 8080).unwrap();
    let allowed = policy.allows(Some(origin), host);
    // `*` allows all; no Origin (not a browser) is allowed.
    assert!(OriginPolicy::new(&["*".to_owned()], 8080)
        .unwrap()
        .allows(Some(origin), host));
    assert!(policy.allows(None, host));
    // Whatever is allowed parses as an origin.
    assert!(!allowed || Origin::parse(origin).is_ok());
});
