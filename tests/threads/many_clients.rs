//! Many clients: 2000 connected at once all receive one broadcast; beyond
//! max_clients a handshake is answered 503 and no thread is kept; after
//! 2000 leave and 500 more connect/disconnect cycles (clean closes, drops,
//! abandoned and refused handshakes) the server is back at its baseline
//! thread count and client count.

use testkit::*;

use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{Config, Limits};

const CLIENTS: usize = 2000;
const CYCLES: usize = 500;
/// Handshakes started together, so the room announces their joins in
/// batches.
const BATCH: usize = 250;
/// How long the server may take to get back to its baseline.
const SETTLE: Duration = Duration::from_secs(20);

fn config(max_clients: usize) -> Config {
    Config {
        limits: Limits {
            max_clients,
            // Writers may wait while the test reads 2000 sockets in turn.
            write_timeout: Duration::from_secs(60),
            // No page-server restarts (they start and end threads).
            page_timeout: Duration::from_secs(3600),
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..test_config()
    }
}

/// The thread count once the server is fully up and it has stopped moving.
/// The page server starts tiny_http's threads just after `start` returns; a
/// page served proves they are there.
fn steady_threads(server: &TestServer) -> usize {
    let page = server.page_addr();
    let request = format!("GET / HTTP/1.1\r\nHost: {page}\r\nConnection: close\r\n\r\n");
    let (status, head, _) = http_exchange(page, request.as_bytes());
    assert_eq!(status, 200, "{head}");
    let mut last = thread_count();
    for _ in 0..100 {
        thread::sleep(Duration::from_millis(100));
        let now = thread_count();
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("thread count never settled");
}

/// Threads of this process named `client-N` (a reader, one per connection)
/// or `client-N-w` (a writer, only while that client is behind).
fn client_threads() -> usize {
    threads_named(|name| name.starts_with("client-"))
}

/// Wait for the server to be back at `clients` clients, one client thread
/// each (nobody is behind, so no writers), and no more threads in all than
/// `threads` (tiny_http's idle pool threads may end meanwhile, so fewer is
/// fine).
fn assert_settles(server: &TestServer, clients: usize, threads: usize, when: &str) {
    let settled = wait_until(SETTLE, || {
        server.clients() == clients && client_threads() == clients && thread_count() <= threads
    });
    assert!(
        settled,
        "{when}: {} clients (want {clients}), {} client threads (want {clients}), {} threads (want {threads})",
        server.clients(),
        client_threads(),
        thread_count()
    );
}

#[test]
fn two_thousand_clients_then_back_to_baseline() {
    let _turn = crate::serial();
    // Each client costs this process two descriptors (both ends).
    assert!(
        raise_fd_limit() >= 2 * CLIENTS as u64 + 500,
        "open-file limit too low"
    );
    let server = start_server_with(config(Limits::default().max_clients));
    let addr = server.chat_addr();
    let baseline = steady_threads(&server);
    assert_eq!(client_threads(), 0);

    // Connect in batches: requests first, then answers, so handshakes overlap
    // without overflowing the listen backlog.
    let start = Instant::now();
    let mut clients: Vec<(TcpStream, String)> = Vec::with_capacity(CLIENTS);
    while clients.len() < CLIENTS {
        let batch: Vec<TcpStream> = (0..BATCH.min(CLIENTS - clients.len()))
            .map(|_| begin_upgrade(addr))
            .collect();
        for mut stream in batch {
            let nick = finish_upgrade(&mut stream);
            clients.push((stream, nick));
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "connecting is too slow"
        );
    }
    assert!(
        wait_until(WAIT, || server.clients() == CLIENTS),
        "{} clients",
        server.clients()
    );
    let nicks: std::collections::HashSet<&String> = clients.iter().map(|(_, n)| n).collect();
    assert_eq!(nicks.len(), CLIENTS, "nicknames are not unique");
    // One thread per client: they all keep up, so none has a writer.
    assert_eq!(client_threads(), CLIENTS);
    let connected = start.elapsed();
    eprintln!("{CLIENTS} clients connected in {connected:?}");

    // One broadcast; every client reads up to it. Before it, each client
    // sees the join lines of everyone who joined after it, in the room's
    // order (handshakes in a batch overlap, so that order is the room's).
    let hello = format!("{}: hello, all {CLIENTS}", clients[0].1);
    clients[0]
        .0
        .write_all(&frame(
            true,
            1,
            format!("hello, all {CLIENTS}").as_bytes(),
            true,
        ))
        .unwrap();
    let index: std::collections::HashMap<String, u16> = clients
        .iter()
        .enumerate()
        .map(|(i, (_, nick))| (joined(nick), i as u16))
        .collect();
    let mut seen: Vec<Vec<u16>> = Vec::with_capacity(CLIENTS);
    for (i, (stream, nick)) in clients.iter().enumerate() {
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut joins = Vec::new();
        loop {
            let (opcode, payload) = read_frame(&mut reader)
                .unwrap_or_else(|e| panic!("client {i} ({nick}): {e} after {} joins", joins.len()));
            if opcode != 1 {
                continue; // a ping
            }
            if payload == hello.as_bytes() {
                break;
            }
            let line = String::from_utf8(payload).unwrap();
            let who = index
                .get(&line)
                .unwrap_or_else(|| panic!("client {i}: {line:?}"));
            joins.push(*who);
            assert!(joins.len() < CLIENTS, "client {i}: too many lines");
        }
        seen.push(joins);
    }
    // The room's order: by how many joins each saw, most first. Then client
    // at place p saw exactly the clients at places p+1.., in that order.
    let mut order: Vec<usize> = (0..CLIENTS).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(seen[i].len()));
    for (place, &i) in order.iter().enumerate() {
        let want: Vec<u16> = order[place + 1..].iter().map(|&j| j as u16).collect();
        assert!(
            seen[i] == want,
            "client {i} (place {place}): wrong join lines"
        );
    }
    let broadcast = start.elapsed() - connected;
    eprintln!("broadcast read in {broadcast:?}");

    // Everyone goes (dropped without a close frame: the cheapest goodbye).
    for (stream, _) in &clients {
        let _ = stream.shutdown(Shutdown::Both);
    }
    drop(clients);
    assert_settles(&server, 0, baseline, "after 2000 left");
    let emptied = start.elapsed() - connected - broadcast;
    eprintln!("emptied in {emptied:?}");

    // 500 connect/disconnect cycles of four kinds.
    let refused = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    for cycle in 0..CYCLES {
        match cycle % 4 {
            0 => {
                // A clean close: ours, the echo, then EOF.
                let mut stream = begin_upgrade(addr);
                finish_upgrade(&mut stream);
                stream
                    .write_all(&frame(true, 8, &close_payload(1000, b""), true))
                    .unwrap();
                assert_eq!(read_close_code(&mut stream), 1000, "cycle {cycle}");
                assert_eof(&mut stream);
            }
            1 => {
                // Gone without a word after joining.
                let mut stream = begin_upgrade(addr);
                finish_upgrade(&mut stream);
            }
            2 => {
                // Gone in the middle of the handshake.
                let mut stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
                stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            }
            _ => {
                // Refused: read the answer, then go.
                let (status, _, _) = http_exchange(addr, refused);
                assert_eq!(status, 426, "cycle {cycle}");
            }
        }
    }
    assert_settles(&server, 0, baseline, "after the cycles");
    let cycled = start.elapsed() - connected - broadcast - emptied;

    // And the room still works.
    let mut a = TestClient::connect(addr);
    let mut b = TestClient::connect(addr);
    a.recv_until(&joined(&b.nick));
    a.chat("after all that");
    b.recv_until(&format!("{}: after all that", a.nick));
    eprintln!(
        "{CLIENTS} clients: connected in {connected:?}, broadcast read in {broadcast:?}, \
         emptied in {emptied:?}; {CYCLES} cycles in {cycled:?}"
    );
}

#[test]
fn beyond_max_clients_is_503_and_keeps_no_thread() {
    let _turn = crate::serial();
    let server = start_server_with(config(3));
    let addr = server.chat_addr();
    let baseline = steady_threads(&server);
    let mut seated: Vec<TestClient> = (0..3).map(|_| TestClient::connect(addr)).collect();
    // One thread per seated client.
    assert_settles(&server, 3, baseline + 3, "three seated");
    for attempt in 0..20 {
        let (status, head, mut stream) = http_exchange(addr, upgrade_request(addr, "").as_bytes());
        assert_eq!(status, 503, "attempt {attempt}: {head}");
        assert!(
            ends_within(&mut stream, WAIT, 4096),
            "attempt {attempt}: kept open"
        );
    }
    assert_settles(&server, 3, baseline + 3, "after 20 refusals");
    seated[0].chat("still seated");

    // A seat comes free when a client leaves; the next one gets it.
    let mut gone = seated.remove(2);
    gone.close();
    assert_settles(&server, 2, baseline + 2, "after one left");
    let newcomer = TestClient::connect(addr);
    seated[0].recv_until(&joined(&newcomer.nick));
    seated[1].chat("welcome");
    let welcome = format!("{}: welcome", seated[1].nick);
    seated[0].recv_until(&welcome);
    let (status, _, _) = http_exchange(addr, upgrade_request(addr, "").as_bytes());
    assert_eq!(status, 503, "full again");
}
