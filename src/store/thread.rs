//! The store thread (`store`): it alone writes the database. It owns the
//! only write connection, the writes taken from the queue and not yet on
//! disk, and the retention clock.
//!
//! Each round it waits for a write (or the next retention pass, or the next
//! retry), takes everything waiting (at most [`BATCH_MAX`]) and writes it as
//! one transaction, committed at once: while there is traffic a commit comes
//! every few milliseconds (see the durability note in `store`).
//!
//! A batch that fails (disk full, I/O error) is kept and retried every
//! [`RETRY`], with what comes meanwhile, up to [`QUEUE_MAX`] writes kept;
//! past that the queue fills and `Store::write` drops and counts. The first
//! failure is logged and told through the health callback, and so is the
//! recovery. A panic here is caught: its batch is dropped and it is
//! reported as a failure; the thread goes on.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::schema::{to_sql, Kind};
use super::{Health, Msg, Queue, Write, BATCH_MAX, QUEUE_MAX, STOP_WAIT};
use crate::event::{Event, Time, What};

/// How long after a failed write the store tries again: 1 second.
pub const RETRY: Duration = Duration::from_secs(1);

/// How often old lines are deleted: a tenth of the retention, at least
/// every hour and at most every second.
pub fn prune_interval(retain: Duration) -> Duration {
    (retain / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// The write connection and what is waiting to be written.
pub struct Writer {
    conn: Connection,
    retain: Duration,
    /// Room name -> `room.id`, as committed.
    rooms: HashMap<String, i64>,
    /// Taken from the queue, not yet committed (the failed batch too).
    pending: Vec<Write>,
    /// Why writes fail, while they do.
    failing: Option<String>,
    health: Box<dyn Fn(Health) + Send>,
}

impl Writer {
    /// A writer on `conn` (opened by `schema::open`), deleting lines older
    /// than `retain`, telling `health` when writes fail and recover.
    pub fn new(conn: Connection, retain: Duration, health: Box<dyn Fn(Health) + Send>) -> Writer {
        Writer {
            conn,
            retain,
            rooms: HashMap::new(),
            pending: Vec::new(),
            failing: None,
            health,
        }
    }

    /// The connection, for reading back the rooms before the thread starts
    /// (and for tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Keeps `w` for the next commit.
    pub fn push(&mut self, w: Write) {
        self.pending.push(w);
    }

    /// How many writes wait for a commit.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Deletes, in one transaction, the lines older than the retention
    /// before `now` and the settings expired at `now`.
    ///
    /// # Errors
    /// SQLite's, if the delete fails.
    pub fn prune(&mut self, now: Time) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        prune(&tx, now, self.retain)?;
        tx.commit()
    }

    /// Writes every pending write (and prunes as of `prune_at`, if given) in
    /// one transaction. Returns whether it is committed; if not, the writes
    /// stay pending. Logs and reports the first failure and the recovery.
    pub fn commit(&mut self, prune_at: Option<Time>) -> bool {
        match self.apply(prune_at) {
            Ok(()) => {
                let written = self.pending.len();
                self.pending.clear();
                if self.failing.take().is_some() {
                    log::info!("store: writes work again ({written} waiting writes written)");
                    (self.health)(Health::Recovered);
                }
                true
            }
            Err(e) => {
                self.rooms.clear();
                self.fail(e.to_string());
                false
            }
        }
    }

    /// After a panic on this thread: its writes are dropped, and it is
    /// reported like a failed write.
    pub fn panicked(&mut self, why: String) {
        self.rooms.clear();
        let lost = self.pending.len();
        self.pending.clear();
        self.fail(format!(
            "the store thread panicked ({why}); {lost} writes lost"
        ));
    }

    fn fail(&mut self, reason: String) {
        if self.failing.is_none() {
            log::warn!(
                "store: cannot write {}: {reason}; keeping up to {QUEUE_MAX} writes in memory, retrying every {} s",
                self.conn.path().unwrap_or("the database"),
                RETRY.as_secs()
            );
            (self.health)(Health::Failing(reason.clone()));
        }
        self.failing = Some(reason);
    }

    fn apply(&mut self, prune_at: Option<Time>) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut last_ids: HashMap<i64, u64> = HashMap::new();
        for w in &self.pending {
            apply_one(&tx, &mut self.rooms, &mut last_ids, w)?;
        }
        {
            let mut bump =
                tx.prepare_cached("UPDATE room SET last_id = max(last_id, ?2) WHERE id = ?1")?;
            for (room, last) in &last_ids {
                bump.execute(params![room, to_sql(*last)])?;
            }
        }
        if let Some(now) = prune_at {
            prune(&tx, now, self.retain)?;
        }
        tx.commit()
    }
}

/// Deletes the lines older than `retain` before `now`, and the expired
/// settings.
fn prune(tx: &Transaction<'_>, now: Time, retain: Duration) -> rusqlite::Result<()> {
    let cutoff = now
        .0
        .saturating_sub(u64::try_from(retain.as_millis()).unwrap_or(u64::MAX));
    tx.execute("DELETE FROM line WHERE time < ?1", [to_sql(cutoff)])?;
    tx.execute(
        "DELETE FROM setting WHERE expires IS NOT NULL AND expires <= ?1",
        [to_sql(now.0)],
    )?;
    Ok(())
}

/// The `room.id` of `name`, made if `create` (and cached).
fn room_id(
    tx: &Transaction<'_>,
    rooms: &mut HashMap<String, i64>,
    name: &str,
    create: bool,
) -> rusqlite::Result<Option<i64>> {
    if let Some(id) = rooms.get(name) {
        return Ok(Some(*id));
    }
    let found = tx
        .prepare_cached("SELECT id FROM room WHERE name = ?1")?
        .query_row([name], |row| row.get::<_, i64>(0))
        .optional()?;
    let id = match found {
        Some(id) => id,
        None if create => {
            tx.prepare_cached("INSERT INTO room (name) VALUES (?1)")?
                .execute([name])?;
            tx.last_insert_rowid()
        }
        None => return Ok(None),
    };
    rooms.insert(name.to_owned(), id);
    Ok(Some(id))
}

fn apply_one(
    tx: &Transaction<'_>,
    rooms: &mut HashMap<String, i64>,
    last_ids: &mut HashMap<i64, u64>,
    w: &Write,
) -> rusqlite::Result<()> {
    match w {
        Write::Events { room, events } => {
            for event in events {
                event_one(tx, rooms, last_ids, room, event)?;
            }
        }
        Write::Delete { room, ids } => {
            if let Some(room) = room_id(tx, rooms, room, false)? {
                let mut delete =
                    tx.prepare_cached("DELETE FROM line WHERE room = ?1 AND id = ?2")?;
                for id in ids {
                    delete.execute(params![room, to_sql(*id)])?;
                }
            }
        }
        Write::Clear { room } => {
            if let Some(room) = room_id(tx, rooms, room, false)? {
                tx.prepare_cached("DELETE FROM line WHERE room = ?1 AND kind IN (?2, ?3)")?
                    .execute(params![room, Kind::Chat as i64, Kind::Action as i64])?;
            }
        }
        Write::Setting {
            room,
            key,
            value,
            expires,
        } => match value {
            Some(value) => {
                if let Some(room) = room_id(tx, rooms, room, true)? {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO setting (room, key, value, expires) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![room, key, value, expires.map(|t| to_sql(t.0))])?;
                }
            }
            None => {
                if let Some(room) = room_id(tx, rooms, room, false)? {
                    tx.prepare_cached("DELETE FROM setting WHERE room = ?1 AND key = ?2")?
                        .execute(params![room, key])?;
                }
            }
        },
    }
    Ok(())
}

/// The store thread's state between rounds.
struct Runner<'a> {
    writer: Writer,
    inbox: &'a Receiver<Msg>,
    queue: &'a Queue,
    prune_every: Duration,
    next_prune: Instant,
    /// While writes fail: when to try again.
    retry_at: Option<Instant>,
    /// `Stop` was taken (or every handle is gone).
    stopping: bool,
}

/// The store thread's loop, until `Msg::Stop` (or the handle is dropped):
/// then it writes what it took and returns.
pub fn run(writer: Writer, inbox: &Receiver<Msg>, queue: &Queue) {
    let prune_every = prune_interval(writer.retain);
    let mut runner = Runner {
        writer,
        inbox,
        queue,
        prune_every,
        next_prune: Instant::now() + prune_every,
        retry_at: None,
        stopping: false,
    };
    while !runner.stopping {
        runner.guarded(Runner::round);
    }
    runner.guarded(Runner::flush);
}

impl Runner<'_> {
    /// Runs `step`; a panic in it is caught and reported.
    fn guarded(&mut self, step: fn(&mut Self)) {
        let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| step(self))) else {
            return;
        };
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        self.retry_at = Some(Instant::now() + RETRY);
        let _ = panic::catch_unwind(AssertUnwindSafe(|| self.writer.panicked(why)));
    }

    /// Whether to take more writes from the queue now.
    fn may_take(&self) -> bool {
        !self.stopping && self.writer.pending() < QUEUE_MAX
    }

    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Write(w) => {
                self.queue.queued.fetch_sub(1, Ordering::AcqRel);
                self.writer.push(w);
            }
            Msg::Stop => self.stopping = true,
        }
    }

    /// Waits for work, takes what is waiting, writes it.
    fn round(&mut self) {
        let deadline = self
            .retry_at
            .map_or(self.next_prune, |at| at.min(self.next_prune));
        if self.may_take() {
            match self.inbox.recv_deadline(deadline) {
                Ok(msg) => self.take(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.stopping = true,
            }
        } else {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        }
        let mut taken = 0;
        while self.may_take() && taken < BATCH_MAX {
            match self.inbox.try_recv() {
                Ok(msg) => self.take(msg),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.stopping = true,
            }
            taken += 1;
        }
        let now = Instant::now();
        let prune_due = now >= self.next_prune;
        let may_try = self.stopping || self.retry_at.is_none_or(|at| now >= at);
        if may_try && (self.writer.pending() > 0 || prune_due) {
            let prune_at = prune_due.then(|| Time::from_system(SystemTime::now()));
            if self.writer.commit(prune_at) {
                self.retry_at = None;
                if prune_due {
                    self.next_prune = now + self.prune_every;
                }
            } else {
                self.retry_at = Some(now + RETRY);
            }
        }
        if self.writer.pending() == 0
            && self.queue.queued.load(Ordering::Acquire) == 0
            && self.queue.behind.swap(false, Ordering::AcqRel)
        {
            log::info!(
                "store: caught up ({} writes dropped since the start)",
                self.queue.dropped.load(Ordering::Relaxed)
            );
        }
    }

    /// At stop: writes what is pending, retrying within [`STOP_WAIT`].
    fn flush(&mut self) {
        let give_up = Instant::now() + STOP_WAIT.saturating_sub(RETRY);
        while self.writer.pending() > 0 && !self.writer.commit(None) {
            if Instant::now() + RETRY > give_up {
                log::warn!(
                    "store: stopping with {} writes not written",
                    self.writer.pending()
                );
                return;
            }
            std::thread::sleep(RETRY);
        }
    }
}

/// One room event into the transcript (and the room's `last_id`).
fn event_one(
    tx: &Transaction<'_>,
    rooms: &mut HashMap<String, i64>,
    last_ids: &mut HashMap<i64, u64>,
    room: &str,
    event: &Event,
) -> rusqlite::Result<()> {
    let line = match &event.what {
        What::Chat { nick, text } => Some((Kind::Chat, nick.as_str(), text.as_str())),
        What::Action { nick, text } => Some((Kind::Action, nick.as_str(), text.as_str())),
        What::Join { nick } => Some((Kind::Join, nick.as_str(), "")),
        What::Leave { nick } => Some((Kind::Leave, nick.as_str(), "")),
        What::Rename { from, to } => Some((Kind::Rename, from.as_str(), to.as_str())),
        _ => None,
    };
    if event.id == 0 {
        return Ok(());
    }
    let Some(room) = room_id(tx, rooms, room, true)? else {
        return Ok(());
    };
    let last = last_ids.entry(room).or_insert(0);
    *last = (*last).max(event.id);
    if let Some((kind, nick, text)) = line {
        tx.prepare_cached(
                    "INSERT OR REPLACE INTO line (room, id, time, kind, nick, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    room,
                    to_sql(event.id),
                    to_sql(event.time.0),
                    kind as i64,
                    nick,
                    text
                ])?;
    }
    Ok(())
}
