//! The Common Lisp Cookbook's WebSocket chat, translated function by function
//! (<https://lispcookbook.github.io/cl-cookbook/websockets.html>): each Lisp function is named
//! in the doc comment of its Rust counterpart. Threads: main accepts; one **room** owns the
//! table of connections (no lock: nobody else touches it); per client a **reader**
//! (`chat_server`) and a **writer** fed by a bounded channel; tiny_http serves the page.
//! Data flows one way: socket -> reader -> room -> writers -> sockets.
//!
//! `make seed`, or `cargo run --example seed -- [CHAT_PORT [PAGE_PORT]]` (0: any free port),
//! then open <http://localhost:8080/> in two tabs. `docs/walkthrough.md` goes from here to `src/`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How many messages a client's writer may have waiting. When it is full the room waits:
/// one client that stops reading stalls everyone (the first thing `src/` fixes).
const OUTBOX_MESSAGES: usize = 64;

/// What a reader tells the room: the Lisp `:open`, `:message` and `:close` events.
enum Event {
    Open { id: u64, outbox: Sender<Message> },
    Message { id: u64, text: String },
    Close { id: u64 },
}

/// `*connections*`: id -> (nickname, the sending end of that client's writer).
type Connections = HashMap<u64, (String, Sender<Message>)>;

/// `handle-new-connection`: a random `user-N` nickname (two clients may draw the same one).
fn handle_new_connection(connections: &mut Connections, id: u64, outbox: Sender<Message>) {
    let nickname = format!("user-{}", rand::random_range(0..100_000));
    connections.insert(id, (nickname, outbox));
}

/// `broadcast-to-room`: `nick: message` to everyone, the sender included.
fn broadcast_to_room(connections: &Connections, id: u64, message: &str) {
    if let Some((nickname, _)) = connections.get(&id) {
        let message = format!("{nickname}: {message}");
        for (_, outbox) in connections.values() {
            let _ = outbox.send(Message::text(&message)); // blocks while this outbox is full
        }
    }
}

/// `handle-close-connection`: forget the client, then tell the others it left.
fn handle_close_connection(connections: &mut Connections, id: u64) {
    if let Some((nickname, _)) = connections.remove(&id) {
        let message = format!(" .... {nickname} has left.");
        for (_, outbox) in connections.values() {
            let _ = outbox.send(Message::text(&message)); // fails only if that writer has ended
        }
    }
}

/// The room thread: the only owner of `*connections*`, so events are handled one at a time,
/// in the order they arrive, and everyone sees the same lines in the same order.
fn room(events: Receiver<Event>) {
    let mut connections = Connections::new();
    for event in events {
        match event {
            Event::Open { id, outbox } => handle_new_connection(&mut connections, id, outbox),
            Event::Message { id, text } => broadcast_to_room(&connections, id, &text),
            Event::Close { id } => handle_close_connection(&mut connections, id),
        }
    }
}

/// `chat-server`: one connection, on its own thread, the socket's only reader.
fn chat_server(id: u64, stream: TcpStream, room: Sender<Event>) {
    let (mut ws, outbox) = match start_connection(stream) {
        Ok(started) => started,
        Err(e) => return eprintln!("client {id}: {e}"),
    };
    let pongs = outbox.clone();
    let _ = room.send(Event::Open { id, outbox }); // :open
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let text = text.as_str().to_owned(); // :message
                let _ = room.send(Event::Message { id, text });
            }
            Ok(Message::Ping(payload)) => drop(pongs.send(Message::Pong(payload))),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {} // binary frames are not chat
        }
    }
    // :close. The writer sends the close frame once the room has let go of its outbox too.
    let _ = room.send(Event::Close { id });
}

/// `start-connection`: the handshake (`tungstenite::accept`), then the client's writer.
fn start_connection(stream: TcpStream) -> Result<(WebSocket<ReaderSide>, Sender<Message>), Error> {
    let writer_ws = WebSocket::from_raw_socket(stream.try_clone()?, Role::Server, None);
    let mut ws = tungstenite::accept(ReaderSide(stream, false)).map_err(|e| e.to_string())?;
    ws.get_mut().1 = true; // the handshake is done: from now on only the writer writes
    let (outbox, queued) = bounded(OUTBOX_MESSAGES);
    thread::Builder::new().spawn(move || writer(writer_ws, queued))?;
    Ok((ws, outbox))
}

/// A client's writer thread, the socket's only writer: what the room (and the reader's
/// pongs) queued, in order, until both have let go of the outbox; then a close frame.
fn writer(mut ws: WebSocket<TcpStream>, queued: Receiver<Message>) {
    if queued.iter().all(|message| ws.send(message).is_ok()) {
        let _ = ws.close(None).and_then(|()| ws.flush());
    } // else the socket is gone, and the reader sees that too
}

/// The reader's view of the socket. Once the handshake is done (the flag), what tungstenite
/// writes from inside `read` is dropped, so two threads never write frames at once.
struct ReaderSide(TcpStream, bool);

impl Read for ReaderSide {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for ReaderSide {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.1 {
            return Ok(buf.len()); // tungstenite's pong or close reply: the writer sends those
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `*html*`, the tutorial's page as it is; only the chat port is written in at start.
const HTML: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LISP-CHAT</title></head>
<body>
    <ul id="chat-echo-area"></ul>
    <div style="position:fixed; bottom:0;"><input id="chat-input" placeholder="say something"></div>
    <script>
     window.onload = function () {
         const inputField = document.getElementById("chat-input");
         function receivedMessage(msg) {
             let li = document.createElement("li");
             li.textContent = msg.data;
             document.getElementById("chat-echo-area").appendChild(li);
         }
         const ws = new WebSocket("ws://localhost:12345/");
         ws.addEventListener('message', receivedMessage);
         inputField.addEventListener("keyup", (evt) => {
             if (evt.key === "Enter") { ws.send(evt.target.value); evt.target.value = ""; }
         });
     };
    </script>
</body></html>
"#;

/// `client-server`: every request on the page port gets the page, `200 text/html`.
fn client_server(page: tiny_http::Server, html: String) {
    for request in page.incoming_requests() {
        let mut response = tiny_http::Response::from_string(html.as_str());
        if let Ok(header) = "Content-Type: text/html; charset=utf-8".parse::<tiny_http::Header>() {
            response.add_header(header);
        }
        if let Err(e) = request.respond(response) {
            eprintln!("page: {e}");
        }
    }
}

/// The two `clackup`s: the chat on 12345 and the page on 8080, or the ports given as
/// arguments (0: any free port). The lines printed say which.
fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut bind = |default: u16| -> Result<TcpListener, Error> {
        let port = args.next().map_or(Ok(default), |arg| {
            arg.parse().map_err(|_| format!("bad port: {arg}"))
        })?;
        TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            // The usual cause: the server (or another seed) already has it.
            let hint = match e.kind() {
                io::ErrorKind::AddrInUse => {
                    "; is a server already running? `make seed ARGS=\"0 0\"` picks free ports"
                }
                _ => "",
            };
            format!("port {port}: {e}{hint}").into()
        })
    };
    let (chat, page) = match (bind(12345), bind(8080)) {
        (Ok(chat), Ok(page)) => (chat, page),
        // One line, not `Error: "..."` in Debug quotes.
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("seed: {e}");
            std::process::exit(1);
        }
    };
    let (chat_port, page_port) = (chat.local_addr()?.port(), page.local_addr()?.port());
    let html = HTML.replace(":12345/", &format!(":{chat_port}/"));
    let page = tiny_http::Server::from_listener(page, None)?;
    let (events, room_events) = unbounded();
    thread::Builder::new().spawn(move || room(room_events))?;
    thread::Builder::new().spawn(move || client_server(page, html))?;
    println!("chat at ws://localhost:{chat_port}/");
    println!("page at http://localhost:{page_port}/");
    for (id, stream) in (1..).zip(chat.incoming()) {
        let (events, thread) = (events.clone(), thread::Builder::new());
        if let Err(e) = stream.and_then(|s| thread.spawn(move || chat_server(id, s, events))) {
            eprintln!("client {id}: {e}");
        }
    }
    Ok(())
}
