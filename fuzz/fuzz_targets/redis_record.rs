//! The Redis record decoder (`cluster::wire`): never panics on what
//! another instance (or anyone with access to Redis) published, and what
//! it decodes encodes back to the same record.
#![no_main]
use chat_server::fuzz_api::{decode_history, decode_record, encode_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (channel, payload) = text.split_once('\n').unwrap_or(("chat:room:chat", &text));
    if let Some(envelope) = decode_record(channel, payload, "me") {
        assert!(envelope.seq > 0);
        if let Some(body) = encode_record(&envelope.event) {
            let again = decode_history(&format!("{}\t{body}", envelope.seq));
            assert_eq!(again.as_ref(), Some(&envelope.event), "{body:?}");
        }
    }
    if let Some(event) = decode_history(&text) {
        if let Some(body) = encode_record(&event) {
            let again = decode_history(&format!("{}\t{body}", event.id));
            assert_eq!(again.as_ref(), Some(&event));
        }
    }
});
