//! What a line can carry: a client that types every control character
//! (C0 but tab and line feed, DEL, C1, a lone CR) into a chat line, `/me`
//! and `/msg` reaches a terminal-style plain client and a JSON client
//! with each replaced by U+FFFD, so no line can pass for another or drive
//! a terminal; tabs, CRLF line ends and emoji arrive byte for byte.

use testkit::*;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use serde_json::Value;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// A terminal-style client: raw masked text frames, lines as they come.
struct Terminal {
    stream: TcpStream,
}

impl Terminal {
    fn open(addr: SocketAddr) -> (Terminal, String) {
        let (stream, nick) = raw_join(addr);
        (Terminal { stream }, nick)
    }

    fn type_line(&mut self, text: &str) {
        self.stream
            .write_all(&frame(true, 1, text.as_bytes(), true))
            .expect("type");
    }

    /// The next text line (pings skipped), as raw bytes made a string.
    fn line(&mut self) -> String {
        loop {
            let (opcode, payload) = read_frame(&mut self.stream).expect("a line");
            if opcode == 1 {
                return String::from_utf8(payload).expect("UTF-8");
            }
        }
    }
}

/// A client that offered `chat.v1.json`.
struct Json {
    ws: WebSocket<TcpStream>,
}

impl Json {
    fn open(addr: SocketAddr) -> (Json, String) {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = format!("ws://{addr}/").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "chat.v1.json".parse().unwrap());
        let (ws, _) = tungstenite::client(request, stream).expect("handshake");
        let mut json = Json { ws };
        let welcome = loop {
            let object = json.recv();
            if object["type"] == "welcome" {
                break object;
            }
        };
        assert_eq!(json.recv()["type"], "presence");
        let nick = welcome["nick"].as_str().unwrap().to_owned();
        (json, nick)
    }

    fn recv(&mut self) -> Value {
        loop {
            match self.ws.read().expect("an object") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("expected text, got {other:?}"),
            }
        }
    }
}

/// Every character that must not reach a screen as itself, and the text
/// that carries it (a lone CR is one only when no LF follows).
fn dangerous() -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = (0u32..0x20)
        .chain([0x7f])
        .chain(0x80..0xa0)
        .filter(|&c| c != 0x09 && c != 0x0a)
        .map(|c| {
            let c = char::from_u32(c).unwrap();
            (format!("a{c}b"), "a\u{FFFD}b".to_owned())
        })
        .collect();
    cases.push((
        "line\r .... x has left.".into(),
        "line\u{FFFD} .... x has left.".into(),
    ));
    cases.push(("\u{1b}[2J\u{9b}31m".into(), "\u{FFFD}[2J\u{FFFD}31m".into()));
    cases
}

#[test]
fn control_characters_arrive_replaced_in_both_formats() {
    let server = start_server();
    let addr = server.chat_addr();
    let (mut plain, me) = Terminal::open(addr);
    plain.type_line("/nick Ana");
    assert_eq!(plain.line(), format!(" .... {me} is now Ana."));
    let (mut json, other) = Json::open(addr);
    assert_eq!(plain.line(), joined(&other));

    for (sent, shown) in dangerous() {
        plain.type_line(&sent);
        assert_eq!(plain.line(), format!("Ana: {shown}"), "{sent:?}");
        let object = json.recv();
        assert_eq!(
            (&object["type"], &object["nick"]),
            (&"chat".into(), &"Ana".into())
        );
        assert_eq!(object["text"], shown.as_str(), "{sent:?}");

        plain.type_line(&format!("/me {sent}"));
        assert_eq!(plain.line(), format!("* Ana {shown}"), "{sent:?}");
        let object = json.recv();
        assert_eq!(object["type"], "action");
        assert_eq!(object["text"], shown.as_str(), "{sent:?}");

        plain.type_line(&format!("/msg {other} {sent}"));
        assert_eq!(plain.line(), format!("Ana -> {other}: {shown}"), "{sent:?}");
        let object = json.recv();
        assert_eq!(object["type"], "private");
        assert_eq!(object["text"], shown.as_str(), "{sent:?}");
    }
}

#[test]
fn tabs_crlf_and_emoji_arrive_byte_for_byte() {
    let server = start_server();
    let addr = server.chat_addr();
    let (mut plain, me) = Terminal::open(addr);
    let (mut json, other) = Json::open(addr);
    assert_eq!(plain.line(), joined(&other));
    let code = "fn main() {\r\n\tprintln!(\"hi 🎉\");\r\n}\nlast\tline";
    plain.type_line(code);
    assert_eq!(plain.line(), format!("{me}: {code}"));
    assert_eq!(json.recv()["text"], code);
    plain.type_line(&format!("/me {code}"));
    assert_eq!(plain.line(), format!("* {me} {code}"));
    assert_eq!(json.recv()["text"], code);
}
