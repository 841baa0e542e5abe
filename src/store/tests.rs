//! The store on real SQLite files in temporary directories.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use super::thread::{prune_interval, Writer};
use super::*;
use crate::event::{Event, Time, What};

/// 2026-12-06T10:00:00.000Z.
const T0: Time = Time(1_796_551_200_000);
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);

fn ignore_health() -> Box<dyn Fn(Health) + Send> {
    Box::new(|_| {})
}

fn open(dir: &Path, retain: Duration, history: usize, now: Time) -> (Store, Vec<Restored>) {
    match Store::open(dir, retain, history, now, ignore_health()) {
        Ok(opened) => opened,
        Err(e) => panic!("open: {e}"),
    }
}

fn event(room: &str, id: u64, time: Time, what: What) -> Write {
    Write::Events {
        room: room.into(),
        events: vec![std::sync::Arc::new(Event { id, time, what })],
    }
}

fn chat(room: &str, id: u64, time: Time, nick: &str, text: &str) -> Write {
    let what = What::Chat {
        nick: nick.into(),
        text: text.into(),
    };
    event(room, id, time, what)
}

fn room<'a>(rooms: &'a [Restored], name: &str) -> &'a Restored {
    match rooms.iter().find(|r| r.room == name) {
        Some(r) => r,
        None => panic!("no room {name} in {rooms:?}"),
    }
}

fn text_of(db: &Path, name: &str, format: Format) -> String {
    let mut out = Vec::new();
    assert_eq!(transcript(db, name, format, &mut out), Ok(true));
    String::from_utf8(out).unwrap()
}

fn ids(history: &[Event]) -> Vec<u64> {
    history.iter().map(|e| e.id).collect()
}

#[test]
fn history_and_last_id_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (store, rooms) = open(&data, MONTH, 3, T0);
    assert!(rooms.is_empty());
    assert_eq!(
        fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for id in 1..=10 {
        store.write(chat(
            "math",
            id,
            T0.plus(Duration::from_millis(id)),
            "alice",
            &format!("line {id}"),
        ));
    }
    store.write(event("math", 11, T0, What::Join { nick: "bob".into() }));
    let wave = What::Action {
        nick: "bob".into(),
        text: "waves".into(),
    };
    store.write(event("math", 12, Time(T0.0 + 12), wave.clone()));
    // Not kept: no id, or not a room line.
    store.write(event(
        "math",
        0,
        T0,
        What::Notice {
            text: "hush".into(),
        },
    ));
    let private = What::Private {
        from: "bob".into(),
        to: "alice".into(),
        text: "secret".into(),
    };
    store.write(event("math", 0, T0, private));
    store.write(chat("art", 7, T0, "carol", "hello"));
    store.stop();

    let (store, rooms) = open(&data, MONTH, 3, T0);
    assert_eq!(rooms.len(), 2);
    let math = room(&rooms, "math");
    assert_eq!(math.last_id, 12);
    assert_eq!(ids(&math.history), [9, 10, 12]);
    assert_eq!(math.history[0].time, Time(T0.0 + 9));
    assert_eq!(
        math.history[1].what,
        What::Chat {
            nick: "alice".into(),
            text: "line 10".into()
        }
    );
    assert_eq!(math.history[2].what, wave);
    assert_eq!(room(&rooms, "art").last_id, 7);
    let text = text_of(store.path(), "math", Format::Text);
    assert!(!text.contains("secret") && !text.contains("hush"), "{text}");
    assert_eq!(text.lines().count(), 12);
    store.stop();
}

#[test]
fn deletes_and_clears_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    store.write(event("r", 1, T0, What::Join { nick: "al".into() }));
    for id in 2..=6 {
        store.write(chat("r", id, T0, "al", &format!("say {id}")));
    }
    store.write(Write::Delete {
        room: "r".into(),
        ids: vec![3, 5, 99],
    });
    store.write(Write::Delete {
        room: "nowhere".into(),
        ids: vec![1],
    });
    store.stop();

    let (store, rooms) = open(dir.path(), MONTH, 10, T0);
    assert_eq!(ids(&room(&rooms, "r").history), [2, 4, 6]);
    let text = text_of(store.path(), "r", Format::Text);
    assert!(!text.contains("say 3") && !text.contains("say 5"), "{text}");
    assert!(text.contains("say 4"), "{text}");
    assert!(rooms.iter().all(|r| r.room != "nowhere"));
    store.write(Write::Clear { room: "r".into() });
    store.stop();

    let (store, rooms) = open(dir.path(), MONTH, 10, T0);
    let r = room(&rooms, "r");
    assert!(r.history.is_empty());
    assert_eq!(r.last_id, 6, "ids go on after cleared lines");
    let text = text_of(store.path(), "r", Format::Text);
    assert_eq!(text, "2026-12-06T10:00:00.000Z .... al has joined.\n");
    store.stop();
}

#[test]
fn settings_expire() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    let set = |key: &str, value: Option<&str>, expires: Option<Time>| Write::Setting {
        room: "r".into(),
        key: key.into(),
        value: value.map(str::to_owned),
        expires,
    };
    store.write(set("code", Some("1234"), None));
    store.write(set("mute:bob", Some("1"), Some(Time(T0.0 + 1000))));
    store.write(set("lock", Some("1"), None));
    store.write(set("lock", None, None));
    store.write(set("pin", Some("old"), None));
    store.write(set("pin", Some("new"), None));
    store.stop();

    let (store, rooms) = open(dir.path(), MONTH, 10, Time(T0.0 + 500));
    let settings = &room(&rooms, "r").settings;
    let expect = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    };
    assert_eq!(
        *settings,
        expect(&[("code", "1234"), ("mute:bob", "1"), ("pin", "new")])
    );
    assert_eq!(room(&rooms, "r").last_id, 0);
    store.stop();
    let (store, rooms) = open(dir.path(), MONTH, 10, Time(T0.0 + 1000));
    assert_eq!(
        room(&rooms, "r").settings,
        expect(&[("code", "1234"), ("pin", "new")])
    );
    store.stop();
}

#[test]
fn retention_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let retain = Duration::from_secs(2);
    let (store, _) = open(dir.path(), retain, 10, T0);
    store.write(chat("r", 1, T0, "al", "first"));
    store.write(chat("r", 2, Time(T0.0 + 1000), "al", "second"));
    store.write(chat("r", 3, Time(T0.0 + 3000), "al", "third"));
    store.stop();

    let (store, rooms) = open(dir.path(), retain, 10, Time(T0.0 + 2500));
    assert_eq!(ids(&room(&rooms, "r").history), [2, 3]);
    store.stop();
    let (store, rooms) = open(dir.path(), retain, 10, Time(T0.0 + 4000));
    let r = room(&rooms, "r");
    assert_eq!(ids(&r.history), [3]);
    assert_eq!(r.last_id, 3);
    let text = text_of(store.path(), "r", Format::Text);
    assert_eq!(text, "2026-12-06T10:00:03.000Z al: third\n");
    store.stop();
}

#[test]
fn retention_while_running() {
    assert_eq!(prune_interval(MONTH), Duration::from_secs(3600));
    assert_eq!(
        prune_interval(Duration::from_secs(100)),
        Duration::from_secs(10)
    );
    assert_eq!(
        prune_interval(Duration::from_secs(2)),
        Duration::from_secs(1)
    );

    // The store thread reads the clock: lines ten seconds old go within a
    // second or two with a 2 s retention.
    let dir = tempfile::tempdir().unwrap();
    let now = Time::from_system(SystemTime::now());
    let (store, _) = open(dir.path(), Duration::from_secs(2), 10, now);
    store.write(chat("r", 1, Time(now.0 - 10_000), "al", "old"));
    store.write(chat("r", 2, Time(now.0 + 60_000), "al", "new"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut out = Vec::new();
        let found = transcript(store.path(), "r", Format::Text, &mut out);
        let text = String::from_utf8(out).unwrap();
        if found == Ok(true) && !text.contains("old") {
            assert!(text.contains("new"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "not pruned: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    store.stop();
}

#[test]
fn transcript_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    let tricky = "a, \"quoted\"\nsecond line";
    let at = |ms: u64| Time(T0.0 + ms);
    store.write(event(
        "r",
        1,
        at(0),
        What::Join {
            nick: "alice".into(),
        },
    ));
    store.write(chat("r", 2, at(123), "alice", "hi"));
    store.write(chat("r", 3, at(200), "alice", tricky));
    let wave = What::Action {
        nick: "alice".into(),
        text: "waves".into(),
    };
    store.write(event("r", 4, at(300), wave));
    let rename = What::Rename {
        from: "alice".into(),
        to: "al".into(),
    };
    store.write(event("r", 5, at(400), rename));
    store.write(event("r", 6, at(500), What::Leave { nick: "al".into() }));
    store.write(chat("other", 1, at(0), "bob", "elsewhere"));
    store.stop();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    let db = store.path();

    assert_eq!(
        text_of(db, "r", Format::Text),
        "2026-12-06T10:00:00.000Z .... alice has joined.\n\
         2026-12-06T10:00:00.123Z alice: hi\n\
         2026-12-06T10:00:00.200Z alice: a, \"quoted\"\n    second line\n\
         2026-12-06T10:00:00.300Z * alice waves\n\
         2026-12-06T10:00:00.400Z .... alice is now al.\n\
         2026-12-06T10:00:00.500Z .... al has left.\n"
    );

    let csv_text = text_of(db, "r", Format::Csv);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["time", "room", "kind", "nick", "text"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 6);
    assert_eq!(
        records[2],
        vec!["2026-12-06T10:00:00.200Z", "r", "chat", "alice", tricky]
    );
    assert_eq!(
        records[4],
        vec!["2026-12-06T10:00:00.400Z", "r", "rename", "alice", "al"]
    );
    let kinds: Vec<&str> = records.iter().map(|r| &r[2]).collect();
    assert_eq!(kinds, ["join", "chat", "chat", "action", "rename", "leave"]);

    let jsonl = text_of(db, "r", Format::JsonLines);
    let objects: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(objects.len(), 6);
    assert_eq!(
        objects[2],
        serde_json::json!({
            "time": "2026-12-06T10:00:00.200Z",
            "room": "r",
            "kind": "chat",
            "nick": "alice",
            "text": tricky,
        })
    );
    assert_eq!(objects[0]["text"], "");
    assert_eq!(objects[3]["kind"], "action");

    store.write(chat("r", 7, Time(u64::MAX), "al", "far future"));
    store.stop();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    let db = store.path();
    let text = text_of(db, "r", Format::Text);
    assert!(
        text.ends_with("9999-12-31T23:59:59.999Z al: far future\n"),
        "{text}"
    );

    let mut out = Vec::new();
    assert_eq!(transcript(db, "nobody", Format::Csv, &mut out), Ok(false));
    assert!(out.is_empty());
    assert_eq!(Format::from_extension("txt"), Some(Format::Text));
    assert_eq!(Format::from_extension("csv"), Some(Format::Csv));
    assert_eq!(Format::from_extension("jsonl"), Some(Format::JsonLines));
    assert_eq!(Format::from_extension("html"), None);
    assert!(Format::Csv.content_type().starts_with("text/csv"));
    assert!(Format::Text.content_type().starts_with("text/plain"));
    assert!(Format::JsonLines.content_type().contains("ndjson"));
    store.stop();
}

fn open_error(dir: &Path) -> String {
    match Store::open(dir, MONTH, 10, T0, ignore_health()) {
        Ok((store, _)) => {
            store.stop();
            panic!("{} opened", dir.display())
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(FILE_NAME);
    let junk = "not a database, just words\n".repeat(200);
    fs::write(&file, &junk).unwrap();
    let e = open_error(dir.path());
    assert!(e.starts_with("--data-dir "), "{e}");
    assert!(e.contains("not a database"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert_eq!(fs::read_to_string(&file).unwrap(), junk);
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(FILE_NAME)).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT)")
        .unwrap();
    drop(conn);
    let e = open_error(dir.path());
    assert!(
        e.starts_with("--data-dir ") && e.contains("another program"),
        "{e}"
    );
}

#[test]
fn a_directory_that_cannot_be_made_is_refused() {
    // Root may write anywhere, but nobody makes a directory under a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let e = open_error(&file.join("data"));
    assert!(
        e.starts_with("--data-dir ") && e.contains("cannot create"),
        "{e}"
    );
    let e = open_error(&file);
    assert!(e.starts_with("--data-dir "), "{e}");
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), MONTH, 10, T0);
    store.write(chat("r", 1, T0, "al", "hi"));
    store.stop();
    let file = dir.path().join(FILE_NAME);
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();
    drop(conn);
    let before = fs::read(&file).unwrap();
    let e = open_error(dir.path());
    assert!(e.starts_with("--data-dir ") && e.contains("newer"), "{e}");
    assert_eq!(fs::read(&file).unwrap(), before);
}

#[test]
fn the_teacher_key_is_made_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = teacher_key(&data).unwrap();
    assert_eq!(key.len(), 22);
    assert!(key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let file = data.join("teacher.key");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(teacher_key(&data).unwrap(), key);
    let other = tempfile::tempdir().unwrap();
    assert_ne!(teacher_key(other.path()).unwrap(), key);
    assert_eq!(fs::read_dir(&data).unwrap().count(), 1, "no file left over");

    fs::write(&file, "short\n").unwrap();
    let e = teacher_key(&data).unwrap_err().to_string();
    assert!(e.contains(&file.display().to_string()), "{e}");
    fs::write(&file, "a-key-of-my-own-choosing\n").unwrap();
    assert_eq!(teacher_key(&data).unwrap(), "a-key-of-my-own-choosing");
}

#[test]
fn a_burst_of_100000_lines_lands_whole() {
    const LINES: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), MONTH, 50, T0);
    let text = "forty bytes of text, typical of a class.";
    assert_eq!(text.len(), 40);
    let started = Instant::now();
    for id in 1..=LINES {
        store.write(chat("room", id, Time(T0.0 + id), "student1", text));
    }
    let handed = started.elapsed();
    assert_eq!(store.dropped(), 0);
    store.stop();
    eprintln!(
        "{LINES} lines handed over in {handed:?}, written by {:?}",
        started.elapsed()
    );
    let (store, rooms) = open(dir.path(), MONTH, 50, T0);
    let r = room(&rooms, "room");
    assert_eq!(r.last_id, LINES);
    assert_eq!(ids(&r.history), (LINES - 49..=LINES).collect::<Vec<_>>());
    let path = store.path().to_owned();
    store.stop();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM line", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 100_000);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let size = fs::metadata(&path).unwrap().len();
    eprintln!(
        "size per 100,000 chat lines (40-byte text, 8-char nick): {size} bytes ({:.1} MB)",
        size as f64 / 1e6
    );
    assert!(size < 16_000_000, "{size} bytes");
}

#[test]
fn a_failing_disk_is_told_once_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = schema::open(dir.path()).unwrap();
    let (tell, told) = mpsc::channel();
    let mut writer = Writer::new(conn, MONTH, Box::new(move |h| tell.send(h).unwrap()));
    // A full disk, as SQLite's page limit makes one.
    let pages: i64 = writer
        .connection()
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    writer
        .connection()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    for id in 1..=2000 {
        writer.push(chat(
            "r",
            id,
            T0,
            "student1",
            "enough text to need more pages",
        ));
    }
    assert!(!writer.commit(None));
    assert!(!writer.commit(None));
    assert_eq!(writer.pending(), 2000, "the failed batch is kept");
    let Ok(Health::Failing(reason)) = told.try_recv() else {
        panic!("no failure told");
    };
    assert!(reason.contains("full"), "{reason}");
    assert!(told.try_recv().is_err(), "told once");

    writer
        .connection()
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    writer.push(chat("r", 2001, T0, "student1", "after"));
    assert!(writer.commit(None));
    assert_eq!(told.try_recv(), Ok(Health::Recovered));
    assert_eq!(writer.pending(), 0);
    let count: i64 = writer
        .connection()
        .query_row("SELECT count(*) FROM line", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 2001);

    writer.push(chat("r", 2002, T0, "student1", "lost"));
    writer.panicked("a test".into());
    assert!(matches!(told.try_recv(), Ok(Health::Failing(why)) if why.contains("panicked")));
    assert_eq!(writer.pending(), 0);
    assert!(writer.prune(T0).is_ok());
    assert!(writer.commit(None));
    assert_eq!(told.try_recv(), Ok(Health::Recovered));
}

#[test]
fn a_full_queue_drops_and_counts_then_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let (tell, told) = mpsc::channel();
    let health = Box::new(move |h| tell.send(h).unwrap());
    let (store, _) = Store::open(dir.path(), MONTH, 10, T0, health).unwrap();
    // Another connection holds the write lock: the store thread waits in
    // its first commit while the queue fills.
    let mut blocker = rusqlite::Connection::open(store.path()).unwrap();
    let lock = blocker
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    let total = 3 * QUEUE_MAX as u64;
    for id in 1..=total {
        store.write(chat("r", id, T0, "student1", "queued"));
    }
    assert!(store.falls_behind());
    let dropped = store.dropped();
    assert!(
        dropped > 0 && dropped < total - QUEUE_MAX as u64 + 1,
        "{dropped}"
    );
    lock.rollback().unwrap();
    drop(blocker);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.falls_behind() {
        assert!(Instant::now() < deadline, "never caught up");
        std::thread::sleep(Duration::from_millis(50));
    }
    store.write(chat("r", total + 1, T0, "student1", "after"));
    let path = store.path().to_owned();
    store.stop();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM line", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count as u64, total + 1 - dropped);
    // It waited for the lock (SQLite's busy wait) rather than failing.
    assert_eq!(told.try_recv(), Err(mpsc::TryRecvError::Disconnected));
}
