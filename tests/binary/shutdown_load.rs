//! Shutdown under load: SIGTERM to the real binary while 500 clients are
//! connected and messages are flowing. Every client gets close 1001 (after
//! whatever lines came before it) and the process exits 0 within seconds.

use testkit::*;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::Message;

const CLIENTS: usize = 500;
const SENDERS: usize = 4;

/// A sender: chats every 10 ms, each line waited for, until the server's
/// close; answers it and returns its code.
fn sender(mut client: TestClient, echoes: Arc<AtomicUsize>) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    loop {
        assert!(
            Instant::now() < deadline,
            "{}: no close within 30 s",
            client.nick
        );
        let text = format!("line {i}");
        if client.ws.send(Message::text(text.clone())).is_err() {
            // The close is on its way: read it below.
        }
        let mine = format!("{}: {text}", client.nick);
        loop {
            match client.ws.read() {
                Ok(Message::Text(t)) if t.as_str() == mine => break,
                Ok(Message::Close(frame)) => {
                    let code = frame.map_or(1005, |f| u16::from(f.code));
                    client.close(); // flush tungstenite's reply, read to EOF
                    return code;
                }
                Ok(_) => {}
                Err(e) => panic!("{}: {e} before a close", client.nick),
            }
        }
        echoes.fetch_add(1, Ordering::Relaxed);
        i += 1;
        // Pacing: 4 senders at 100 lines a second each, to 500 clients that
        // are not reading yet, stay well inside every outbox and socket.
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_with_500_clients_closes_every_one_with_1001() {
    raise_fd_limit();
    let mut server = start_binary!(None, &["--rate", "0"]);
    let addr = server.chat_addr;

    // 496 raw clients in batches of overlapping handshakes, and 4 senders.
    let mut quiet: Vec<TcpStream> = Vec::with_capacity(CLIENTS);
    while quiet.len() < CLIENTS - SENDERS {
        let batch: Vec<TcpStream> = (0..100.min(CLIENTS - SENDERS - quiet.len()))
            .map(|_| begin_upgrade(addr))
            .collect();
        for mut stream in batch {
            finish_upgrade(&mut stream);
            quiet.push(stream);
        }
    }
    let echoes = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let client = TestClient::connect(addr);
            let echoes = echoes.clone();
            thread::spawn(move || sender(client, echoes))
        })
        .collect();

    // Messages are flowing: wait for some, then stop the server mid-stream.
    assert!(
        wait_until(Duration::from_secs(10), || echoes.load(Ordering::Relaxed)
            >= 40),
        "senders got only {} echoes",
        echoes.load(Ordering::Relaxed)
    );
    let term = Instant::now();
    server.sigterm();

    // Every quiet client: lines, then close 1001, then EOF. Each answers the
    // close, as a browser would.
    for (i, stream) in quiet.iter_mut().enumerate() {
        let code = {
            let mut reader = BufReader::with_capacity(64 * 1024, &*stream);
            let code = loop {
                let (opcode, payload) = read_frame(&mut reader)
                    .unwrap_or_else(|e| panic!("client {i}: {e} before a close frame"));
                match opcode {
                    1 | 9 => {}
                    8 => break u16::from_be_bytes([payload[0], payload[1]]),
                    other => panic!("client {i}: opcode {other}"),
                }
            };
            // Nothing may follow the close frame but the end of the stream.
            assert!(
                reader.buffer().is_empty(),
                "client {i}: data after the close"
            );
            code
        };
        assert_eq!(code, 1001, "client {i}");
        let _ = stream.write_all(&frame(true, 8, &close_payload(1001, b""), true));
        assert!(
            ends_within(stream, WAIT, 0),
            "client {i}: still open after the close"
        );
    }
    for (i, s) in senders.into_iter().enumerate() {
        assert_eq!(s.join().expect("sender"), 1001, "sender {i}");
    }

    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("still running 10 s after SIGTERM");
    let took = term.elapsed();
    assert_eq!(status.code(), Some(0), "exit status");
    assert!(took < Duration::from_secs(5), "exited only after {took:?}");
    eprintln!("{CLIENTS} clients closed with 1001; exit 0 after {took:?}");
}
