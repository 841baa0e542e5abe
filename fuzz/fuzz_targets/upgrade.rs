//! The upgrade checks (`http::upgrade::check`) on any parsed head: never
//! panic; an upgrade keeps the head's target; a refusal's reason is one
//! line, as it goes into the answer's body and the log.
#![no_main]
use chat_server::fuzz_api::{check_upgrade, log_safe, parse_head, OriginPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Some((head, len))) = parse_head(data) else {
        return;
    };
    let target = head.target.clone();
    let allowed = ["https://chat.example.org".to_owned()];
    let policy = OriginPolicy::new(&allowed, 8080).unwrap();
    match check_upgrade(head, data[len..].to_vec(), &policy) {
        Ok(upgrade) => {
            assert_eq!(upgrade.target, target);
            assert_eq!(upgrade.rest, &data[len..]);
            assert!(upgrade.subprotocols.iter().all(|p| !p.is_empty()));
        }
        Err(refusal) => {
            assert!(
                matches!(refusal.status, 400 | 403 | 405 | 426),
                "{refusal:?}"
            );
            assert!(!refusal.why.contains(['\r', '\n']), "{refusal:?}");
            assert!(!log_safe(&refusal.why).contains(['\r', '\n', '\u{1b}', '\u{85}']));
        }
    }
});
