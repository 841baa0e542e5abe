//! The client fleet: many WebSocket clients driven by a few worker threads,
//! each polling its share of non-blocking sockets with mio. No thread per
//! client, so ten thousand idle clients cost ten thousand sockets and a few
//! hundred bytes each, and every one of them keeps reading its socket (each
//! broadcast reaches all of them) and answers the server's pings.
//!
//! The coordinator (the scenario code) talks to the workers through
//! [`Fleet`]: connect more clients, start the senders, take a report, stop.
//! Progress it waits on (clients joined, lines delivered) is in [`Shared`]
//! atomics, so waiting needs no round trip to the workers.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::hist::Hist;
use crate::ws::{self, Dialect, Frame, Head, Stamp};

const WAKER: Token = Token(usize::MAX);
/// Connections in their TCP or WebSocket handshake at once, per worker
/// (`BENCH_HANDSHAKES` to change): the server's acceptor spawns a thread per
/// connection, so a burst of ten thousand SYNs would only overflow its backlog.
fn handshake_budget() -> usize {
    static BUDGET: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var("BENCH_HANDSHAKES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64)
    })
}
/// A handshake not done after this fails.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// One read's buffer, shared by all of a worker's connections.
const SCRATCH_BYTES: usize = 256 * 1024;
/// Longest a worker sleeps in `poll` before looking at its commands and timers.
const TICK: Duration = Duration::from_millis(50);
/// Hard bound on a worker's life, whatever the coordinator does.
const WORKER_LIFETIME: Duration = Duration::from_secs(3600);
/// The client's masking key (any key will do; RFC 6455 wants it unpredictable
/// only to protect intermediaries, and there are none on loopback).
const MASK: [u8; 4] = [0x5a, 0xc3, 0x17, 0x8e];

/// What a client does once the fleet is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads (every broadcast reaches it) and answers pings; never sends.
    Idle,
    /// Sends `count` messages, never more than `window` of its own in flight
    /// (sent and not yet received back).
    ClosedLoop { count: u32, window: u32 },
    /// Sends `count` messages every `interval`, whatever comes back; client
    /// `i` of `spread` starts `i/spread` of an interval late so senders do
    /// not all fire at once.
    Paced {
        count: u32,
        interval: Duration,
        spread: u32,
    },
}

impl Role {
    fn sends(&self) -> bool {
        !matches!(self, Role::Idle)
    }
}

/// Progress counters the coordinator polls.
#[derive(Default)]
pub struct Shared {
    /// Per sender, its messages its witness (the next client) has read: a
    /// sender's acknowledgements when the server does not echo to it.
    pub acked: Vec<AtomicU32>,
    /// Clients past the WebSocket handshake and not closed.
    pub open: AtomicUsize,
    /// Clients that have read their ` .... you are user-N.` line.
    pub joined: AtomicUsize,
    /// Connections that failed before or during the handshake.
    pub failed: AtomicUsize,
    /// Open connections the server closed (close frame, EOF or reset).
    pub dropped: AtomicUsize,
    /// ` .... user-N has joined.` lines read, by all clients together.
    pub join_notices: AtomicU64,
    /// Benchmark messages read, by all clients together.
    pub deliveries: AtomicU64,
    /// Closed-loop senders that got every one of their messages back.
    pub senders_done: AtomicUsize,
    /// The first few distinct failure and drop reasons.
    pub reasons: Mutex<Vec<String>>,
}

impl Shared {
    fn new(n_senders: usize) -> Shared {
        Shared {
            acked: (0..n_senders).map(|_| AtomicU32::new(0)).collect(),
            ..Shared::default()
        }
    }

    fn note(&self, reason: String) {
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        if reasons.len() < 8 && !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    pub fn reasons(&self) -> String {
        self.reasons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("; ")
    }
}

/// What the workers measured, merged.
#[derive(Clone, Default)]
pub struct Report {
    /// Send-to-receipt latency of every delivery (any receiver), in ns.
    pub delivery: Hist,
    /// Send-to-receipt latency of each sender's own messages, in ns.
    pub echo: Hist,
    /// Benchmark messages read (since the last reset).
    pub deliveries: u64,
    /// Messages sent, by sender index (cumulative).
    pub sent: Vec<u64>,
    /// Over every client that joined: the next sequence number it expects
    /// from each sender (so, for a client there from the start, how many it got).
    pub expected_sum: Vec<u64>,
    /// Clients that joined (still open or not).
    pub receivers: u64,
    /// Sequence numbers skipped (lost lines), and lines seen twice (or out
    /// of order: each sender's lines reach each client in order here).
    pub gaps: u64,
    pub dups: u64,
    /// Pings answered.
    pub pings: u64,
    /// ` .... X has left.` and ` .... slow down.` lines, and anything unexpected.
    pub left_notices: u64,
    pub slow_downs: u64,
    pub unexpected: u64,
    /// Latest receipt of a benchmark message, ns since the clock base.
    pub last_delivery_ns: u64,
    /// The server sends a sender its own messages.
    pub echoes: bool,
    /// Clients were spread over this many rooms (0 or 1: one room).
    pub rooms: u64,
    /// Lines a client read before its greeting: the room's history.
    pub history_lines: u64,
}

impl Report {
    fn merge(&mut self, o: &Report) {
        self.delivery.merge(&o.delivery);
        self.echo.merge(&o.echo);
        self.deliveries += o.deliveries;
        add_vec(&mut self.sent, &o.sent);
        add_vec(&mut self.expected_sum, &o.expected_sum);
        self.receivers += o.receivers;
        self.gaps += o.gaps;
        self.dups += o.dups;
        self.pings += o.pings;
        self.left_notices += o.left_notices;
        self.slow_downs += o.slow_downs;
        self.unexpected += o.unexpected;
        self.last_delivery_ns = self.last_delivery_ns.max(o.last_delivery_ns);
        self.echoes |= o.echoes;
        self.rooms = self.rooms.max(o.rooms);
        self.history_lines += o.history_lines;
    }

    /// Lines that never arrived, for clients there from the start: the gaps
    /// plus, per sender, what was sent and never reached each receiver.
    /// A server that does not echo sends each line to every receiver but
    /// its sender (every sender is a receiver here).
    pub fn lost(&self) -> u64 {
        // Each room holds receivers / rooms clients (the scenarios keep the
        // clients a multiple of the rooms).
        let in_room = self.receivers / self.rooms.max(1);
        let receivers = if self.echoes {
            in_room
        } else {
            in_room.saturating_sub(1)
        };
        let missing: u64 = self
            .sent
            .iter()
            .zip(&self.expected_sum)
            .map(|(&sent, &got)| (sent * receivers).saturating_sub(got))
            .sum();
        self.gaps + missing
    }
}

fn add_vec(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

enum Cmd {
    /// Open `count` clients with indices `first..first + count`.
    Connect {
        first: u32,
        count: u32,
        role: Role,
    },
    /// Senders begin; `t0_ns` is the paced senders' time zero.
    Start {
        t0_ns: u64,
    },
    /// Send a report; with `reset`, start a new measurement window.
    Report {
        reset: bool,
        reply: Sender<Report>,
    },
    /// See [`Fleet::spread_over_rooms`].
    Rooms(u32),
    /// See [`Fleet::spread_over_servers`].
    Servers(Vec<SocketAddr>),
    Stop,
}

struct WorkerHandle {
    cmds: Sender<Cmd>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<Report>>,
}

/// The coordinator's handle on the workers. Dropping it stops them.
pub struct Fleet {
    workers: Vec<WorkerHandle>,
    pub shared: Arc<Shared>,
    next_index: u32,
    n_senders: usize,
    pub base: Instant,
}

impl Fleet {
    /// `workers` threads for clients of the server at `addr`, which speaks
    /// `dialect`; senders have indices below `n_senders`; all times are ns
    /// since `base`.
    pub fn new(
        addr: SocketAddr,
        dialect: Dialect,
        workers: usize,
        n_senders: usize,
        base: Instant,
    ) -> Fleet {
        let shared = Arc::new(Shared::new(n_senders));
        let workers = (0..workers.max(1))
            .map(|i| {
                let poll = Poll::new().expect("mio poll");
                let waker = Arc::new(Waker::new(poll.registry(), WAKER).expect("mio waker"));
                let (cmds, rx) = crossbeam_channel::unbounded();
                let worker = Worker::new(addr, dialect, poll, n_senders, base, shared.clone());
                let thread = thread::Builder::new()
                    .name(format!("fleet-{i}"))
                    .spawn(move || worker.run(rx))
                    .expect("spawn fleet worker");
                WorkerHandle {
                    cmds,
                    waker,
                    thread: Some(thread),
                }
            })
            .collect();
        Fleet {
            workers,
            shared,
            next_index: 0,
            n_senders,
            base,
        }
    }

    fn send(&self, worker: &WorkerHandle, cmd: Cmd) {
        if worker.cmds.send(cmd).is_ok() {
            let _ = worker.waker.wake();
        }
    }

    /// Spread the clients over `rooms` rooms (client `i` in room `i % rooms`);
    /// before the first [`Fleet::connect`].
    pub fn spread_over_rooms(&self, rooms: u32) {
        for w in &self.workers {
            self.send(w, Cmd::Rooms(rooms.max(1)));
        }
    }

    /// Spread the clients over several instances of one cluster:
    /// client `i` connects to `servers[i % servers.len()]`; before the first
    /// [`Fleet::connect`]. Without it, every client connects to the `addr`
    /// given to [`Fleet::new`].
    pub fn spread_over_servers(&self, servers: &[SocketAddr]) {
        if servers.is_empty() {
            return;
        }
        for w in &self.workers {
            self.send(w, Cmd::Servers(servers.to_vec()));
        }
    }

    /// Open `count` more clients, spread evenly over the workers. Senders
    /// must be opened first: a client's index is its sender index.
    pub fn connect(&mut self, count: usize, role: Role) {
        let count = count as u32;
        assert!(
            !role.sends() || (self.next_index + count) as usize <= self.n_senders,
            "sender indices must be below n_senders"
        );
        let n = self.workers.len() as u32;
        let mut first = self.next_index;
        for (i, w) in self.workers.iter().enumerate() {
            let share = count / n + u32::from((i as u32) < count % n);
            if share > 0 {
                self.send(
                    w,
                    Cmd::Connect {
                        first,
                        count: share,
                        role,
                    },
                );
            }
            first += share;
        }
        self.next_index += count;
    }

    /// Start every sender now.
    pub fn start(&self) -> u64 {
        let t0_ns = self.now_ns();
        for w in &self.workers {
            self.send(w, Cmd::Start { t0_ns });
        }
        t0_ns
    }

    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Every worker's report, merged. With `reset`, the latency histograms
    /// and delivery count start again from zero.
    pub fn report(&self, reset: bool) -> Report {
        let (reply, replies) = crossbeam_channel::unbounded();
        for w in &self.workers {
            self.send(
                w,
                Cmd::Report {
                    reset,
                    reply: reply.clone(),
                },
            );
        }
        drop(reply);
        let mut merged = Report::default();
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..self.workers.len() {
            match replies.recv_deadline(deadline) {
                Ok(r) => merged.merge(&r),
                Err(_) => break,
            }
        }
        merged
    }

    /// Close every client and stop the workers; their final reports, merged.
    pub fn stop(mut self) -> Report {
        self.stop_workers()
    }

    fn stop_workers(&mut self) -> Report {
        for w in &self.workers {
            self.send(w, Cmd::Stop);
        }
        let mut merged = Report::default();
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                if let Ok(r) = t.join() {
                    merged.merge(&r);
                }
            }
        }
        merged
    }

    /// Wait until `done` holds, checking every 2 ms. Fails after `limit`, or
    /// when `progress` has not changed for `stall`.
    pub fn wait(
        &self,
        what: &str,
        limit: Duration,
        stall: Duration,
        done: impl Fn(&Shared) -> bool,
        progress: impl Fn(&Shared) -> u64,
    ) -> Result<(), String> {
        let start = Instant::now();
        let mut last = (progress(&self.shared), Instant::now());
        loop {
            if done(&self.shared) {
                return Ok(());
            }
            let now = Instant::now();
            let p = progress(&self.shared);
            if p != last.0 {
                last = (p, now);
            } else if now - last.1 > stall {
                return Err(format!(
                    "{what}: no progress for {:.0} s (at {p})",
                    stall.as_secs_f64()
                ));
            }
            if now - start > limit {
                return Err(format!(
                    "{what}: not done after {:.0} s (at {p})",
                    limit.as_secs_f64()
                ));
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop_workers();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Handshaking,
    Open,
}

struct Conn {
    stream: TcpStream,
    state: State,
    index: u32,
    role: Role,
    since: Instant,
    /// Bytes of an incomplete frame (or handshake answer) from the last read.
    inbuf: Vec<u8>,
    /// Bytes not yet written, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    joined: bool,
    /// Joined after the senders started: its first line from each sender
    /// sets the sequence it expects, instead of counting the earlier as lost.
    late: bool,
    sent: u32,
    echoed: u32,
    next_send_ns: u64,
    /// Per sender: the next sequence number expected (`u32::MAX`: none yet).
    expected: Vec<u32>,
}

impl Conn {
    fn send_message(&mut self, base: Instant) {
        let stamp = Stamp {
            sender: self.index,
            seq: self.sent,
            sent_ns: base.elapsed().as_nanos() as u64,
        };
        ws::encode(&mut self.out, ws::OP_TEXT, &stamp.write(), MASK);
        self.sent += 1;
    }

    /// Write what is pending; stops at `WouldBlock` (a writable event follows).
    fn flush(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    /// Closed-loop: send while fewer than `window` are in flight.
    fn fill_window(&mut self, base: Instant) {
        if let Role::ClosedLoop { count, window } = self.role {
            while self.sent < count && self.sent - self.echoed < window {
                self.send_message(base);
            }
        }
    }
}

/// What one worker counts, between resets (latencies, deliveries) or for
/// its whole life (the rest).
#[derive(Default)]
struct Stats {
    delivery: Hist,
    echo: Hist,
    deliveries: u64,
    last_delivery_ns: u64,
    gaps: u64,
    dups: u64,
    pings: u64,
    left_notices: u64,
    slow_downs: u64,
    unexpected: u64,
    history_lines: u64,
}

/// Everything a connection's frame handling needs besides the connection.
struct Cx<'a> {
    stats: &'a mut Stats,
    shared: &'a Shared,
    base: Instant,
    dialect: Dialect,
    n_senders: usize,
    started: bool,
    rooms: u32,
    accept: &'a str,
}

struct Worker {
    /// Client `i` connects to `servers[i % servers.len()]` (one by default).
    servers: Vec<SocketAddr>,
    dialect: Dialect,
    poll: Poll,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Slots of sending clients.
    senders: Vec<usize>,
    pending: VecDeque<(u32, Role)>,
    handshaking: usize,
    n_senders: usize,
    base: Instant,
    started: bool,
    stopping: bool,
    scratch: Vec<u8>,
    stats: Stats,
    shared: Arc<Shared>,
    /// Clients are spread over this many rooms (client `i` in room `i % rooms`).
    rooms: u32,
    accept: String,
    /// Sums kept from closed connections, for the report.
    closed_expected: Vec<u64>,
    closed_sent: Vec<u64>,
    closed_receivers: u64,
}

impl Worker {
    fn new(
        addr: SocketAddr,
        dialect: Dialect,
        poll: Poll,
        n_senders: usize,
        base: Instant,
        shared: Arc<Shared>,
    ) -> Worker {
        Worker {
            servers: vec![addr],
            dialect,
            poll,
            conns: Vec::new(),
            free: Vec::new(),
            senders: Vec::new(),
            pending: VecDeque::new(),
            handshaking: 0,
            n_senders,
            base,
            started: false,
            stopping: false,
            scratch: vec![0; SCRATCH_BYTES],
            stats: Stats::default(),
            shared,
            rooms: 1,
            accept: ws::expected_accept(),
            closed_expected: vec![0; n_senders],
            closed_sent: vec![0; n_senders],
            closed_receivers: 0,
        }
    }

    fn run(mut self, cmds: Receiver<Cmd>) -> Report {
        let mut events = Events::with_capacity(1024);
        let born = Instant::now();
        let mut last_scan = Instant::now();
        loop {
            loop {
                match cmds.try_recv() {
                    Ok(Cmd::Stop) | Err(TryRecvError::Disconnected) => return self.finish(),
                    Ok(cmd) => self.command(cmd),
                    Err(TryRecvError::Empty) => break,
                }
            }
            if born.elapsed() > WORKER_LIFETIME {
                return self.finish();
            }
            self.start_connects();
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.shared.note(format!("poll failed: {e}"));
                    return self.finish();
                }
            }
            for ev in events.iter() {
                if ev.token() == WAKER {
                    continue;
                }
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let writable = ev.is_writable() || ev.is_error();
                self.on_event(ev.token().0, readable, writable);
            }
            self.paced_sends();
            if !self.dialect.echoes() {
                self.witnessed_sends();
            }
            if last_scan.elapsed() > Duration::from_millis(250) {
                last_scan = Instant::now();
                self.handshake_timeouts();
            }
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Connect { first, count, role } => {
                self.pending
                    .extend((first..first + count).map(|i| (i, role)));
            }
            Cmd::Start { t0_ns } => {
                self.started = true;
                for slot in self.senders.clone() {
                    let Some(conn) = self.conns[slot].as_mut() else {
                        continue;
                    };
                    if conn.state != State::Open {
                        continue;
                    }
                    match conn.role {
                        Role::ClosedLoop { .. } => conn.fill_window(self.base),
                        Role::Paced {
                            interval, spread, ..
                        } => {
                            let phase = interval.as_nanos() as u64 * u64::from(conn.index)
                                / u64::from(spread.max(1));
                            conn.next_send_ns = t0_ns + phase;
                        }
                        Role::Idle => {}
                    }
                    if let Err(e) = conn.flush() {
                        self.close(slot, format!("write failed: {e}"));
                    }
                }
            }
            Cmd::Report { reset, reply } => {
                let _ = reply.send(self.report());
                if reset {
                    self.stats.delivery.clear();
                    self.stats.echo.clear();
                    self.stats.deliveries = 0;
                    self.stats.last_delivery_ns = 0;
                }
            }
            Cmd::Rooms(rooms) => self.rooms = rooms,
            Cmd::Servers(servers) => self.servers = servers,
            Cmd::Stop => {}
        }
    }

    fn report(&self) -> Report {
        let mut expected_sum = self.closed_expected.clone();
        let mut sent = self.closed_sent.clone();
        let mut receivers = self.closed_receivers;
        for conn in self.conns.iter().flatten() {
            if conn.joined {
                receivers += 1;
                for (sum, &e) in expected_sum.iter_mut().zip(&conn.expected) {
                    if e != u32::MAX {
                        *sum += u64::from(e);
                    }
                }
            }
            if conn.role.sends() {
                sent[conn.index as usize] += u64::from(conn.sent);
            }
        }
        let s = &self.stats;
        Report {
            delivery: s.delivery.clone(),
            echo: s.echo.clone(),
            deliveries: s.deliveries,
            sent,
            expected_sum,
            receivers,
            gaps: s.gaps,
            dups: s.dups,
            pings: s.pings,
            left_notices: s.left_notices,
            slow_downs: s.slow_downs,
            unexpected: s.unexpected,
            last_delivery_ns: s.last_delivery_ns,
            echoes: self.dialect.echoes(),
            rooms: u64::from(self.rooms),
            history_lines: s.history_lines,
        }
    }

    fn finish(mut self) -> Report {
        self.stopping = true;
        let report = self.report();
        for mut conn in self.conns.iter_mut().filter_map(Option::take) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            if conn.state == State::Open {
                self.shared.open.fetch_sub(1, Ordering::AcqRel);
            }
        }
        report
    }

    fn start_connects(&mut self) {
        while self.handshaking < handshake_budget() {
            let Some((index, role)) = self.pending.pop_front() else {
                return;
            };
            let addr = self.servers[index as usize % self.servers.len()];
            let mut stream = match TcpStream::connect(addr) {
                Ok(s) => s,
                Err(e) => {
                    self.shared.failed.fetch_add(1, Ordering::AcqRel);
                    self.shared.note(format!("connect: {e}"));
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let slot = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                Token(slot),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                self.free.push(slot);
                self.shared.failed.fetch_add(1, Ordering::AcqRel);
                self.shared.note(format!("register: {e}"));
                continue;
            }
            self.conns[slot] = Some(Conn {
                stream,
                state: State::Connecting,
                index,
                role,
                since: Instant::now(),
                inbuf: Vec::new(),
                out: Vec::new(),
                out_pos: 0,
                joined: false,
                late: false,
                sent: 0,
                echoed: 0,
                next_send_ns: u64::MAX,
                expected: Vec::new(),
            });
            if role.sends() {
                self.senders.push(slot);
            }
            self.handshaking += 1;
        }
    }

    fn poll_timeout(&self) -> Duration {
        if !self.started {
            return TICK;
        }
        let now = self.base.elapsed().as_nanos() as u64;
        let next = self
            .senders
            .iter()
            .filter_map(|&s| self.conns[s].as_ref())
            .filter(|c| matches!(c.role, Role::Paced { count, .. } if c.sent < count))
            .map(|c| c.next_send_ns)
            .min()
            .unwrap_or(u64::MAX);
        Duration::from_nanos(next.saturating_sub(now)).min(TICK)
    }

    fn paced_sends(&mut self) {
        if !self.started {
            return;
        }
        for slot in self.senders.clone() {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            let Role::Paced {
                count, interval, ..
            } = conn.role
            else {
                continue;
            };
            if conn.state != State::Open {
                continue;
            }
            let now = self.base.elapsed().as_nanos() as u64;
            let mut any = false;
            while conn.sent < count && now >= conn.next_send_ns {
                conn.send_message(self.base);
                conn.next_send_ns += interval.as_nanos() as u64;
                any = true;
            }
            if any {
                if let Err(e) = conn.flush() {
                    self.close(slot, format!("write failed: {e}"));
                }
            }
        }
    }

    /// Closed-loop senders on a server that does not echo: their witnesses'
    /// counts stand for the echoes, so refill each window from them.
    fn witnessed_sends(&mut self) {
        if !self.started {
            return;
        }
        for slot in self.senders.clone() {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            let Role::ClosedLoop { count, .. } = conn.role else {
                continue;
            };
            let acked = self.shared.acked[conn.index as usize].load(Ordering::Acquire);
            if conn.state != State::Open || acked <= conn.echoed {
                continue;
            }
            conn.echoed = acked;
            if acked == count {
                self.shared.senders_done.fetch_add(1, Ordering::AcqRel);
            }
            conn.fill_window(self.base);
            if let Err(e) = conn.flush() {
                self.close(slot, format!("write failed: {e}"));
            }
        }
    }

    fn handshake_timeouts(&mut self) {
        for slot in 0..self.conns.len() {
            let late = self.conns[slot]
                .as_ref()
                .is_some_and(|c| c.state != State::Open && c.since.elapsed() > HANDSHAKE_TIMEOUT);
            if late {
                self.close(slot, "handshake timed out".into());
            }
        }
    }

    fn on_event(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let was = conn.state;
        let mut cx = Cx {
            stats: &mut self.stats,
            shared: &self.shared,
            base: self.base,
            dialect: self.dialect,
            n_senders: self.n_senders,
            started: self.started,
            rooms: self.rooms,
            accept: &self.accept,
        };
        let result = drive(conn, &mut self.scratch, &mut cx, readable, writable);
        let now_open = conn.state == State::Open;
        if was != State::Open && now_open {
            self.handshaking -= 1;
            self.shared.open.fetch_add(1, Ordering::AcqRel);
        }
        if let Err(reason) = result {
            self.close(slot, reason);
        }
    }

    /// Remove a connection, keeping what it counted.
    fn close(&mut self, slot: usize, reason: String) {
        let Some(mut conn) = self.conns[slot].take() else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.free.push(slot);
        if conn.role.sends() {
            self.senders.retain(|&s| s != slot);
            self.closed_sent[conn.index as usize] += u64::from(conn.sent);
        }
        if conn.joined {
            self.closed_receivers += 1;
            for (sum, &e) in self.closed_expected.iter_mut().zip(&conn.expected) {
                if e != u32::MAX {
                    *sum += u64::from(e);
                }
            }
        }
        if conn.state == State::Open {
            self.shared.open.fetch_sub(1, Ordering::AcqRel);
            if !self.stopping {
                self.shared.dropped.fetch_add(1, Ordering::AcqRel);
                self.shared.note(format!("dropped by the server: {reason}"));
            }
        } else {
            self.handshaking -= 1;
            self.shared.failed.fetch_add(1, Ordering::AcqRel);
            self.shared.note(reason);
        }
    }
}

/// Handle readiness on one connection: finish the TCP connect, write what
/// is pending, read everything there is. `Err` closes it.
fn drive(
    conn: &mut Conn,
    scratch: &mut [u8],
    cx: &mut Cx<'_>,
    readable: bool,
    writable: bool,
) -> Result<(), String> {
    if conn.state == State::Connecting {
        match conn.stream.take_error() {
            Ok(Some(e)) | Err(e) => return Err(format!("connect: {e}")),
            Ok(None) => {}
        }
        match conn.stream.peer_addr() {
            Ok(addr) => {
                conn.state = State::Handshaking;
                let path = ws::room_path(conn.index, cx.rooms);
                conn.out.extend_from_slice(&ws::request(addr, &path));
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(format!("connect: {e}")),
        }
    }
    if writable || !conn.out.is_empty() {
        conn.flush().map_err(|e| format!("write failed: {e}"))?;
    }
    if readable {
        read_all(conn, scratch, cx)?;
        if !conn.out.is_empty() {
            conn.flush().map_err(|e| format!("write failed: {e}"))?;
        }
    }
    Ok(())
}

/// Read until the socket would block (mio is edge-triggered), handling
/// every complete frame. An incomplete one waits in `inbuf`, at most a frame.
fn read_all(conn: &mut Conn, scratch: &mut [u8], cx: &mut Cx<'_>) -> Result<(), String> {
    loop {
        let kept = conn.inbuf.len();
        scratch[..kept].copy_from_slice(&conn.inbuf);
        conn.inbuf.clear();
        let n = match conn.stream.read(&mut scratch[kept..]) {
            Ok(0) => {
                return Err(match conn.state {
                    State::Open => "connection closed without a close frame".into(),
                    _ => "closed during the handshake".into(),
                })
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.inbuf.extend_from_slice(&scratch[..kept]);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                conn.inbuf.extend_from_slice(&scratch[..kept]);
                continue;
            }
            Err(e) => return Err(format!("read failed: {e}")),
        };
        let data = &scratch[..kept + n];
        let now_ns = cx.base.elapsed().as_nanos() as u64;
        let mut used = 0;
        if conn.state != State::Open {
            match ws::parse_response(data, cx.accept) {
                Head::Incomplete => {
                    conn.inbuf.extend_from_slice(data);
                    continue;
                }
                Head::Refused(why) => return Err(why),
                Head::Accepted(head) => {
                    conn.state = State::Open;
                    used = head;
                }
            }
        }
        let before = cx.stats.deliveries;
        while let Some((frame, len)) = ws::decode(&data[used..])? {
            used += len;
            on_frame(conn, frame, now_ns, cx)?;
        }
        let delivered = cx.stats.deliveries - before;
        if delivered > 0 {
            cx.shared.deliveries.fetch_add(delivered, Ordering::AcqRel);
            cx.stats.last_delivery_ns = cx.stats.last_delivery_ns.max(now_ns);
        }
        let rest = &data[used..];
        if rest.len() > ws::MAX_FRAME {
            return Err("frame larger than the generator accepts".into());
        }
        conn.inbuf.extend_from_slice(rest);
    }
}

fn on_frame(conn: &mut Conn, frame: Frame<'_>, now_ns: u64, cx: &mut Cx<'_>) -> Result<(), String> {
    match frame {
        Frame::Text(text) => on_line(conn, text, now_ns, cx),
        Frame::Ping(payload) => {
            ws::encode(&mut conn.out, ws::OP_PONG, payload, MASK);
            cx.stats.pings += 1;
        }
        Frame::Close(code) => {
            let code = code.map_or("none".into(), |c| c.to_string());
            return Err(format!("close frame (code {code})"));
        }
        Frame::Other => {}
    }
    Ok(())
}

fn on_line(conn: &mut Conn, text: &[u8], now_ns: u64, cx: &mut Cx<'_>) {
    let stats = &mut *cx.stats;
    if !cx.dialect.greets() && text == ws::HELLO {
        // A relaying server has this client in its broadcast set.
        if !conn.joined {
            conn.joined = true;
            conn.late = cx.started;
            cx.shared.joined.fetch_add(1, Ordering::AcqRel);
        }
        return;
    }
    if let Some(notice) = text.strip_prefix(b" .... ") {
        if notice.starts_with(b"you are ") {
            if !conn.joined {
                conn.joined = true;
                conn.late = cx.started;
                cx.shared.joined.fetch_add(1, Ordering::AcqRel);
            }
        } else if notice.ends_with(b" has joined.") {
            cx.shared.join_notices.fetch_add(1, Ordering::AcqRel);
        } else if notice.ends_with(b" has left.") {
            stats.left_notices += 1;
        } else if notice == b"slow down." {
            stats.slow_downs += 1;
        } else if notice.starts_with(b"here now (") {
            // The presence line after the greeting.
        } else {
            stats.unexpected += 1;
        }
        return;
    }
    if cx.dialect.greets() && !conn.joined {
        // Before the greeting: the room's history, not live lines.
        stats.history_lines += 1;
        return;
    }
    let Some(stamp) = Stamp::from_line(text) else {
        stats.unexpected += 1;
        return;
    };
    let sender = stamp.sender as usize;
    if sender >= cx.n_senders {
        return; // another prober's line (the idle scenario's pair)
    }
    let latency = now_ns.saturating_sub(stamp.sent_ns);
    stats.deliveries += 1;
    stats.delivery.record(latency);
    if conn.expected.len() < cx.n_senders {
        conn.expected.resize(cx.n_senders, u32::MAX);
    }
    let expected = &mut conn.expected[sender];
    if *expected == u32::MAX {
        // The first line from this sender: earlier ones are lost only for a
        // client that was there before the senders started.
        if !conn.late {
            stats.gaps += u64::from(stamp.seq);
        }
        *expected = stamp.seq + 1;
    } else if stamp.seq == *expected {
        *expected += 1;
    } else if stamp.seq > *expected {
        stats.gaps += u64::from(stamp.seq - *expected);
        *expected = stamp.seq + 1;
    } else {
        // Lower than expected: a duplicate or a line out of order. Each
        // sender's lines reach each client in order in this server, so
        // count it as a duplicate.
        stats.dups += 1;
    }
    if !cx.dialect.echoes() && conn.index == (stamp.sender + 1) % cx.n_senders as u32 {
        // This client is the sender's witness (see `Shared::acked`).
        cx.shared.acked[sender].fetch_add(1, Ordering::AcqRel);
    }
    if conn.role.sends() && stamp.sender == conn.index {
        stats.echo.record(latency);
        conn.echoed += 1;
        if let Role::ClosedLoop { count, .. } = conn.role {
            if conn.echoed == count {
                cx.shared.senders_done.fetch_add(1, Ordering::AcqRel);
            }
            conn.fill_window(cx.base);
        }
    }
}
