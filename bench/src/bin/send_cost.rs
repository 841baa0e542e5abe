//! What one broadcast costs the kernel, with no chat server involved: the
//! floor under the idle round trip in `make bench`.
//!
//! Accepts `N` loopback connections (default 5000, or the first argument
//! after `--`), then, 30 times, sends 40 bytes to each with one non-blocking
//! `send`, as the room does, and prints the median cost per send. The
//! clients never read: their sockets just hold the bytes.
//!
//!     cargo run --release -p chat-bench --bin send_cost [-- 5000]
//!
//! On the 2-core machine this project is measured on: about 6.5 us per send,
//! so one broadcast to 5000 clients is about 32 ms of CPU on one core.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const ROUNDS: usize = 30;

fn main() -> std::io::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5000);
    // Two descriptors per connection (both ends are in this process).
    let fds = chat_bench::server::raise_fd_limit();
    if fds < 2 * n as u64 + 64 {
        eprintln!("send_cost: the open-file limit ({fds}) is too low for {n} connections");
        std::process::exit(1);
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut clients = Vec::with_capacity(n);
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(TcpStream::connect(addr)?);
        let (server, _) = listener.accept()?;
        server.set_nodelay(true)?;
        servers.push(server);
    }
    let line = [b'x'; 40];
    let mut per_send = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for server in &servers {
            let sent = socket2::SockRef::from(server)
                .send_with_flags(&line, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)?;
            assert_eq!(sent, 40, "a send did not take the whole line");
        }
        per_send.push(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        std::thread::sleep(Duration::from_millis(20));
    }
    per_send.sort_by(f64::total_cmp);
    println!(
        "{n} idle loopback connections, {ROUNDS} rounds: one non-blocking send of 40 B \
         costs {:.2} us (median; min {:.2}, max {:.2}), so one broadcast to all {:.1} ms",
        per_send[ROUNDS / 2],
        per_send[0],
        per_send[ROUNDS - 1],
        per_send[ROUNDS / 2] * n as f64 / 1000.0
    );
    drop(clients);
    Ok(())
}
