//! Close codes for broken and hostile frames, sent raw: 1002 for protocol
//! violations, 1007 for bad UTF-8, 1003 for binary, and a client's own close
//! echoed; after each the TCP connection ends, the others hear the leave
//! line, and a bystander keeps chatting.

use testkit::*;

use std::io::Write;

/// One broken client: join raw, send `bytes`, expect close `code` and EOF;
/// the bystander hears the leave line and still chats.
fn expect_close(
    server: &TestServer,
    bystander: &mut TestClient,
    case: &str,
    bytes: &[u8],
    code: u16,
) {
    let (mut raw, nick) = raw_join(server.chat_addr());
    bystander.recv_until(&joined(&nick));
    raw.write_all(bytes).expect("send frames");
    assert_eq!(read_close_code(&mut raw), code, "case {case}: close code");
    assert_eof(&mut raw);
    bystander.recv_until(&left(&nick));
    bystander.chat(&format!("after {case}"));
}

fn with_bystander(test: impl FnOnce(&TestServer, &mut TestClient)) {
    let server = start_server();
    let mut bystander = TestClient::connect(server.chat_addr());
    test(&server, &mut bystander);
    bystander.chat("the end");
}

fn text(payload: &[u8]) -> Vec<u8> {
    frame(true, 1, payload, true)
}

#[test]
fn framing_violations_are_1002() {
    with_bystander(|server, by| {
        expect_close(server, by, "unmasked", &frame(true, 1, b"hi", false), 1002);
        for (name, bit) in [("rsv1", 0x40u8), ("rsv2", 0x20), ("rsv3", 0x10)] {
            let mut f = text(b"hi");
            f[0] |= bit;
            expect_close(server, by, name, &f, 1002);
        }
        let orphan = frame(true, 0, b"x", true);
        expect_close(server, by, "continuation without start", &orphan, 1002);
        let mut interleaved = frame(false, 1, b"first half", true);
        interleaved.extend(text(b"a new message"));
        expect_close(
            server,
            by,
            "data frame inside a fragmented one",
            &interleaved,
            1002,
        );
    });
}

#[test]
fn reserved_opcodes_are_1002() {
    with_bystander(|server, by| {
        for opcode in (3..=7).chain(0xB..=0xF) {
            let f = frame(true, opcode, b"x", true);
            expect_close(server, by, &format!("opcode {opcode:#x}"), &f, 1002);
        }
    });
}

#[test]
fn bad_control_frames_are_1002() {
    with_bystander(|server, by| {
        expect_close(
            server,
            by,
            "fragmented ping",
            &frame(false, 9, b"", true),
            1002,
        );
        let big = [b'p'; 126];
        expect_close(
            server,
            by,
            "126-byte ping",
            &frame(true, 9, &big, true),
            1002,
        );
        expect_close(
            server,
            by,
            "126-byte pong",
            &frame(true, 10, &big, true),
            1002,
        );
        expect_close(
            server,
            by,
            "fragmented close",
            &frame(false, 8, &close_payload(1000, b""), true),
            1002,
        );
        expect_close(
            server,
            by,
            "1-byte close",
            &frame(true, 8, &[3], true),
            1002,
        );
    });
}

#[test]
fn invalid_close_codes_are_1002() {
    with_bystander(|server, by| {
        for code in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            let f = frame(true, 8, &close_payload(code, b""), true);
            expect_close(server, by, &format!("close code {code}"), &f, 1002);
        }
    });
}

#[test]
fn invalid_utf8_is_1007() {
    with_bystander(|server, by| {
        expect_close(server, by, "0xff", &text(b"ok \xff"), 1007);
        expect_close(server, by, "surrogate", &text(b"\xed\xa0\x80"), 1007);
        expect_close(
            server,
            by,
            "truncated at the end",
            &text(b"euro \xe2\x82"),
            1007,
        );
        // A character split across fragments whose continuation is wrong.
        let mut split = frame(false, 1, b"a\xf0\x9f", true);
        split.extend(frame(true, 0, b"\x28b", true));
        expect_close(server, by, "bad character across fragments", &split, 1007);
        // A fragmented message that ends inside a character.
        let mut unfinished = frame(false, 1, b"a", true);
        unfinished.extend(frame(true, 0, b"\xe2\x82", true));
        expect_close(server, by, "message ends mid-character", &unfinished, 1007);
        // RFC 6455 sections 7.4.1 and 8.1: a close reason must be UTF-8.
        let bad_reason = frame(true, 8, &close_payload(1000, b"bye \xff"), true);
        expect_close(server, by, "close reason", &bad_reason, 1007);
    });
}

#[test]
fn binary_is_1003() {
    with_bystander(|server, by| {
        expect_close(
            server,
            by,
            "binary",
            &frame(true, 2, b"\x00\x01", true),
            1003,
        );
        let mut fragmented = frame(false, 2, b"\x00", true);
        fragmented.extend(frame(true, 0, b"\x01", true));
        expect_close(server, by, "fragmented binary", &fragmented, 1003);
    });
}

#[test]
fn a_clients_close_is_echoed_and_the_connection_ends() {
    with_bystander(|server, by| {
        for (code, reason) in [
            (1000u16, &b""[..]),
            (1000, b"bye"),
            (1001, b"tab closed"),
            (1003, b""),
            (3000, b"app"),
            (4000, b"private"),
            (4999, "\u{e9}t\u{e9}".as_bytes()),
        ] {
            let f = frame(true, 8, &close_payload(code, reason), true);
            expect_close(server, by, &format!("close {code}"), &f, code);
        }
        // No code at all: the echo has none either (1005 is "no status").
        expect_close(server, by, "empty close", &frame(true, 8, b"", true), 1005);
    });
}

#[test]
fn a_valid_character_split_across_fragments_is_broadcast_whole() {
    with_bystander(|server, by| {
        let (mut raw, nick) = raw_join(server.chat_addr());
        by.recv_until(&joined(&nick));
        // "h😀!" with the emoji's 4 bytes in three fragments, and a ping
        // between fragments (allowed: control frames may interleave).
        let mut bytes = frame(false, 1, b"h\xf0\x9f", true);
        bytes.extend(frame(false, 0, b"\x98", true));
        bytes.extend(frame(true, 9, b"are you there", true));
        bytes.extend(frame(true, 0, b"\x80!", true));
        raw.write_all(&bytes).unwrap();
        let want = format!("{nick}: h\u{1F600}!");
        by.recv_until(&want);
        // The sender gets the pong (same payload) and its own line.
        let mut got_pong = false;
        let mut got_line = false;
        for _ in 0..10 {
            let (opcode, payload) = read_frame(&mut raw).expect("frame");
            match opcode {
                10 => {
                    assert_eq!(payload, b"are you there");
                    got_pong = true;
                }
                1 if payload == want.as_bytes() => got_line = true,
                9 => {}
                other => panic!("unexpected frame {other}: {payload:?}"),
            }
            if got_pong && got_line {
                break;
            }
        }
        assert!(got_pong && got_line, "pong {got_pong}, line {got_line}");
        raw.write_all(&frame(true, 8, &close_payload(1000, b""), true))
            .unwrap();
        assert_eq!(read_close_code(&mut raw), 1000);
        assert_eof(&mut raw);
        by.recv_until(&left(&nick));
    });
}
