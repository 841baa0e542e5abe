//! Broadcast: every client receives every message exactly once, each
//! sender's messages in the order sent, and all clients the same total order.

use std::collections::HashMap;
use testkit::*;

const CLIENTS: usize = 20;
const MESSAGES: usize = 50;

#[test]
fn twenty_clients_fifty_messages_one_order() {
    let server = start_server();
    let mut clients: Vec<TestClient> = Vec::new();
    for _ in 0..CLIENTS {
        let newcomer = TestClient::connect(server.chat_addr());
        // Everyone already here hears of the newcomer before anything else.
        for c in &mut clients {
            assert_eq!(c.recv_text(), joined(&newcomer.nick));
        }
        clients.push(newcomer);
    }
    let nick_of: HashMap<String, usize> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| (c.nick.clone(), i))
        .collect();

    // Each client sends its messages and reads until it has every line.
    let threads: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            std::thread::spawn(move || {
                for k in 0..MESSAGES {
                    c.send(&format!("m-{i}-{k}"));
                }
                (0..CLIENTS * MESSAGES)
                    .map(|_| c.recv_text())
                    .collect::<Vec<String>>()
            })
        })
        .collect();
    let seen: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    // All clients saw the very same sequence.
    for other in &seen[1..] {
        assert_eq!(other, &seen[0]);
    }
    // It is every message once, labelled with its sender's nickname, and
    // each sender's messages in the order sent.
    let mut next = [0usize; CLIENTS];
    for line in &seen[0] {
        let (nick, text) = line.split_once(": ").expect("a chat line");
        let sender = nick_of[nick];
        assert_eq!(text, format!("m-{sender}-{}", next[sender]), "{line}");
        next[sender] += 1;
    }
    assert!(next.iter().all(|&n| n == MESSAGES));
}

#[test]
fn unicode_and_empty_messages_pass_through_untouched() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    for text in ["héllo wörld ✓ 日本語 🎉", "", "  spaced  ", "a: b: c"] {
        a.send(text);
        assert_eq!(a.recv_text(), format!("{}: {text}", a.nick));
    }
}
