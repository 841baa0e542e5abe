//! Who is a teacher: the key from a file or from the start-up log, wrong
//! keys, `/op` and `/deop`, the `@` mark, and students refused.

use std::time::Duration;

use chat_server::{Config, Server};
use testkit::*;

use crate::*;

#[test]
fn the_key_comes_from_the_file() {
    let dir = TempDir::new("keyfile");
    let path = dir.0.join("key");
    std::fs::write(&path, "my-own-class-key-1234\n").unwrap();
    let server = start_server_with(Config {
        teacher_key_file: Some(path),
        ..test_config()
    });
    assert_eq!(key_of(&server), "my-own-class-key-1234");
    let mut t = TestClient::connect(server.chat_addr());
    t.send("/teacher my-own-class-key-1234");
    t.expect_text(" .... you are a teacher.");
}

#[test]
fn an_unusable_key_file_names_the_flag() {
    let dir = TempDir::new("badkey");
    let short = dir.0.join("short");
    std::fs::write(&short, "tiny\n").unwrap();
    for path in [short, dir.0.join("missing")] {
        let config = Config {
            teacher_key_file: Some(path),
            ..test_config()
        };
        let err = Server::bind(&Config {
            http_port: 0,
            ws_port: 0,
            ..config
        })
        .err()
        .expect("refused");
        assert!(err.to_string().contains("--teacher-key-file"), "{err}");
    }
}

#[test]
fn the_key_is_made_once_and_kept_in_the_data_directory() {
    let dir = TempDir::new("keep");
    let first = start_server_with(kept_in(&dir.0));
    let key = key_of(&first);
    assert_eq!(key.len(), 22);
    drop(first);
    let again = start_server_with(kept_in(&dir.0));
    assert_eq!(key_of(&again), key);
    let fresh = start_server();
    assert_ne!(key_of(&fresh), key, "memory-only: a new one");
}

#[test]
fn the_start_up_log_gives_the_teacher_link_once() {
    let server = start_binary!(None, &["--rate", "0"]);
    let line = server
        .wait_log("teacher: open http://", WAIT)
        .expect("a teacher line");
    let key = line
        .split("#teacher=")
        .nth(1)
        .expect("a key")
        .trim()
        .to_owned();
    assert_eq!(key.len(), 22, "{line}");
    assert!(
        line.contains(&format!("http://{}/#teacher=", server.page_addr)),
        "{line}"
    );
    let mut t = TestClient::connect(server.chat_addr);
    t.send(&format!("/teacher {key}"));
    t.expect_text(" .... you are a teacher.");
    t.send("hello");
    t.recv_until(&format!("{}: hello", t.nick));
    // Never logged again.
    let later: Vec<String> = server.log.try_iter().collect();
    assert!(!later.iter().any(|l| l.contains(&key)), "{later:?}");
}

#[test]
fn wrong_keys_and_the_fifth_closes() {
    let server = start_server();
    let mut watcher = student(&server, "watcher");
    let mut eve = student(&server, "eve");
    for _ in 0..4 {
        eve.send("/teacher not-the-key-at-all");
        eve.expect_text(" .... wrong key.");
    }
    eve.send("/teacher not-the-key-at-all");
    eve.expect_text(" .... wrong key.");
    assert_eq!(eve.recv_close(), 1008);
    drop(eve);
    watcher.recv_until(" .... eve has left.");
    watcher.assert_nothing_for(QUIET);
}

#[test]
fn teachers_wear_an_at_and_students_are_refused() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut alice = student(&server, "alice");
    alice.send("/who");
    alice.expect_text(" .... here now (2): @MrsK, alice.");
    for (line, word) in [
        ("/kick MrsK", "kick"),
        ("/mute MrsK", "mute"),
        ("/clear", "clear"),
    ] {
        alice.send(line);
        alice.expect_text(&format!(" .... /{word} is for teachers."));
    }
    t.send("/op alice");
    t.recv_until(" .... alice is a teacher here.");
    alice.recv_until(" .... alice is a teacher here.");
    alice.send("/who");
    alice.expect_text(" .... here now (2): @MrsK, @alice.");
    t.send("/deop alice");
    alice.recv_until(" .... alice is no longer a teacher here.");
    t.send("/mute");
    t.recv_until(" .... usage: /mute NICK [MINUTES].");
    t.send("/kick nobody");
    t.recv_until(" .... no nobody here.");
    alice.assert_nothing_for(QUIET);
}

#[test]
fn json_clients_get_typed_events() {
    let server = start_server();
    let mut t = teacher(&server);
    let url = format!("ws://{}/chat", server.chat_addr());
    let stream = std::net::TcpStream::connect(server.chat_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "chat.v1.json".parse().unwrap());
    let (mut ws, _) = tungstenite::client(request, stream).expect("handshake");
    let mut next = || -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            assert!(std::time::Instant::now() < deadline);
            if let Ok(tungstenite::Message::Text(t)) = ws.read() {
                return serde_json::from_str(&t).unwrap();
            }
        }
    };
    let presence = loop {
        let v = next();
        if v["type"] == "presence" {
            break v;
        }
    };
    assert_eq!(presence["members"][0]["role"], "teacher");
    assert_eq!(presence["members"][1]["role"], "student");
    t.send("/pin page 4");
    let pin = next();
    assert_eq!(pin["type"], "pin");
    assert_eq!(pin["text"], "page 4");
    assert_eq!(pin["by"], "MrsK");
    assert!(pin["id"].as_u64().is_some() && pin["time"].is_string());
    t.send("/pin off");
    let unpin = next();
    assert!(unpin["text"].is_null());
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn with_a_public_url_the_teacher_link_is_that_url() {
    let url = "https://chat.example.org/class/";
    let server = start_binary!(None, &["--public-url", url]);
    let line = server
        .wait_log("teacher: open", WAIT)
        .expect("a teacher line");
    let rest = line.split("teacher: open ").nth(1).expect("the link");
    let key = rest.strip_prefix(&format!("{url}#teacher=")).expect(rest);
    assert_eq!(key.trim().len(), 22, "{line}");
}
