//! Starting and stopping the whole server: the listeners, the acceptor, the
//! room and the page server.
//!
//! The acceptor thread (`acceptor`) blocks in `accept` on the chat listener
//! and spawns one client thread per connection; it is the only owner of the
//! list of client threads, which it reaps as it goes and hands back at
//! shutdown so every thread can be joined.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::addr;
use crate::broadcaster::{self, Input, Peers};
use crate::client::{self, Context};
#[cfg(feature = "redis")]
use crate::cluster::{self, Cluster, ClusterConfig};
use crate::config::Config;
use crate::event::Time;
use crate::http::origin::OriginPolicy;
use crate::os;
use crate::page::transcript::Transcripts;
use crate::page::{self, PageServer};
use crate::permit::Permits;
use crate::room;
use crate::startup;
use crate::store::{Health as StoreHealth, Restored, Store};
use crate::throttle::Throttle;
use crate::throttled;
use crate::Error;

/// Inputs waiting for the broadcaster at most; a reader blocks (and so its
/// TCP connection pushes back) when the broadcaster is this far behind.
const EVENT_QUEUE: usize = 8192;
/// Connections still in their handshake, beyond `--max-clients`, that get a
/// thread (to be answered 503). Past that a connection is closed at once.
const HANDSHAKE_SLACK: usize = 1024;
/// After an accept error (EMFILE and the like), wait this long before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// At shutdown, how long clients get to finish their close handshakes before
/// their connections are aborted, on top of the close timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

static ACCEPT_ERRORS: Throttle = Throttle::new(5);

/// A running chat server. [`Server::shutdown`] (or drop) stops it: every
/// client gets close 1001 and every thread is joined.
pub struct Server {
    /// What `/teacher KEY` must give (never logged but once, at start).
    teacher_key: String,
    chat_addr: SocketAddr,
    page_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// The seats of `--max-clients`, shared with every reader.
    seats: Arc<Permits>,
    /// The server's own line to the broadcaster, for `Shutdown`.
    events: Option<Sender<Input>>,
    /// The store's line to the broadcaster (it holds a `Weak` of it).
    store_news: Option<Arc<Sender<Input>>>,
    acceptor: Option<JoinHandle<Vec<ClientThread>>>,
    room: Option<JoinHandle<()>>,
    /// Dropped by the room thread as it ends; lets shutdown wait with a deadline.
    room_done: crossbeam_channel::Receiver<()>,
    page: Option<PageServer>,
    close_timeout: Duration,
    /// With `--redis`: the cluster threads, stopped after the room is told.
    #[cfg(feature = "redis")]
    cluster: Option<Cluster>,
}

/// A client thread as the acceptor keeps it: to join it, and to abort its
/// connection if it outstays the shutdown. `Weak`, so a finished client's socket
/// is closed at once rather than when the acceptor next looks.
struct ClientThread {
    thread: JoinHandle<()>,
    socket: Weak<TcpStream>,
}

impl Server {
    /// Bind both listeners as `config` says and start.
    ///
    /// # Errors
    /// [`Error::Bind`] if a listener cannot be bound (port in use, no
    /// permission), and the errors of [`Server::start`].
    pub fn bind(config: &Config) -> Result<Server, Error> {
        let bind = |what, flag, port| {
            let addr = SocketAddr::new(config.bind, port);
            startup::bind(addr).map_err(|source| Error::Bind {
                what,
                flag,
                addr,
                source,
            })
        };
        let chat = bind("chat", "--ws-port", config.ws_port)?;
        let page = bind("page", "--http-port", config.http_port)?;
        Server::start(chat, page, config)
    }

    /// Start on listeners already bound (port 0 works: tests do that).
    /// Ports and bind address in `config` are not used.
    ///
    /// # Errors
    /// [`Error::Listener`] if a listener's address cannot be read, and
    /// [`Error::Spawn`] if the room, acceptor or page thread cannot start.
    pub fn start(chat: TcpListener, page: TcpListener, config: &Config) -> Result<Server, Error> {
        let listener_err = |what| move |source| Error::Listener { what, source };
        let chat_addr = chat.local_addr().map_err(listener_err("chat"))?;
        let page_addr = page.local_addr().map_err(listener_err("page"))?;

        // The address people open is an origin the page comes from.
        let public = config
            .public_url
            .as_deref()
            .and_then(crate::config::public_origin);
        let allowed: Vec<String> = config
            .allowed_origins
            .iter()
            .cloned()
            .chain(public)
            .collect();
        let origins = OriginPolicy::new(&allowed, page_addr.port())
            .map_err(|why| Error::Config(format!("--allow-origin: {why}")))?;
        let mut limits = config.limits.clone();
        let fd_clients = os::clients_for_fds(os::raise_fd_limit());
        let mut caps = vec![(fd_clients, "the open-file limit (ulimit -n)".to_owned())];
        caps.extend(os::clients_for_threads(crate::outbox::MAX_WRITERS));
        for (cap, what) in caps {
            if limits.max_clients > cap {
                log::warn!(
                    "--max-clients {} is more than {what} allows; holding at most {cap} (see README, Limits)",
                    limits.max_clients
                );
                limits.max_clients = cap;
            }
        }

        let room_settings = room::Settings {
            history_lines: limits.history_lines,
            max_rooms: limits.max_rooms.max(1),
            resume_grace: limits.resume_grace,
            outbox_lines: limits.outbox_lines.max(1),
            shared: false,
            teachers_open_rooms: config.rooms == crate::config::Rooms::Teachers,
        };
        let (events, room_events) = crossbeam_channel::bounded(EVENT_QUEUE);
        let (room_done_tx, room_done) = crossbeam_channel::bounded::<()>(0);
        let spawn_err = |what| move |source| Error::Spawn { what, source };
        // With --redis: connect (or fail, before any listener serves) and
        // hand the broadcaster its link; the cluster threads feed its channel.
        #[cfg(feature = "redis")]
        let (cluster, peers) = match &config.redis {
            Some(url) => {
                let to_broadcaster = events.clone();
                let deliver: cluster::Deliver = Arc::new(move |inbound| {
                    let _ = to_broadcaster.send(Input::Cluster(inbound));
                });
                let settings = ClusterConfig {
                    url: url.clone(),
                    lease: config.redis_lease,
                    history: limits.history_lines,
                };
                let (cluster, link) = Cluster::start(&settings, deliver)?;
                (Some(cluster), Peers::through(link))
            }
            None => (None, Peers::default()),
        };
        #[cfg(not(feature = "redis"))]
        let peers = Peers::default();
        // The store's news reaches the broadcaster through a sender only the
        // server holds: dropped at shutdown, so the store thread never keeps
        // the broadcaster's channel open (the broadcaster stops the store).
        let store_news = Arc::new(events.clone());
        let store = open_store(config, limits.history_lines, Arc::downgrade(&store_news))?;
        // After the store: a data directory that cannot be made is its error.
        let teacher_key = teacher_key(config)?;
        let transcripts = Transcripts::new(
            store.as_ref().map(|(store, _)| store.path().to_path_buf()),
            Some(teacher_key.as_str().into()),
        );
        let key = teacher_key.clone();
        let page_url = startup::page_url(
            page_addr,
            os::serves_ipv4(&page),
            config.public_url.as_deref(),
        );
        let room = thread::Builder::new()
            .name("broadcaster".into())
            .spawn(move || {
                let _done = room_done_tx;
                broadcaster::run(
                    room_events,
                    room_settings,
                    peers,
                    store,
                    Some(key),
                    page_url,
                );
            })
            .map_err(spawn_err("broadcaster"))?;

        let seats = Arc::new(Permits::new(limits.max_clients));
        let close_timeout = limits.close_timeout;
        // The public URL ("" without --public-url) lets the page find the
        // chat behind a proxy.
        let html = page::render(
            chat_addr.port(),
            page_addr.port(),
            limits.max_message_bytes,
            config.public_url.as_deref().unwrap_or(""),
        );
        let ctx = Arc::new(Context {
            limits,
            origins,
            trusted_proxies: config
                .trusted_proxies
                .iter()
                .map(|ip| addr::canonical(*ip))
                .collect(),
            inputs: events.clone(),
            seats: seats.clone(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("acceptor".into())
                .spawn(move || accept_loop(&chat, &ctx, &stop))
                .map_err(spawn_err("acceptor"))?
        };
        let page_v4 = os::serves_ipv4(&page);
        let qr = crate::page::qr::Qr {
            public_url: config.public_url.clone(),
            key: transcripts.key.clone(),
        };
        let page = PageServer::start(
            page,
            html,
            config.limits.page_timeout,
            config.limits.page_connections,
            events.clone(),
            transcripts,
            qr,
        )
        .map_err(spawn_err("page"))?;
        startup::announce(
            page_addr,
            chat_addr,
            page_v4,
            config.public_url.as_deref(),
            &teacher_key,
        );
        #[cfg(feature = "redis")]
        if let Some(cluster) = &cluster {
            log::info!(
                "redis at {}: instance {} sharing its rooms",
                cluster.endpoint(),
                cluster.instance()
            );
        }
        Ok(Server {
            teacher_key,
            chat_addr,
            page_addr,
            stop,
            seats,
            events: Some(events),
            store_news: Some(store_news),
            acceptor: Some(acceptor),
            room: Some(room),
            room_done,
            page: Some(page),
            close_timeout,
            #[cfg(feature = "redis")]
            cluster,
        })
    }

    /// Where the chat (WebSocket) listener is bound.
    pub fn chat_addr(&self) -> SocketAddr {
        self.chat_addr
    }

    /// The teacher key: `/teacher KEY` makes a member a teacher. For the
    /// program that started the server (and tests); never sent to anyone.
    pub fn teacher_key(&self) -> &str {
        &self.teacher_key
    }

    /// Where the page listener is bound.
    pub fn page_addr(&self) -> SocketAddr {
        self.page_addr
    }

    /// Clients past their handshake right now.
    pub fn clients(&self) -> usize {
        self.seats.taken()
    }

    /// Stop: no new connections, close 1001 to every client, join every
    /// thread. Blocks for at most about the close timeout plus half a second.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return; // already stopped
        };
        log::info!("shutting down");
        self.stop.store(true, Ordering::Release);
        wake(self.chat_addr);
        let threads = acceptor.join().unwrap_or_else(|_| {
            log::error!("acceptor panicked");
            Vec::new()
        });
        if let Some(page) = self.page.as_mut() {
            page.stop();
        }
        if let Some(events) = self.events.take() {
            let _ = events.send(Input::Shutdown);
        }
        self.store_news = None;
        // The cluster threads hold senders to the room too; once they end
        // the other instances are told our members left.
        #[cfg(feature = "redis")]
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
        // The room ends when the last client thread drops its sender. Give
        // the close handshakes their time, then abort whatever is left.
        let grace = self.close_timeout + SHUTDOWN_GRACE;
        if self.room_done.recv_timeout(grace).is_err() {
            for client in &threads {
                if let Some(socket) = client.socket.upgrade() {
                    let _ = socket.shutdown(Shutdown::Both);
                }
            }
        }
        for client in threads {
            let _ = client.thread.join();
        }
        if let Some(room) = self.room.take() {
            if room.join().is_err() {
                log::error!("broadcaster panicked");
            }
        }
        log::info!("stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The store in `--data-dir`, and what it kept of every room; `None` with
/// `--memory-only`. Says which in the log.
///
/// # Errors
/// [`Error::Config`], one line naming `--data-dir`, if the directory
/// cannot be created or written or the file is not a chat-server database.
fn open_store(
    config: &Config,
    history: usize,
    broadcaster: Weak<Sender<Input>>,
) -> Result<Option<(Store, Vec<Restored>)>, Error> {
    if config.memory_only {
        log::info!("history kept in memory only (--memory-only; --data-dir DIR to keep it)");
        return Ok(None);
    }
    let now = Time::from_system(std::time::SystemTime::now());
    // Logged here (once, by the store), and told to the teachers by the
    // broadcaster; never waits for it (a full queue skips the telling).
    let health = Box::new(move |health: StoreHealth| {
        match &health {
            StoreHealth::Failing(why) => log::warn!("store: history is not being saved: {why}"),
            StoreHealth::Recovered => log::info!("store: history is being saved again"),
        }
        if let Some(broadcaster) = broadcaster.upgrade() {
            let _ = broadcaster.try_send(Input::Store(health));
        }
    });
    let (store, rooms) = Store::open(&config.data_dir, config.retain, history, now, health)
        .map_err(|e| Error::Config(e.to_string()))?;
    log::info!(
        "history kept in {} (--data-dir, --memory-only)",
        store.path().display()
    );
    Ok(Some((store, rooms)))
}

/// The teacher key: read from `--teacher-key-file`, else kept in the data
/// directory (made at first start), else (`--memory-only`) a new one.
///
/// # Errors
/// [`Error::Config`], naming the flag or the path, if the key file cannot
/// be read or holds too short a key, or no key can be made.
fn teacher_key(config: &Config) -> Result<String, Error> {
    use crate::store::KEY_MIN;
    if let Some(path) = &config.teacher_key_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("--teacher-key-file {}: {e}", path.display())))?;
        let key = text.lines().next().unwrap_or("").trim();
        if key.chars().count() < KEY_MIN || key.contains(char::is_whitespace) {
            return Err(Error::Config(format!(
                "--teacher-key-file {}: the key must be at least {KEY_MIN} characters, no spaces",
                path.display()
            )));
        }
        return Ok(key.to_owned());
    }
    let made = if config.memory_only {
        crate::store::new_teacher_key()
    } else {
        crate::store::teacher_key(&config.data_dir)
    };
    made.map_err(|e| Error::Config(e.to_string()))
}

/// Connect to our own listener so a blocked `accept` returns and sees the
/// stop flag.
fn wake(addr: SocketAddr) {
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    let _ = TcpStream::connect_timeout(&target, Duration::from_secs(1));
}

/// The acceptor thread (the seed's `clackup #'chat-server`): one client
/// thread per connection. Blocks in `accept`. Never ends on an accept error;
/// returns its client threads when the stop flag is set.
fn accept_loop(listener: &TcpListener, ctx: &Arc<Context>, stop: &AtomicBool) -> Vec<ClientThread> {
    let mut threads: Vec<ClientThread> = Vec::new();
    let mut next_id: u64 = 1;
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::Acquire) {
            break;
        }
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS...: the listener is fine, we are
                // short of something. Pause so we do not spin, then go on.
                if e.kind() != io::ErrorKind::Interrupted {
                    throttled!(
                        ACCEPT_ERRORS,
                        log::Level::Warn,
                        "acceptor: accept failed: {e}; pausing"
                    );
                    thread::sleep(ACCEPT_PAUSE);
                }
                continue;
            }
        };
        // One spelling per host from here on: logs, trust, the room.
        let peer = addr::canonical_addr(peer);
        threads.retain(|c| !c.thread.is_finished());
        if threads.len() >= ctx.limits.max_clients + HANDSHAKE_SLACK {
            throttled!(
                ACCEPT_ERRORS,
                log::Level::Warn,
                "acceptor: too many connections, closing {peer}"
            );
            continue;
        }
        let id = next_id;
        next_id += 1;
        let socket = Arc::new(stream);
        let weak = Arc::downgrade(&socket);
        let ctx = ctx.clone();
        let spawned = thread::Builder::new()
            .name(format!("client-{id}"))
            .stack_size(ctx.limits.thread_stack_bytes)
            .spawn(move || client::serve(id, socket, peer, ctx));
        match spawned {
            Ok(thread) => threads.push(ClientThread {
                thread,
                socket: weak,
            }),
            Err(e) => {
                throttled!(
                    ACCEPT_ERRORS,
                    log::Level::Warn,
                    "acceptor: no thread for {peer}: {e}"
                );
            }
        }
    }
    log::debug!("acceptor: stopped");
    threads
}
