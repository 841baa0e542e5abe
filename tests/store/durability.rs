//! The disk is trusted only as far as it deserves: killed with SIGKILL
//! under traffic, the database is never corrupt and every line said a
//! second before the kill is there after a restart; a data directory that
//! cannot be made is one line naming `--data-dir` and exit 1; `--retain`
//! forgets what is older.

use std::time::Duration;

use testkit::*;

/// The binary with a data directory (and room for 1000 lines of history).
fn with_data(dir: &str, more: &[&str]) -> ChildServer {
    let args = [
        &["--data-dir", dir, "--history", "1000", "--rate", "0"],
        more,
    ]
    .concat();
    start_binary!(None, &args)
}

#[test]
fn a_sigkill_under_traffic_loses_nothing_said_a_second_before() {
    let scratch = Scratch::new("sigkill");
    let data = scratch.path("data");
    let data = data.to_str().expect("a UTF-8 path");
    let mut server = with_data(data, &[]);
    let mut ann = TestClient::connect(server.chat_addr);
    let said: Vec<String> = (0..300).map(|i| format!("line {i}")).collect();
    for line in &said {
        ann.send(line);
    }
    ann.recv_until(&format!("{}: line 299", ann.nick));
    // The rule is about time on the wall: a second (and a half) passes...
    std::thread::sleep(Duration::from_millis(1500));
    // ...and the kill comes in the middle of more traffic.
    for i in 0..200 {
        ann.send(&format!("late {i}"));
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();

    let db = rusqlite::Connection::open(format!("{data}/chat.sqlite3")).expect("open");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    drop(db);

    let server = with_data(data, &[]);
    let bob = TestClient::connect(server.chat_addr);
    let mine = |line: &String| format!("{}: {line}", ann.nick);
    let want: Vec<String> = said.iter().map(mine).collect();
    assert!(
        bob.history.len() >= want.len(),
        "{} lines",
        bob.history.len()
    );
    assert_eq!(bob.history[..want.len()], want[..]);
}

#[test]
fn a_data_directory_that_cannot_be_made_is_one_line_and_exit_1() {
    let scratch = Scratch::new("unwritable");
    // Under a regular file: no one, root included, can make it.
    let file = scratch.path("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let bad = file.join("data");
    let bad = bad.to_str().expect("a UTF-8 path");
    let (code, stderr) = run_to_end(
        env!("CARGO_BIN_EXE_chat-server"),
        &["--http-port", "0", "--ws-port", "0", "--data-dir", bad],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("--data-dir"), "{}", errors[0]);
}

#[test]
fn retain_forgets_what_is_older() {
    let scratch = Scratch::new("retain");
    let data = scratch.path("data");
    let data = data.to_str().expect("a UTF-8 path");
    let mut server = with_data(data, &["--retain", "2s"]);
    let mut ann = TestClient::connect(server.chat_addr);
    ann.chat("soon forgotten");
    server.sigterm();
    assert!(server.wait_exit(WAIT).is_some(), "did not stop");
    // Older than the two seconds kept: gone at the next start.
    std::thread::sleep(Duration::from_millis(2500));
    let server = with_data(data, &["--retain", "2s"]);
    let bob = TestClient::connect(server.chat_addr);
    assert!(bob.history.is_empty(), "{:?}", bob.history);
}
