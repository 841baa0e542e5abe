//! A stage for the page: one listener on loopback that serves the page
//! (with its chat port pointing back here), answers the page's WebSocket
//! itself, so that the test plays the server (JSON frames, `chat.v1.json`),
//! and passes every other request (a transcript, a QR code) on to a real
//! page server. So a test can show the page lines the server does not send
//! yet (a teacher's, a join code's) and read what the page sends.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

use super::{PAGE_WAIT, POLL};

const INDEX_HTML: &str = include_str!("../../web/index.html");

/// The listener and the WebSockets the page opened on it.
pub struct Stage {
    addr: SocketAddr,
    conns: Receiver<Conn>,
}

/// One WebSocket from the page: the test is the server.
pub struct Conn {
    ws: WebSocket<TcpStream>,
    /// The request target (`/physics?session=...&code=...`).
    pub target: String,
    /// The subprotocol the page asked for.
    pub protocols: String,
}

impl Stage {
    /// Serve on `127.0.0.1:0`; requests other than the page's and its
    /// WebSocket go to the page server at `real` (404 without one).
    pub fn start(real: Option<SocketAddr>) -> Stage {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stage");
        let addr = listener.local_addr().expect("stage address");
        let (tx, conns) = unbounded();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                thread::spawn(move || {
                    if let Some(conn) = serve(stream, addr, real) {
                        let _ = tx.send(conn);
                    }
                });
            }
        });
        Stage { addr, conns }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/` followed by `rest` (a room, a query, a fragment).
    pub fn url(&self, rest: &str) -> String {
        format!("http://{}/{rest}", self.addr)
    }

    /// The page's next WebSocket.
    pub fn accept(&self) -> Conn {
        self.conns
            .recv_timeout(PAGE_WAIT)
            .expect("the page to open a WebSocket")
    }

    /// Whether the page opens another WebSocket within `wait`.
    pub fn accepts_within(&self, wait: Duration) -> Option<Conn> {
        self.conns.recv_timeout(wait).ok()
    }
}

impl Conn {
    /// Send one JSON object.
    pub fn send(&mut self, json: serde_json::Value) {
        self.ws
            .send(Message::text(json.to_string()))
            .expect("send to the page");
    }

    /// The time field every object has.
    pub fn now() -> &'static str {
        "2026-12-06T05:23:41.906Z"
    }

    /// A notice (the plain line's text after ` .... `).
    pub fn notice(&mut self, text: &str) {
        self.send(serde_json::json!({"type": "notice", "time": Conn::now(), "text": text}));
    }

    /// The welcome and a presence of `members` (`(nick, role)`).
    pub fn welcome(&mut self, nick: &str, members: &[(&str, &str)]) {
        self.send(serde_json::json!({"type": "welcome", "time": Conn::now(), "nick": nick, "room": "chat"}));
        let list: Vec<_> = members
            .iter()
            .map(|(n, r)| serde_json::json!({"nick": n, "role": r}))
            .collect();
        self.send(serde_json::json!({"type": "presence", "time": Conn::now(), "members": list, "count": members.len()}));
    }

    /// The next text the page sends, within [`PAGE_WAIT`].
    pub fn recv(&mut self) -> String {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => return t.to_string(),
                Ok(Message::Close(_)) => panic!("the page closed"),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    assert!(
                        Instant::now() < deadline,
                        "waited {PAGE_WAIT:?} for the page"
                    );
                }
                Err(e) => panic!("reading the page: {e}"),
            }
        }
    }

    /// Read what the page sends until `want`; panic past [`PAGE_WAIT`].
    pub fn recv_until(&mut self, want: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let text = self.recv();
            let done = text == want;
            seen.push(text);
            if done {
                return seen;
            }
        }
    }

    /// The close frame the page sends (its code and reason).
    pub fn recv_close(&mut self) -> Option<(u16, String)> {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            match self.ws.read() {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) && Instant::now() < deadline => {}
                Err(_) => return None,
            }
        }
    }

    /// Close with `code` and `reason`, as the server does.
    pub fn close(mut self, code: u16, reason: &str) {
        let _ = self.ws.close(Some(tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: reason.to_owned().into(),
        }));
        let _ = self.ws.flush();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.ws.read() {
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    thread::sleep(POLL)
                }
                Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

/// Read a request head (to the blank line), at most 16 KiB.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

fn field<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(mut stream: TcpStream, addr: SocketAddr, real: Option<SocketAddr>) -> Option<Conn> {
    let head = read_head(&mut stream)?;
    let target = head.split_whitespace().nth(1)?.to_owned();
    let path = target.split(['?', '#']).next().unwrap_or("/").to_owned();
    if field(&head, "Upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        let key = field(&head, "Sec-WebSocket-Key")?;
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let protocols = field(&head, "Sec-WebSocket-Protocol")
            .unwrap_or("")
            .to_owned();
        let chosen = if protocols.split(',').any(|p| p.trim() == "chat.v1.json") {
            "Sec-WebSocket-Protocol: chat.v1.json\r\n"
        } else {
            ""
        };
        write!(
            stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{chosen}\r\n"
        )
        .ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .ok()?;
        let ws = WebSocket::from_raw_socket(stream, Role::Server, None);
        return Some(Conn {
            ws,
            target,
            protocols,
        });
    }
    let page = path == "/"
        || path
            .strip_prefix('/')
            .is_some_and(|p| !p.contains('/') && !p.contains('.') && !p.is_empty());
    if page {
        let port = addr.port().to_string();
        let html = INDEX_HTML
            .replace("{{WS_PORT}}", &port)
            .replace("{{PAGE_PORT}}", &port)
            .replace("{{MAX_MESSAGE_BYTES}}", "4096")
            .replace("{{PUBLIC_URL}}", "");
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
            html.len()
        );
        return None;
    }
    let Some(real) = real else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return None;
    };
    // Anything else: to the real page server, Connection: close.
    let mut upstream = TcpStream::connect(real).ok()?;
    let mut forwarded: String = head
        .trim_end()
        .lines()
        .filter(|l| {
            !l.to_ascii_lowercase().starts_with("connection:")
                && !l.to_ascii_lowercase().starts_with("keep-alive:")
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    forwarded.push_str("Connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes()).ok()?;
    let _ = std::io::copy(&mut upstream, &mut stream);
    let _ = stream.shutdown(Shutdown::Both);
    None
}
