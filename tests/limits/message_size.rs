//! Message size: a message over max_message_bytes is closed with 1009, in one
//! frame, in fragments, or announced by a frame header of 2^62 bytes (refused
//! before any allocation); a message exactly at the limit is broadcast; the
//! server stays up and a bystander keeps chatting.

use testkit::*;

use std::io::Write;

use chat_server::{Config, Limits};

const MAX: usize = 1024;

fn server() -> TestServer {
    start_server_with(Config {
        limits: Limits {
            max_message_bytes: MAX,
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    })
}

/// Join raw, send `bytes`, expect close `code` then EOF; the bystander hears
/// the leave line and still chats.
fn expect_close(server: &TestServer, by: &mut TestClient, case: &str, bytes: &[u8], code: u16) {
    let (mut raw, nick) = raw_join(server.chat_addr());
    by.recv_until(&joined(&nick));
    raw.write_all(bytes).expect("send");
    assert_eq!(read_close_code(&mut raw), code, "case {case}");
    assert_eof(&mut raw);
    by.recv_until(&left(&nick));
    by.chat(&format!("after {case}"));
}

/// A masked frame header announcing `len` bytes, with no payload after it.
fn header_only(opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 0x80 | 127];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[1, 2, 3, 4]);
    out
}

#[test]
fn over_the_limit_is_1009() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let one_over = vec![b'x'; MAX + 1];
    expect_close(
        &server,
        &mut by,
        "one byte over",
        &frame(true, 1, &one_over, true),
        1009,
    );
    let big = vec![b'y'; 20 * MAX];
    expect_close(
        &server,
        &mut by,
        "20 times over",
        &frame(true, 1, &big, true),
        1009,
    );
    // The limit counts bytes, not characters: 342 three-byte characters.
    let euros = "\u{20ac}".repeat(MAX / 3 + 1);
    expect_close(
        &server,
        &mut by,
        "multi-byte",
        &frame(true, 1, euros.as_bytes(), true),
        1009,
    );
}

#[test]
fn a_huge_announced_length_is_1009_without_allocating_it() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    // 2^62 bytes would abort the process if it were allocated; the server
    // must refuse from the header alone.
    expect_close(
        &server,
        &mut by,
        "2^62 text",
        &header_only(1, 1 << 62),
        1009,
    );
    expect_close(
        &server,
        &mut by,
        "2^63-1 text",
        &header_only(1, (1 << 63) - 1),
        1009,
    );
    expect_close(
        &server,
        &mut by,
        "2^62 continuation",
        &{
            let mut b = frame(false, 1, b"start", true);
            b.extend(header_only(0, 1 << 62));
            b
        },
        1009,
    );
    // Every broken client's seat comes back; only the bystander is left.
    assert!(
        wait_until(WAIT, || server.clients() == 1),
        "{} clients",
        server.clients()
    );
}

#[test]
fn fragments_adding_up_past_the_limit_are_1009() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let part = vec![b'f'; 400];
    let mut three = frame(false, 1, &part, true);
    three.extend(frame(false, 0, &part, true));
    three.extend(frame(true, 0, &part, true));
    expect_close(&server, &mut by, "3 x 400 bytes", &three, 1009);
    // Many tiny fragments: each is small, the total is not.
    let mut many = frame(false, 1, b"ab", true);
    for _ in 0..MAX {
        many.extend(frame(false, 0, b"ab", true));
    }
    many.extend(frame(true, 0, b"", true));
    expect_close(&server, &mut by, "1025 x 2 bytes", &many, 1009);
}

#[test]
fn exactly_the_limit_is_broadcast() {
    let server = server();
    let mut by = TestClient::connect(server.chat_addr());
    let (mut raw, nick) = raw_join(server.chat_addr());
    by.recv_until(&joined(&nick));
    let whole = "w".repeat(MAX);
    raw.write_all(&frame(true, 1, whole.as_bytes(), true))
        .unwrap();
    by.recv_until(&format!("{nick}: {whole}"));
    let halves = "h".repeat(MAX);
    let mut split = frame(false, 1, &halves.as_bytes()[..MAX / 2], true);
    split.extend(frame(true, 0, &halves.as_bytes()[MAX / 2..], true));
    raw.write_all(&split).unwrap();
    by.recv_until(&format!("{nick}: {halves}"));
    by.chat("both arrived");
}
