//! A WebSocket test client over a real TCP socket, every wait bounded by
//! [`WAIT`], and the fixed lines the server sends.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use crate::WAIT;

/// A WebSocket client (tungstenite) over a plain TCP socket whose reads and
/// writes time out after [`WAIT`].
pub struct TestClient {
    /// The connection, for tests that send or read frames themselves.
    pub ws: WebSocket<TcpStream>,
    /// The nickname from the ` .... you are NICK.` line (empty until the
    /// greeting was read).
    pub nick: String,
    /// The lines before ` .... you are` (the room's history, or a resume's
    /// missed lines).
    pub history: Vec<String>,
    /// The presence line after ` .... you are`.
    pub presence: String,
}

/// The nickname in a ` .... you are NICK.` line, if it is one.
pub fn you_are(line: &str) -> Option<&str> {
    line.strip_prefix(" .... you are ")?.strip_suffix('.')
}

/// ` .... here now (N): A, B.` for these names (at most 50 shown, then
/// `, and K more`).
pub fn here_now(names: &[&str]) -> String {
    let shown = &names[..names.len().min(50)];
    let more = match names.len() - shown.len() {
        0 => String::new(),
        k => format!(", and {k} more"),
    };
    format!(
        " .... here now ({}): {}{more}.",
        names.len(),
        shown.join(", ")
    )
}

/// ` .... NICK has left.`
pub fn left(nick: &str) -> String {
    format!(" .... {nick} has left.")
}

/// ` .... NICK has joined.`
pub fn joined(nick: &str) -> String {
    format!(" .... {nick} has joined.")
}

impl TestClient {
    /// Connect to the main room (`/chat`) and read the greeting; panics if
    /// it does not come within [`WAIT`].
    pub fn connect(addr: SocketAddr) -> TestClient {
        TestClient::connect_to(addr, "/chat")
    }

    /// Connect with this request target (`/ROOM`, `/ROOM?session=ID`) and
    /// read the greeting: history, ` .... you are NICK.`, the presence
    /// line. Panics if the handshake fails or the greeting does not come
    /// within [`WAIT`].
    pub fn connect_to(addr: SocketAddr, target: &str) -> TestClient {
        let mut client = TestClient::connect_quiet_to(addr, target);
        client.read_greeting();
        client
    }

    /// Read the greeting (see [`TestClient::connect_to`]) into `history`,
    /// `nick` and `presence`. Panics if it does not come within [`WAIT`] or
    /// the line after ` .... you are` is not a presence line.
    pub fn read_greeting(&mut self) {
        let deadline = Instant::now() + WAIT;
        self.history.clear();
        loop {
            assert!(Instant::now() < deadline, "no greeting within {WAIT:?}");
            let line = self.recv_text();
            if let Some(nick) = you_are(&line) {
                self.nick = nick.to_owned();
                break;
            }
            self.history.push(line);
        }
        self.presence = self.recv_text();
        assert!(
            self.presence.starts_with(" .... here now ("),
            "not a presence line: {:?}",
            self.presence
        );
    }

    /// Connect to the main room without reading anything.
    pub fn connect_quiet(addr: SocketAddr) -> TestClient {
        TestClient::connect_quiet_to(addr, "/chat")
    }

    /// Connect with this request target without reading anything. Panics
    /// if the connection or the handshake fails.
    pub fn connect_quiet_to(addr: SocketAddr, target: &str) -> TestClient {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let url = format!("ws://{addr}{target}");
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("handshake");
        TestClient {
            ws,
            nick: String::new(),
            history: Vec::new(),
            presence: String::new(),
        }
    }

    /// Drop the connection without a close frame (a network gone, a
    /// killed process): the TCP connection ends both ways.
    pub fn vanish(self) {
        let _ = self.ws.get_ref().shutdown(std::net::Shutdown::Both);
    }

    /// Panics if anything arrives within `quiet` (a short look, for "no one
    /// else got it"; the positive checks always come first).
    pub fn assert_nothing_for(&mut self, quiet: Duration) {
        self.ws.get_ref().set_read_timeout(Some(quiet)).unwrap();
        let got = self.ws.read();
        self.ws.get_ref().set_read_timeout(Some(WAIT)).unwrap();
        match got {
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }

    /// Send `text` as one text frame. Panics if the send fails.
    pub fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// [`TestClient::send`], named for what a test does with it.
    pub fn send_text(&mut self, text: &str) {
        self.send(text);
    }

    /// The next text line (pings and pongs skipped). Panics after [`WAIT`],
    /// or on anything else (a close, binary, an error).
    pub fn recv_text(&mut self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no text within {WAIT:?}");
            match self.ws.read() {
                Ok(Message::Text(t)) => return t.as_str().to_owned(),
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                Ok(other) => panic!("expected text, got {other:?}"),
                Err(e) => panic!("expected text, got error {e}"),
            }
        }
    }

    /// The next text line must be exactly `want`; panics otherwise (or
    /// after [`WAIT`]).
    pub fn expect_text(&mut self, want: &str) {
        let got = self.recv_text();
        assert_eq!(got, want, "the next line");
    }

    /// Read lines until one equals `want`; panics after [`WAIT`]. Returns
    /// the lines skipped on the way.
    pub fn recv_until(&mut self, want: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "{want:?} not seen; got {skipped:?}"
            );
            let line = self.recv_text();
            if line == want {
                return skipped;
            }
            skipped.push(line);
        }
    }

    /// Read lines until one passes `pick`, and return it; panics after
    /// [`WAIT`]. Lines on the way are skipped.
    pub fn recv_matching(&mut self, pick: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no matching line within {WAIT:?}"
            );
            let line = self.recv_text();
            if pick(&line) {
                return line;
            }
        }
    }

    /// Read until the server's close frame; return its code (1005 for a
    /// close frame without one). Text lines on the way are skipped. Panics
    /// if the connection ends without one, or after [`WAIT`].
    pub fn recv_close(&mut self) -> u16 {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no close within {WAIT:?}");
            match self.ws.read() {
                Ok(Message::Close(Some(frame))) => return u16::from(frame.code),
                Ok(Message::Close(None)) => return u16::from(CloseCode::Status),
                Ok(_) => {}
                Err(e) => panic!("expected a close frame, got error {e}"),
            }
        }
    }

    /// Close as a client quitting does: send a close frame, then read
    /// until the server's answer ends the connection (at most [`WAIT`]).
    /// Never panics.
    pub fn close(&mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && self.ws.read().is_ok() {}
    }

    /// Send `text` and read until this client's own `NICK: text` comes
    /// back; return the lines seen on the way. Proves the room still works
    /// for us. Panics after [`WAIT`].
    pub fn chat(&mut self, text: &str) -> Vec<String> {
        self.send(text);
        let mine = format!("{}: {text}", self.nick);
        self.recv_until(&mine)
    }
}
