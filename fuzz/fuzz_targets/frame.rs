//! The frame encoder round trip (`frame`): a frame written in any number
//! of parts reads back, with tungstenite's parser, as one final unmasked
//! frame with the parts joined; a close frame fits 125 bytes and keeps its
//! reason whole to a character boundary. And any event rendered in either
//! format (`protocol::encode`) is one frame whose text carries no control
//! but tab, line feed and a CR before a line feed.
#![no_main]
use std::io::Cursor;

use chat_server::fuzz_api::{
    encode_close, encode_event, encode_parts, Event, Format, Time, What, TEXT,
};
use libfuzzer_sys::fuzz_target;
use tungstenite::protocol::frame::FrameHeader;

/// The header and payload of the one frame in `bytes`.
fn read_frame(bytes: &[u8]) -> (FrameHeader, &[u8]) {
    let mut cursor = Cursor::new(bytes);
    let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
    let start = cursor.position() as usize;
    assert_eq!(bytes.len() - start, len as usize);
    (header, &bytes[start..])
}

fn is_clean(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\t' | '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !ok {
            return false;
        }
    }
    true
}

fuzz_target!(|data: &[u8]| {
    // Cut the input into parts at each 0xFF byte.
    let parts: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let mut out = Vec::new();
    encode_parts(TEXT, &parts, &mut out);
    let (header, payload) = read_frame(&out);
    assert!(header.is_final && header.mask.is_none() && header.opcode == TEXT);
    assert_eq!(payload, parts.concat());

    let reason = String::from_utf8_lossy(data);
    let code = u16::from_be_bytes([data.first().copied().unwrap_or(3), 0xE8]);
    let mut close = Vec::new();
    encode_close(code, &reason, &mut close);
    let (_, body) = read_frame(&close);
    assert!(body.len() <= 125);
    if code != 0 {
        assert_eq!(body[..2], code.to_be_bytes());
        let kept = std::str::from_utf8(&body[2..]).expect("a reason cut inside a character");
        assert!(reason.starts_with(kept));
    }

    let text = String::from_utf8_lossy(data).into_owned();
    let (nick, said) = text.split_once(' ').unwrap_or(("nick", &text));
    let events = [
        What::Chat {
            nick: nick.into(),
            text: said.into(),
        },
        What::Action {
            nick: nick.into(),
            text: said.into(),
        },
        What::Private {
            from: nick.into(),
            to: said.into(),
            text: said.into(),
        },
        What::Notice { text: said.into() },
        What::Rename {
            from: nick.into(),
            to: said.into(),
        },
    ];
    for what in events {
        let event = Event {
            id: 1,
            time: Time(0),
            what,
        };
        for format in [Format::Text, Format::Json] {
            let mut out = Vec::new();
            encode_event(&event, format, false, &mut out);
            let (_, payload) = read_frame(&out);
            let line = std::str::from_utf8(payload).unwrap();
            assert!(is_clean(line), "{line:?}");
            if format == Format::Json {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                for field in ["nick", "from", "to", "text"] {
                    if let Some(s) = value.get(field).and_then(|v| v.as_str()) {
                        assert!(is_clean(s), "{field}: {s:?}");
                    }
                }
            }
        }
    }
});
