//! The request-head reader (`http::head::parse`): never panics, a refusal
//! is one of its statuses, and a head that parses once parses the same
//! from any split into reads (what `read_head` does between reads).
#![no_main]
use chat_server::fuzz_api::{parse_head, ReadFailure, MAX_HEAD_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = match parse_head(data) {
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= MAX_HEAD_BYTES);
            (format!("{head:?}"), len)
        }
        Ok(None) => return assert!(data.len() <= MAX_HEAD_BYTES),
        Err(ReadFailure::Bad(status, why)) => {
            assert!(matches!(status, 400 | 414 | 431 | 505), "{status} {why}");
            return;
        }
        Err(e) => panic!("parse gave {e:?}"),
    };
    let (shown, len) = whole;
    // Every earlier read stopped short: not complete, and not refused.
    let step = (len / 64).max(1);
    for cut in (0..len).step_by(step) {
        match parse_head(&data[..cut]) {
            Ok(None) => {}
            other => panic!("prefix {cut} of a {len}-byte head gave {other:?}"),
        }
    }
    // The bytes after the head do not change it.
    let (again, len2) = parse_head(&data[..len]).unwrap().unwrap();
    assert_eq!((format!("{again:?}"), len2), (shown, len));
});
