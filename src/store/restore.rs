//! What the rooms get back at start-up: each room's last id, history and
//! settings. Run once by `Store::open`'s caller, on the write connection,
//! before the store thread starts; it owns nothing.

use rusqlite::{params, Connection};

use super::schema::{from_sql, to_sql, Kind};
use super::Restored;
use crate::event::{Event, Time, What};

/// Every room the file knows (any room that ever had an event or a
/// setting), sorted by name: its `last_id`, its last `history` chat and
/// action lines (oldest first) and its settings unexpired at `now`.
///
/// # Errors
/// SQLite's, if a read fails.
pub fn rooms(conn: &Connection, history: usize, now: Time) -> rusqlite::Result<Vec<Restored>> {
    let mut rooms = conn.prepare("SELECT id, name, last_id FROM room ORDER BY name")?;
    let mut lines = conn.prepare(
        "SELECT id, time, kind, nick, text FROM line
         WHERE room = ?1 AND kind IN (?2, ?3) ORDER BY id DESC LIMIT ?4",
    )?;
    let mut settings = conn.prepare(
        "SELECT key, value FROM setting
         WHERE room = ?1 AND (expires IS NULL OR expires > ?2) ORDER BY key",
    )?;
    let limit = i64::try_from(history).unwrap_or(i64::MAX);
    let found = rooms
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut restored = Vec::with_capacity(found.len());
    for (id, name, last_id) in found {
        let mut history = lines
            .query_map(
                params![id, Kind::Chat as i64, Kind::Action as i64, limit],
                |row| {
                    let nick = row.get::<_, String>(3)?;
                    let text = row.get::<_, String>(4)?;
                    let what = match Kind::from_column(row.get(2)?) {
                        Some(Kind::Action) => What::Action { nick, text },
                        _ => What::Chat { nick, text },
                    };
                    Ok(Event {
                        id: from_sql(row.get(0)?),
                        time: Time(from_sql(row.get(1)?)),
                        what,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        history.reverse();
        let settings = settings
            .query_map(params![id, to_sql(now.0)], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        restored.push(Restored {
            room: name,
            last_id: from_sql(last_id),
            history,
            settings,
        });
    }
    Ok(restored)
}
