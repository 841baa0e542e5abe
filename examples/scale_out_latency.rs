//! What a Redis round trip costs a chat line (docs/scale-out.md): the time from a client sending a line to
//! another client receiving it, on one instance without Redis, and across
//! two instances sharing a `redis-server` (started here on a free port).
//! Paced (one line every 2 ms), so this is latency, not throughput.
//!
//! `cargo run --release --example scale_out_latency` (needs `redis-server`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chat_server::{Config, Limits, Server};
use tungstenite::{Message, WebSocket};

const LINES: usize = 3000;
const PACE: Duration = Duration::from_millis(2);

fn main() {
    let port = free_port();
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server)");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("redis://127.0.0.1:{port}/");

    let alone = start(None);
    let (one, p50, p99) = measure(alone.chat_addr(), alone.chat_addr());
    println!("one instance, no Redis:        {one} lines, p50 {p50:?}, p99 {p99:?}");
    drop(alone);
    let a = start(Some(&url));
    let b = start(Some(&url));
    let (n, p50r, p99r) = measure(a.chat_addr(), b.chat_addr());
    println!("two instances through Redis:   {n} lines, p50 {p50r:?}, p99 {p99r:?}");
    println!(
        "cost of the Redis round trip:  p50 +{:?}, p99 +{:?}",
        p50r.saturating_sub(p50),
        p99r.saturating_sub(p99)
    );
    drop((a, b));
    let _ = redis.kill();
    let _ = redis.wait();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(redis: Option<&str>) -> Server {
    let config = Config {
        redis: redis.map(str::to_owned),
        limits: Limits {
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..Config::default()
    };
    let chat = TcpListener::bind("127.0.0.1:0").unwrap();
    let page = TcpListener::bind("127.0.0.1:0").unwrap();
    Server::start(chat, page, &config).expect("start")
}

fn connect(addr: SocketAddr) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/").as_str(), stream).unwrap();
    // Skip the greeting: history, ` .... you are`, the presence line.
    while !read(&mut ws).starts_with(" .... you are") {}
    read(&mut ws);
    ws
}

fn read(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match ws.read().expect("a line within 5 s") {
            Message::Text(t) => return t.as_str().to_owned(),
            _ => continue,
        }
    }
}

/// Send paced lines from a client on `from`, time each until a client on
/// `to` has it; return the count, the median and the 99th percentile.
fn measure(from: SocketAddr, to: SocketAddr) -> (usize, Duration, Duration) {
    let mut receiver = connect(to);
    let mut sender = connect(from);
    while !read(&mut receiver).ends_with("has joined.") {}
    let mut took = Vec::with_capacity(LINES);
    for i in 0..LINES {
        let text = format!("line {i}");
        let sent = Instant::now();
        sender.send(Message::text(text.clone())).unwrap();
        while !read(&mut receiver).ends_with(&text) {}
        took.push(sent.elapsed());
        while !read(&mut sender).ends_with(&text) {}
        std::thread::sleep(PACE);
    }
    took.sort_unstable();
    (LINES, took[LINES / 2], took[LINES * 99 / 100])
}
