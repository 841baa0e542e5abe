//! Peer chat server for the load benchmark: tokio-tungstenite's
//! `examples/server.rs` (a map of peers, each message sent to all of them
//! through their unbounded channels; here the sender too), with the
//! chat-server's command line, log lines and protocol. See ../README.md.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio_tungstenite::tungstenite::Message;

type Tx = UnboundedSender<Message>;
type PeerMap = Arc<Mutex<HashMap<SocketAddr, Tx>>>;

fn broadcast(peers: &PeerMap, text: &str) {
    let msg = Message::text(text);
    for tx in peers.lock().unwrap().values() {
        let _ = tx.send(msg.clone());
    }
}

async fn handle(peers: PeerMap, stream: TcpStream, addr: SocketAddr, name: String) {
    let _ = stream.set_nodelay(true);
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut outgoing, mut incoming) = ws.split();
    let (tx, mut rx) = unbounded_channel();
    let _ = tx.send(Message::text(format!(" .... you are {name}.")));
    {
        // Announce and join under one lock, so two newcomers see each other.
        let mut map = peers.lock().unwrap();
        let joined = Message::text(format!(" .... {name} has joined."));
        for other in map.values() {
            let _ = other.send(joined.clone());
        }
        map.insert(addr, tx);
    }

    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if outgoing.send(msg).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = incoming.next().await {
        if let Message::Text(text) = msg {
            broadcast(&peers, &format!("{name}: {}", text.as_str()));
        }
    }
    peers.lock().unwrap().remove(&addr);
    writer.abort();
    broadcast(&peers, &format!(" .... {name} has left."));
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args
        .iter()
        .position(|a| a == "--ws-port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(12345);
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    eprintln!(
        "INFO chat at ws://{}/ (tokio-tungstenite)",
        listener.local_addr().expect("local addr")
    );
    let peers = PeerMap::default();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let mut next = 0u64;
    loop {
        tokio::select! {
            _ = term.recv() => std::process::exit(0),
            accepted = listener.accept() => {
                let Ok((stream, addr)) = accepted else { continue };
                next += 1;
                tokio::spawn(handle(peers.clone(), stream, addr, format!("user-{next}")));
            }
        }
    }
}
