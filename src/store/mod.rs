//! The embedded store: each room's chat record and moderation settings, kept
//! in one SQLite file (`DIR/chat.sqlite3`) across restarts.
//!
//! This file is the handle and the API; it runs on its callers' threads. The
//! broadcaster owns the [`Store`] and hands it writes with [`Store::write`],
//! which never waits for the disk: the writes go through a bounded queue to
//! the store thread (`store`, see `thread`), which owns the only write
//! connection. The page threads read transcripts through their own
//! read-only connections ([`transcript()`]); in WAL mode readers and the
//! writer do not block each other.
//!
//! The other files, one job each:
//! - `schema`: open the file, create or migrate the tables, check the
//!   schema version (run once, by [`Store::open`]'s caller).
//! - `thread`: the store thread's loop: batches, retries, retention.
//! - `restore`: what the rooms get back at start-up.
//! - `transcript`: a room's record in three formats, for the page threads.
//! - `key`: the teacher key file.
//!
//! # Durability
//! The store thread wakes for every write, takes everything waiting (at most
//! [`BATCH_MAX`] writes) and commits it as one transaction at once, so while
//! there is traffic it commits every few milliseconds, and a line handed to
//! [`Store::write`] is in the database file's write-ahead log within one
//! transaction's time (well under 200 ms, a batch being bounded). The file
//! is in WAL mode with `synchronous=NORMAL`: a commit is written to the
//! operating system at once but not flushed to the disk (fsync) until a
//! checkpoint. That survives the process being killed (even with SIGKILL):
//! the file is never corrupt and every committed line is there after a
//! restart. Only a crash of the operating system itself (or a power cut)
//! can lose the last transactions before a checkpoint; never the file.

mod key;
mod restore;
mod schema;
mod thread;
mod transcript;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::event::{Event, Time};

pub use key::{new_teacher_key, teacher_key, KEY_MIN};
pub use transcript::{transcript, Format};

/// How many writes may wait for the store thread: 131,072. A burst of
/// 100,000 lines fits even if the thread took none of them meanwhile. The
/// queue takes memory only for what waits (about 200 bytes a chat line).
pub const QUEUE_MAX: usize = 1 << 17;

/// The most writes in one transaction: 10,000, so that even in a burst a
/// commit comes every few tens of milliseconds.
pub const BATCH_MAX: usize = 10_000;

/// How long [`Store::stop`] waits for the store thread to write what is
/// queued: 5 seconds.
pub const STOP_WAIT: Duration = Duration::from_secs(5);

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "chat.sqlite3";

/// One thing for the store to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A room's events, in order (one delivered batch: shared with the
    /// batch, not copied): chat and action lines (kept for the history and
    /// the transcript), joins, leaves and renames (transcript only). Other
    /// kinds (private lines, notices, welcome and presence lines) and events
    /// without an id (zero) are not kept; any id still counts for the
    /// room's `last_id`.
    Events {
        room: String,
        events: Vec<Arc<Event>>,
    },
    /// Remove these lines (event ids) of a room: a teacher's delete or
    /// purge. Ids the room does not have are ignored.
    Delete { room: String, ids: Vec<u64> },
    /// Empty a room's history: its chat and action lines are gone from the
    /// history and the transcript (its joins, leaves and renames stay).
    Clear { room: String },
    /// A room's moderation setting (join code, lock, bars, mutes, quiet,
    /// slow mode, pin...) as opaque text: `key` set to `value`, or removed
    /// if `value` is `None`. With `expires` (ms since the epoch), it is gone
    /// from that moment on (not given back by [`Store::open`]).
    Setting {
        room: String,
        key: String,
        value: Option<String>,
        expires: Option<Time>,
    },
}

/// What the store thread tells the broadcaster about the disk, through the
/// callback given to [`Store::open`] (called on the store thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Writes fail (disk full, I/O error...): the reason. The writes are
    /// kept in memory (at most [`QUEUE_MAX`] more) and retried every second.
    Failing(String),
    /// The disk takes writes again; what was kept is written.
    Recovered,
}

/// A room as the store gives it back at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub room: String,
    /// The largest event id the room ever had (even if that line was since
    /// deleted, cleared or expired): the room's ids go on after it.
    pub last_id: u64,
    /// The room's last `history` chat and action lines, oldest first, with
    /// their ids and times.
    pub history: Vec<Event>,
    /// The room's unexpired settings, `(key, value)`, sorted by key.
    pub settings: Vec<(String, String)>,
}

/// Why the store could not open, or a transcript could not be read: one
/// line, naming `--data-dir` and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What the handle and the store thread share about the queue.
#[derive(Debug, Default)]
struct Queue {
    /// Writes sent and not yet taken by the store thread.
    queued: AtomicUsize,
    /// Writes refused since the start because the queue was full.
    dropped: AtomicU64,
    /// Whether the store has said it falls behind and not yet caught up.
    behind: AtomicBool,
}

/// What goes through the queue.
#[derive(Debug)]
enum Msg {
    Write(Write),
    /// Write what is queued, then end the thread.
    Stop,
}

/// The store's handle: the queue's sending end and the store thread.
pub struct Store {
    inbox: Sender<Msg>,
    queue: Arc<Queue>,
    thread: JoinHandle<()>,
    done: Receiver<()>,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the data directory `dir` (mode 0700 if created)
    /// and `dir/chat.sqlite3` in WAL mode; checks the schema version (a
    /// newer one than this binary knows is an error, and the file is left
    /// untouched) or creates the tables; deletes the lines older than
    /// `retain` before `now` (ms since the epoch) and the settings expired
    /// at `now`; reads back every room's `last_id`, its last `history` chat
    /// and action lines and its settings; and starts the store thread.
    ///
    /// `health` is called on the store thread when writes start failing
    /// and when they work again.
    ///
    /// # Errors
    /// One line naming `--data-dir` and the path: the directory cannot be
    /// created or written, the file is not a database (or another
    /// program's), its schema is newer than this binary's, or SQLite fails.
    pub fn open(
        dir: &Path,
        retain: Duration,
        history: usize,
        now: Time,
        health: Box<dyn Fn(Health) + Send>,
    ) -> Result<(Store, Vec<Restored>), StoreError> {
        let (conn, path) = schema::open(dir)?;
        let mut writer = thread::Writer::new(conn, retain, health);
        writer
            .prune(now)
            .map_err(|e| StoreError(format!("--data-dir {}: {e}", dir.display())))?;
        let rooms = restore::rooms(writer.connection(), history, now)
            .map_err(|e| StoreError(format!("--data-dir {}: {e}", dir.display())))?;
        let queue = Arc::new(Queue::default());
        let (inbox, receiver) = crossbeam_channel::unbounded();
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let thread_queue = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                thread::run(writer, &receiver, &thread_queue);
                let _ = done_tx.send(());
            })
            .map_err(|e| {
                StoreError(format!(
                    "--data-dir {}: no store thread: {e}",
                    dir.display()
                ))
            })?;
        let store = Store {
            inbox,
            queue,
            thread,
            done,
            path,
        };
        Ok((store, rooms))
    }

    /// Hands `w` to the store thread. Never blocks. If [`QUEUE_MAX`] writes
    /// are already waiting, `w` is dropped and counted ([`Store::dropped`]);
    /// the store says once (`log::warn!`) that it falls behind, and says
    /// when it caught up (`log::info!`).
    pub fn write(&self, w: Write) {
        let queued = self.queue.queued.fetch_add(1, Ordering::AcqRel);
        if queued >= QUEUE_MAX || self.inbox.send(Msg::Write(w)).is_err() {
            self.queue.queued.fetch_sub(1, Ordering::AcqRel);
            self.queue.dropped.fetch_add(1, Ordering::Relaxed);
            if !self.queue.behind.swap(true, Ordering::AcqRel) {
                log::warn!(
                    "store: falls behind ({QUEUE_MAX} writes waiting): lines are not kept until it catches up"
                );
            }
        }
    }

    /// How many writes were dropped since the start because the queue was
    /// full (for `/metrics`).
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Whether the queue was full and the store has not yet caught up (for
    /// `/metrics`).
    pub fn falls_behind(&self) -> bool {
        self.queue.behind.load(Ordering::Acquire)
    }

    /// Writes what is queued and stops the store thread (for shutdown).
    /// Waits at most [`STOP_WAIT`]; after that the thread is left to finish
    /// alone and what it had not written may be lost (logged).
    pub fn stop(self) {
        let Store {
            inbox,
            queue: _,
            thread,
            done,
            path: _,
        } = self;
        let _ = inbox.send(Msg::Stop);
        drop(inbox);
        match done.recv_timeout(STOP_WAIT) {
            Ok(()) => {
                let _ = thread.join();
            }
            Err(_) if thread.is_finished() => {
                let _ = thread.join();
            }
            Err(_) => log::warn!(
                "store: still writing after {} s at shutdown; the last lines may be lost",
                STOP_WAIT.as_secs()
            ),
        }
    }

    /// The database file (`DIR/chat.sqlite3`), for [`transcript()`].
    pub fn path(&self) -> &Path {
        &self.path
    }
}
