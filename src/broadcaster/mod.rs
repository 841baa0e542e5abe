//! The broadcaster: the one thread (`broadcaster`) that owns the room core
//! ([`Core`]). It drains the one channel of [`Input`]s (from every client's
//! reader, the page server, the server handle and, with `--redis`, the
//! cluster threads), hands each to the core with the time, and carries out
//! the core's outputs: delivering batches to members' outboxes
//! (`deliver.rs`), handing events to Redis, counting metrics, logging. It is
//! the only place the core meets the world.
//!
//! No `Mutex`: only this thread touches the core, and because it handles
//! one input at a time, every member of a room sees the same lines in the
//! same order.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tungstenite::Utf8Bytes;

use crate::event::Time;
use crate::id::ClientId;
use crate::outbox::Outbox;
use crate::protocol::{log_safe, Format};
use crate::room::{self, Admission, Core, LeaveReason, Output, Place, Settings};
use crate::store::{Restored, Store, Write};

mod deliver;
mod peers;
mod reply;

pub use peers::Peers;

/// What the broadcaster hears. Sent by client threads (and by the server
/// handle, the page server and the cluster threads); received only by the
/// broadcaster.
#[derive(Debug)]
pub enum Input {
    /// A client asks, before its `101`, to be let into a room. The
    /// broadcaster answers on `reply` (a one-shot slot).
    Admit {
        id: ClientId,
        place: Place,
        reply: reply::Reply,
    },
    /// An admitted client finished its handshake (the seed's `:open`).
    Join {
        id: ClientId,
        peer: SocketAddr,
        /// Where its lines go.
        outbox: Outbox,
        /// The wire format it chose in its handshake.
        format: Format,
    },
    /// A text message from a client (the seed's `:message`).
    Message { id: ClientId, text: Utf8Bytes },
    /// A client is gone (the seed's `:close` and `:error`). Sent exactly once
    /// per admitted client, by a drop guard in its reader thread.
    Leave { id: ClientId, reason: LeaveReason },
    /// The server is stopping: close every client with 1001.
    Shutdown,
    /// The store could not write (the reason), or can again (`None`).
    Store(crate::store::Health),
    /// `/healthz` asks whether the broadcaster answers: it sends back why
    /// this instance is cut off from its peers (`--redis`), or `None`.
    Ping(Sender<Option<String>>),
    /// With `--redis`: from the cluster threads.
    #[cfg(feature = "redis")]
    Cluster(crate::cluster::Inbound),
}

/// A member as the core keeps it (opaque to the core): its outbox and the
/// format its lines are rendered in.
#[derive(Clone, Debug)]
pub struct Handle {
    pub outbox: Outbox,
    pub format: Format,
}

/// Ask the broadcaster to let connection `id` into `place`, and wait for
/// its answer until `deadline`. Called by a reader before its `101`.
///
/// # Errors
/// Why the connection must be answered 503: no room slot
/// (`--max-rooms`), the server is stopping, or no answer in time.
pub fn admit(
    inputs: &Sender<Input>,
    id: ClientId,
    place: Place,
    deadline: Instant,
) -> Result<(), &'static str> {
    let (reply, answer) = reply::slot();
    if inputs.send(Input::Admit { id, place, reply }).is_err() {
        return Err("the server is shutting down");
    }
    match answer.recv_deadline(deadline) {
        Some(Admission::Welcome) => Ok(()),
        Some(Admission::NoRoom) => Err("every room slot is in use, try again later"),
        Some(Admission::Closing) => Err("the server is shutting down"),
        None => Err("the server is busy, try again later"),
    }
}

/// The broadcaster's clock: the wall-clock time at start, advanced by a
/// monotonic clock, so the core's [`Time`] never jumps back.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_time: Time,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
            start_time: Time::from_system(SystemTime::now()),
        }
    }

    /// Now, as the core counts time.
    pub fn now(&self) -> Time {
        self.start_time.plus(self.start.elapsed())
    }

    /// The [`Instant`] by which `time` has surely come (for waiting until
    /// it): times are whole milliseconds, so the end of that millisecond.
    pub fn instant(&self, time: Time) -> Instant {
        self.start + time.since(self.start_time) + Duration::from_millis(1)
    }
}

/// The broadcaster's state: the core, the way to the other instances and
/// the store.
struct Broadcaster {
    core: Core<Handle>,
    peers: Peers,
    /// Where room events are kept (none with `--memory-only`).
    store: Option<Store>,
    clock: Clock,
}

/// The broadcaster thread's body: handle inputs until every sender is gone,
/// waking also when an away member's grace ends. Blocks on the channel.
/// Returns once the acceptor, the server handle, every client thread (and
/// with `--redis`, the cluster threads) have dropped their senders.
/// `teacher_key`: what `/teacher KEY` must give (none: no teacher by key);
/// `page_url`: where people open the page (`/transcript` links to it).
pub fn run(
    inputs: Receiver<Input>,
    settings: Settings,
    peers: Peers,
    store: Option<(Store, Vec<Restored>)>,
    teacher_key: Option<String>,
    page_url: String,
) {
    let settings = Settings {
        shared: peers.is_shared(),
        ..settings
    };
    let mut core = Core::new(settings, rand::random());
    if let Some(key) = teacher_key {
        core.set_teacher_key(key);
    }
    core.set_page_url(page_url);
    let store = store.map(|(store, rooms)| {
        for room in rooms {
            core.restore(&room.room, room.last_id, room.history, room.settings);
        }
        store
    });
    let mut b = Broadcaster {
        core,
        peers,
        store,
        clock: Clock::start(),
    };
    loop {
        let first = match b.core.next_deadline() {
            Some(at) => match inputs.recv_deadline(b.clock.instant(at)) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match inputs.recv() {
                Ok(input) => Some(input),
                Err(_) => break,
            },
        };
        if let Some(input) = first {
            b.handle(input);
            // Whatever else is already waiting joins the same batch.
            for input in inputs.try_iter().take(room::MAX_BATCH_EVENTS) {
                b.handle(input);
            }
        }
        b.core.tick(b.clock.now());
        b.carry_out();
        for name in b.core.pending_rooms() {
            b.deliver(&name);
            b.carry_out();
        }
        let (held, clients) = b.core.sizes();
        crate::metrics::room_sizes(held, clients);
    }
    log::debug!("broadcaster: all senders gone, stopping");
    if let Some(store) = b.store.take() {
        store.stop();
    }
}

impl Broadcaster {
    /// Hand one input to the core, and carry out what it asks.
    fn handle(&mut self, input: Input) {
        let now = self.clock.now();
        match input {
            Input::Admit { id, place, reply } => {
                let answer = self.core.admit(id, place, now);
                // Never blocks. The reader may have given up waiting; its
                // Leave will free the place.
                reply.send(answer);
            }
            Input::Join {
                id,
                peer,
                outbox,
                format,
            } => self.core.join(id, peer, Handle { outbox, format }, now),
            Input::Message { id, text } => self.core.message(id, &text, now),
            Input::Leave { id, reason } => {
                if let Some(label) = reason.label() {
                    crate::metrics::dropped(label);
                }
                self.core.leave(id, &reason, now);
            }
            Input::Shutdown => self.core.shutdown(now),
            Input::Store(health) => {
                let failing = match health {
                    crate::store::Health::Failing(why) => Some(why),
                    crate::store::Health::Recovered => None,
                };
                self.core.store_health(failing, now);
            }
            Input::Ping(reply) => {
                let _ = reply.send(self.peers.cut_off());
            }
            #[cfg(feature = "redis")]
            Input::Cluster(inbound) => self.on_cluster(inbound, now),
        }
        self.carry_out();
    }

    /// Hand a teacher's change to the store (none with `--memory-only`).
    fn keep(&self, write: Write) {
        if let Some(store) = &self.store {
            store.write(write);
        }
    }

    /// Carry out every output the core has recorded, in order (carrying
    /// one out may give the core more inputs, and so more outputs).
    fn carry_out(&mut self) {
        while let Some(output) = self.core.next_output() {
            let now = self.clock.now();
            match output {
                Output::Deliver(name) => self.deliver(&name),
                Output::Send {
                    id,
                    to,
                    frames,
                    history,
                    events,
                } => self.send(id, &to, frames, &history, &events),
                Output::Close { to, code, reason } => to.outbox.close(code, reason),
                Output::Abort { to, code, reason } => to.outbox.abort_with(code, reason),
                Output::Detach { id, to } => {
                    to.outbox.abort_now();
                    let (frames, lines) = to.outbox.take_unsent();
                    self.core.kept(id, frames, lines, now);
                }
                Output::Publish { room, event } => {
                    if let Err(event) = self.peers.publish(&room, event) {
                        self.core.unsent(room.as_str(), event, now);
                    }
                }
                Output::Claim {
                    room,
                    ticket,
                    claim,
                } => self.claim(&room, ticket, claim, now),
                Output::Open(room) => {
                    if !self.peers.open(&room) {
                        // No state will come: start from nothing.
                        let state = crate::event::RoomState {
                            room: room.to_string(),
                            ..Default::default()
                        };
                        self.core.opened(state, now);
                    }
                }
                Output::Keep {
                    room,
                    key,
                    value,
                    expires,
                } => self.keep(Write::Setting {
                    room: room.to_string(),
                    key,
                    value,
                    expires,
                }),
                Output::Forget { room, ids } => self.keep(Write::Delete {
                    room: room.to_string(),
                    ids,
                }),
                Output::ClearKept(room) => self.keep(Write::Clear {
                    room: room.to_string(),
                }),
                Output::DroppedTooSlow => crate::metrics::dropped_too_slow(),
                // Room lines name nicknames and rooms, a client's words.
                Output::Log(level, line) => log::log!(level, "{}", log_safe(&line)),
            }
        }
    }
}
