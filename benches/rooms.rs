//! `cargo bench --bench rooms`: what rooms and history cost (issue 11).
//! The server runs in-process (release build), driven by blocking
//! tungstenite clients, one thread each, on loopback. Figures are medians
//! of `BENCH_RUNS` runs (default 3); both sides share this machine, so read
//! them as ratios.
//!
//! 1. Join cost: connect, handshake and read the whole greeting (history,
//!    ` .... you are`, presence), one client after another, into a room
//!    with 100 lines of history and into one with `--history 0`.
//! 2. Fan-out in rooms: 200 clients each send 50 messages and read every
//!    line of their room; all in one room, then split over 10 rooms of 20.
//!    Deliveries per second (lines read by all clients), the wall time, and
//!    messages per second (10 rooms deliver each message to 20, not 200).
//!
//! Run without `--bench` (as `cargo test --benches` does), it does nothing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits, Server};
use tungstenite::{Message, WebSocket};

const JOINS: usize = 300;
const HISTORY: usize = 100;
const CLIENTS: usize = 200;
const MESSAGES: usize = 50;
const WAIT: Duration = Duration::from_secs(30);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("rooms: nothing to check (run it with `cargo bench --bench rooms`)");
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!("| scenario | figure | median (min-max) of {runs} runs |");
    println!("| --- | --- | --- |");
    for history in [HISTORY, 0] {
        let us = spread(runs, || join_cost(history));
        println!("| join, {history} lines of history | us per join | {us} |");
    }
    for rooms in [1, 10] {
        let mut walls = Vec::new();
        let rate = spread(runs, || {
            let (rate, wall) = fan_out(rooms);
            walls.push(wall);
            rate
        });
        walls.sort_by(f64::total_cmp);
        let wall = walls[walls.len() / 2];
        let messages = (CLIENTS * MESSAGES) as f64 / (wall / 1e3);
        println!(
            "| fan-out, {CLIENTS} clients x {MESSAGES} msgs in {rooms} room(s) | deliveries/s | {rate}; median wall {wall:.0} ms, {messages:.0} messages/s |"
        );
    }
}

/// Run `f` `runs` times: "median (min-max)".
fn spread(runs: usize, mut f: impl FnMut() -> f64) -> String {
    let mut v: Vec<f64> = (0..runs.max(1)).map(|_| f()).collect();
    v.sort_by(f64::total_cmp);
    let fmt = |x: f64| {
        if x >= 1e6 {
            format!("{:.2} M", x / 1e6)
        } else {
            format!("{x:.0}")
        }
    };
    format!(
        "{} ({}-{})",
        fmt(v[v.len() / 2]),
        fmt(v[0]),
        fmt(v[v.len() - 1])
    )
}

fn server(history_lines: usize) -> Server {
    let config = Config {
        limits: Limits {
            rate_per_second: 0.0,
            history_lines,
            ..Limits::default()
        },
        ..Config::default()
    };
    let chat = TcpListener::bind("127.0.0.1:0").expect("bind");
    let page = TcpListener::bind("127.0.0.1:0").expect("bind");
    Server::start(chat, page, &config).expect("start")
}

/// A client in `room`, past its greeting.
fn join(addr: SocketAddr, room: &str) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let _ = stream.set_nodelay(true);
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}{room}"), stream).expect("handshake");
    let mut greeted = false;
    loop {
        match ws.read().expect("greeting") {
            Message::Text(t) if t.starts_with(" .... you are ") => greeted = true,
            Message::Text(t) if greeted && t.starts_with(" .... here now (") => return ws,
            _ => {}
        }
    }
}

/// Microseconds per join into a room with `history` lines said.
fn join_cost(history: usize) -> f64 {
    let server = server(history);
    let addr = server.chat_addr();
    let mut talker = join(addr, "/bench");
    let line = "x".repeat(64);
    for _ in 0..HISTORY {
        talker.send(Message::text(line.clone())).expect("send");
    }
    let mut heard = 0;
    while heard < HISTORY {
        if let Message::Text(t) = talker.read().expect("read") {
            heard += usize::from(t.ends_with(&line));
        }
    }
    let start = Instant::now();
    for _ in 0..JOINS {
        let mut ws = join(addr, "/bench");
        let _ = ws.close(None);
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / JOINS as f64;
    server.shutdown();
    us
}

/// Deliveries per second, and the wall time in ms, with the clients
/// spread evenly over `rooms` rooms.
fn fan_out(rooms: usize) -> (f64, f64) {
    let server = server(0);
    let addr = server.chat_addr();
    let per_room = CLIENTS / rooms;
    let clients: Vec<WebSocket<TcpStream>> = (0..CLIENTS)
        .map(|i| join(addr, &format!("/room{}", i % rooms)))
        .collect();
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let threads: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                // Join lines of those who came later are counted out: only
                // chat lines (`user-N: m`) count.
                let want = per_room * MESSAGES;
                for k in 0..MESSAGES {
                    ws.send(Message::text(format!("m{k}"))).expect("send");
                }
                let mut got = 0;
                while got < want {
                    if let Message::Text(t) = ws.read().expect("read") {
                        got += usize::from(!t.starts_with(" .... "));
                    }
                }
                got
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let total: usize = threads.into_iter().map(|t| t.join().expect("client")).sum();
    let wall = start.elapsed().as_secs_f64();
    server.shutdown();
    (total as f64 / wall, wall * 1e3)
}
