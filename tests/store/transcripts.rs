//! A room's transcript on the page port, for teachers only: the whole
//! retained record (more than `--history`), as text, CSV and JSON lines;
//! `401` without the teacher key, `403` with a wrong one, `404` for a room
//! with no record.

use std::path::Path;
use std::time::Instant;

use chat_server::Config;
use testkit::*;

fn kept_in(dir: &Path) -> Config {
    Config {
        memory_only: false,
        data_dir: dir.to_path_buf(),
        ..test_config()
    }
}

/// `GET path` (HTTP/1.0, so the body ends with the connection), with
/// `Authorization: Bearer KEY` if given: (status, head, body).
fn get(server: &TestServer, path: &str, key: Option<&str>) -> (u16, String, String) {
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n{auth}\r\n");
    let (answer, ended) = exchange_to_end(server.page_addr(), request.as_bytes());
    assert!(ended, "the answer did not end: {answer}");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    (status_of(head), head.to_owned(), body.to_owned())
}

/// The transcript once it holds `last` (the store writes a moment later).
fn transcript_with(server: &TestServer, path: &str, last: &str) -> (String, String) {
    let key = server.teacher_key();
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, head, body) = get(server, path, Some(&key));
        assert_eq!(status, 200, "{head}");
        if body.contains(last) {
            return (head, body);
        }
        assert!(Instant::now() < deadline, "{last:?} never reached {path}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn teachers_download_the_whole_record_in_three_formats() {
    let scratch = Scratch::new("transcripts");
    let mut config = kept_in(&scratch.path("data"));
    config.limits.history_lines = 5;
    let server = start_server_with(config);
    let mut ann = TestClient::connect_to(server.chat_addr(), "/physics");
    for i in 0..20 {
        ann.chat(&format!("line {i}"));
    }
    let tricky = "a, \"quoted\"\nand a second line";
    ann.send(tricky);
    ann.recv_text();
    ann.send("/me waves");
    ann.recv_text();

    let (head, csv) = transcript_with(&server, "/physics/transcript.csv", "waves");
    assert_eq!(header_value(&head, "Cache-Control"), Some("no-store"));
    let disposition = header_value(&head, "Content-Disposition").expect("a file name");
    assert!(
        disposition.starts_with("attachment; filename=\"physics-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader
            .headers()
            .expect("a header")
            .iter()
            .collect::<Vec<_>>(),
        ["time", "room", "kind", "nick", "text"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    let chats: Vec<&str> = rows
        .iter()
        .filter(|r| &r[2] == "chat")
        .map(|r| &r[4])
        .collect();
    assert_eq!(chats.len(), 21, "more than --history: {chats:?}");
    assert_eq!(
        chats[20], tricky,
        "a comma, a quote and a newline round-trip"
    );
    assert!(rows.iter().any(|r| &r[2] == "join" && r[3] == ann.nick));
    assert!(rows
        .iter()
        .all(|r| &r[1] == "physics" && r[0].ends_with('Z')));

    let (_, jsonl) = transcript_with(&server, "/physics/transcript.jsonl", "waves");
    let last: serde_json::Value =
        serde_json::from_str(jsonl.lines().last().expect("a line")).expect("JSON");
    assert_eq!(last["kind"], "action");
    assert_eq!(last["text"], "waves");

    let (head, text) = transcript_with(&server, "/physics/transcript.txt", "waves");
    assert!(header_value(&head, "Content-Type").is_some_and(|t| t.starts_with("text/plain")));
    assert!(text.contains(&format!("{}: line 0", ann.nick)), "{text}");
}

#[test]
fn only_teachers_and_only_rooms_with_a_record() {
    let scratch = Scratch::new("transcript-refusals");
    let server = start_server_with(kept_in(&scratch.path("data")));
    let mut ann = TestClient::connect_to(server.chat_addr(), "/physics");
    ann.chat("hello");
    let (status, head, _) = get(&server, "/physics/transcript.txt", None);
    assert_eq!(status, 401);
    assert_eq!(header_value(&head, "WWW-Authenticate"), Some("Bearer"));
    let (status, _, _) = get(
        &server,
        "/physics/transcript.txt",
        Some("not-the-key-at-all-00"),
    );
    assert_eq!(status, 403);
    let key = server.teacher_key();
    assert_eq!(key.len(), 22, "128 bits in base64url");
    let (status, _, _) = get(&server, "/nosuchroom/transcript.csv", Some(&key));
    assert_eq!(status, 404);
}
