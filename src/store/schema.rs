//! Opening the database file: the data directory, the file, its schema
//! version, the tables. Run once, on the thread that calls `Store::open`,
//! before the store thread starts; it owns nothing after that (the
//! connection it opens is handed to the store thread).
//!
//! # The schema (version 1)
//! The version is SQLite's `user_version` in the file's header, and the
//! file is marked as this program's by its `application_id`.
//!
//! ```sql
//! CREATE TABLE room (
//!     id      INTEGER PRIMARY KEY,
//!     name    TEXT NOT NULL UNIQUE,
//!     last_id INTEGER NOT NULL DEFAULT 0  -- the largest event id it ever had
//! );
//! CREATE TABLE line (                      -- what a transcript shows
//!     room INTEGER NOT NULL,               -- room.id
//!     id   INTEGER NOT NULL,               -- the event's id in its room
//!     time INTEGER NOT NULL,               -- ms since the Unix epoch, UTC
//!     kind INTEGER NOT NULL,               -- 1 chat, 2 action, 3 join, 4 leave, 5 rename
//!     nick TEXT NOT NULL,                  -- who (a rename: the old name)
//!     text TEXT NOT NULL,                  -- what (a rename: the new name; join, leave: '')
//!     PRIMARY KEY (room, id)
//! ) WITHOUT ROWID;
//! CREATE INDEX line_time ON line (time);   -- for retention
//! CREATE TABLE setting (
//!     room    INTEGER NOT NULL,            -- room.id
//!     key     TEXT NOT NULL,
//!     value   TEXT NOT NULL,
//!     expires INTEGER,                     -- ms since the Unix epoch; NULL: never
//!     PRIMARY KEY (room, key)
//! ) WITHOUT ROWID;
//! ```

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::{StoreError, FILE_NAME};

/// The schema version this binary writes and reads.
pub const VERSION: i64 = 1;

/// The file's `application_id`: "Chat" in ASCII.
pub const APPLICATION_ID: i64 = 0x4368_6174;

/// How to go from version `i` to `i + 1`, for each `i` from 0: the first
/// creates the tables. A later schema appends its migration here.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE room (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE,
        last_id INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE line (
        room INTEGER NOT NULL,
        id   INTEGER NOT NULL,
        time INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        nick TEXT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (room, id)
    ) WITHOUT ROWID;
    CREATE INDEX line_time ON line (time);
    CREATE TABLE setting (
        room    INTEGER NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        expires INTEGER,
        PRIMARY KEY (room, key)
    ) WITHOUT ROWID;
"];

// Each version but the first comes with its migration.
const _: () = assert!(MIGRATIONS.len() == VERSION as usize);

/// How long a connection waits for a lock another holds: 5 seconds (in WAL
/// mode only recovery and checkpoints take one briefly).
pub const BUSY_WAIT: Duration = Duration::from_secs(5);

/// What a line is, as the `kind` column holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat = 1,
    Action = 2,
    Join = 3,
    Leave = 4,
    Rename = 5,
}

impl Kind {
    /// The kind a `kind` column value stands for.
    pub fn from_column(value: i64) -> Option<Kind> {
        match value {
            1 => Some(Kind::Chat),
            2 => Some(Kind::Action),
            3 => Some(Kind::Join),
            4 => Some(Kind::Leave),
            5 => Some(Kind::Rename),
            _ => None,
        }
    }

    /// Its name in a transcript (CSV and JSON lines).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Chat => "chat",
            Kind::Action => "action",
            Kind::Join => "join",
            Kind::Leave => "leave",
            Kind::Rename => "rename",
        }
    }
}

/// A number of ms or an id as SQLite's INTEGER holds it (saturating).
pub fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An INTEGER column back as ms or an id (a negative one as zero).
pub fn from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Creates `dir` (mode 0700) if needed and opens `dir/chat.sqlite3`, made
/// ready for writing: WAL mode, `synchronous=NORMAL`, the schema created
/// or migrated to [`VERSION`].
///
/// # Errors
/// One line naming `--data-dir`: the directory cannot be created or
/// written, the file is not a database or another program's, its schema
/// is newer than [`VERSION`] (the file is then left untouched).
pub fn open(dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError(format!("--data-dir {}: {what}: {e}", dir.display()))
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail("cannot create the directory", &e))?;
    let path = dir.join(FILE_NAME);
    let file = path.display().to_string();
    let mut conn = Connection::open(&path).map_err(|e| fail(&format!("cannot open {file}"), &e))?;
    conn.busy_timeout(BUSY_WAIT)
        .map_err(|e| fail(&format!("cannot open {file}"), &e))?;

    // Read-only so far: a file we refuse is left as it was.
    let header = conn
        .query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .and_then(|version| {
            let app = conn.query_row("PRAGMA application_id", [], |row| row.get::<_, i64>(0))?;
            let tables = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
                row.get::<_, i64>(0)
            })?;
            Ok((version, app, tables))
        });
    let (version, app, tables) = match header {
        Ok(header) => header,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Err(fail(&format!("{file} is not a database"), &e));
        }
        Err(e) => return Err(fail(&format!("cannot read {file}"), &e)),
    };
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(StoreError(format!(
            "--data-dir {}: {file} is another program's database: give chat-server a directory of its own",
            dir.display()
        )));
    }
    if version > VERSION {
        return Err(StoreError(format!(
            "--data-dir {}: {file} has schema version {version}, newer than this chat-server's ({VERSION}): run a newer chat-server, or give another --data-dir",
            dir.display()
        )));
    }

    let cannot_write = format!("cannot write {file}");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| fail(&cannot_write, &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(fail(&cannot_write, &format!("no WAL mode (got {mode})")));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .and_then(|()| conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024))
        .map_err(|e| fail(&cannot_write, &e))?;
    migrate(&mut conn, version).map_err(|e| fail(&cannot_write, &e))?;
    Ok((conn, path))
}

/// Brings a file at schema `version` to [`VERSION`], in one transaction.
fn migrate(conn: &mut Connection, version: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (from, sql) in MIGRATIONS.iter().enumerate() {
        if i64::try_from(from).unwrap_or(i64::MAX) >= version {
            tx.execute_batch(sql)?;
        }
    }
    if version < VERSION {
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    tx.commit()
}
