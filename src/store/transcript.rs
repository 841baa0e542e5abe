//! A room's transcript: its whole retained record, oldest first, in one of
//! three formats. Run by a page thread serving `GET /NAME/transcript.EXT`,
//! through a read-only connection of its own that it opens and closes: in
//! WAL mode it reads a snapshot without waiting for the store thread, and
//! the store thread does not wait for it. Owns nothing else.

use std::io;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::schema::{from_sql, Kind, BUSY_WAIT};
use super::StoreError;
use crate::event::Time;

/// A transcript's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, a line an event, as the room showed it, after its time:
    /// `2026-12-06T10:00:00.123Z alice: hi`, `... * alice waves`,
    /// `... .... alice has joined.`, `... .... alice has left.`,
    /// `... .... alice is now al.`. A newline inside a line is kept, and
    /// what follows it is indented by four spaces.
    Text,
    /// CSV (RFC 4180, through the `csv` crate): a header
    /// `time,room,kind,nick,text`, then a record an event.
    Csv,
    /// JSON lines: an object an event, one a line, with the keys `time`,
    /// `room`, `kind`, `nick`, `text`.
    JsonLines,
}

impl Format {
    /// The format a transcript route's extension names: `txt`, `csv`,
    /// `jsonl`.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "txt" => Some(Format::Text),
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The `Content-Type` to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/x-ndjson; charset=utf-8",
        }
    }
}

/// The last moment RFC 3339 can write, in ms since the epoch:
/// 9999-12-31T23:59:59.999Z. A later time is shown as this one.
pub const LATEST: u64 = 253_402_300_799_999;

/// One line of a transcript.
struct Line {
    time: Time,
    kind: Kind,
    nick: String,
    text: String,
}

/// Streams `room`'s whole retained record, oldest first, to `out`, in
/// `format`, reading the database file `db` (`Store::path`) through a
/// read-only connection of its own. Each line has a time (RFC 3339, UTC,
/// ms), a kind (`chat`, `action`, `join`, `leave`, `rename`), a nick and a
/// text (for a rename: the old name and the new; empty for a join or a
/// leave). Deleted and cleared lines are not in it.
///
/// Returns `Ok(false)` if the room has no record at all (a 404), having
/// written nothing. A room the store knows only by its settings, or whose
/// lines all expired, has an empty transcript (CSV: the header alone).
///
/// # Errors
/// The file cannot be read (naming it), or writing to `out` fails.
pub fn transcript(
    db: &Path,
    room: &str,
    format: Format,
    out: &mut dyn io::Write,
) -> Result<bool, StoreError> {
    let read_fail = |e: rusqlite::Error| StoreError(format!("cannot read {}: {e}", db.display()));
    let write_fail = |e: &dyn std::fmt::Display| {
        StoreError(format!("transcript of {room}: cannot write it out: {e}"))
    };
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(read_fail)?;
    conn.busy_timeout(BUSY_WAIT).map_err(read_fail)?;
    // One snapshot for the room and its lines.
    conn.execute_batch("BEGIN").map_err(read_fail)?;
    let Some(room_id) = conn
        .query_row("SELECT id FROM room WHERE name = ?1", [room], |row| {
            row.get::<_, i64>(0)
        })
        .optional()
        .map_err(read_fail)?
    else {
        return Ok(false);
    };
    let mut statement = conn
        .prepare("SELECT time, kind, nick, text FROM line WHERE room = ?1 ORDER BY id")
        .map_err(read_fail)?;
    let mut rows = statement.query([room_id]).map_err(read_fail)?;
    match format {
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record(["time", "room", "kind", "nick", "text"])
                .map_err(|e| write_fail(&e))?;
            each_line(&mut rows, db, |time, line| {
                csv.write_record([time, room, line.kind.name(), &line.nick, &line.text])
                    .map_err(|e| write_fail(&e))
            })?;
            csv.flush().map_err(|e| write_fail(&e))?;
        }
        Format::JsonLines => each_line(&mut rows, db, |time, line| {
            json_line(out, time, room, line).map_err(|e| write_fail(&e))
        })?,
        Format::Text => each_line(&mut rows, db, |time, line| {
            text_line(out, time, line).map_err(|e| write_fail(&e))
        })?,
    }
    out.flush().map_err(|e| write_fail(&e))?;
    Ok(true)
}

/// Calls `emit` with each line of `rows` and its time in RFC 3339.
fn each_line(
    rows: &mut rusqlite::Rows<'_>,
    db: &Path,
    mut emit: impl FnMut(&str, &Line) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let read_fail = |e: rusqlite::Error| StoreError(format!("cannot read {}: {e}", db.display()));
    while let Some(row) = rows.next().map_err(read_fail)? {
        let Some(kind) = Kind::from_column(row.get(1).map_err(read_fail)?) else {
            continue;
        };
        let line = Line {
            // RFC 3339 ends with the year 9999.
            time: Time(from_sql(row.get(0).map_err(read_fail)?).min(LATEST)),
            kind,
            nick: row.get(2).map_err(read_fail)?,
            text: row.get(3).map_err(read_fail)?,
        };
        emit(&line.time.rfc3339(), &line)?;
    }
    Ok(())
}

/// `time room-line`, as the room showed it.
fn text_line(out: &mut dyn io::Write, time: &str, line: &Line) -> io::Result<()> {
    let (nick, text) = (&line.nick, &line.text);
    let shown = match line.kind {
        Kind::Chat => format!("{nick}: {text}"),
        Kind::Action => format!("* {nick} {text}"),
        Kind::Join => format!(".... {nick} has joined."),
        Kind::Leave => format!(".... {nick} has left."),
        Kind::Rename => format!(".... {nick} is now {text}."),
    };
    writeln!(out, "{time} {}", shown.replace('\n', "\n    "))
}

/// One JSON object, its keys in the CSV's order.
fn json_line(out: &mut dyn io::Write, time: &str, room: &str, line: &Line) -> io::Result<()> {
    let quoted = |s: &str| serde_json::to_string(s).map_err(io::Error::other);
    writeln!(
        out,
        "{{\"time\":{},\"room\":{},\"kind\":{},\"nick\":{},\"text\":{}}}",
        quoted(time)?,
        quoted(room)?,
        quoted(line.kind.name())?,
        quoted(&line.nick)?,
        quoted(&line.text)?
    )
}
