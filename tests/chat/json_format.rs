//! The JSON wire format (`chat.v1.json`, RFC 6455 section 1.9) over real
//! sockets: a JSON client and a plain one in one room see the same events
//! in the same order; a newcomer's greeting; the subprotocol negotiation;
//! notices; one `id` per event across two instances (`--redis`).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use testkit::redis::RedisServer;
use testkit::*;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

const JSON: &str = "chat.v1.json";

/// A client that offered `chat.v1.json`; every wait bounded by WAIT.
struct JsonClient {
    ws: WebSocket<TcpStream>,
    nick: String,
}

impl JsonClient {
    /// Connect offering `offer` (which must include `chat.v1.json`), check
    /// that the 101 selects it, and read nothing.
    fn connect_quiet(addr: SocketAddr, target: &str, offer: &str) -> JsonClient {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut request = format!("ws://{addr}{target}")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", offer.parse().unwrap());
        let (ws, response) = tungstenite::client(request, stream).expect("handshake");
        assert_eq!(response.status(), 101);
        let selected: Vec<_> = response
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .collect();
        assert_eq!(selected, [JSON], "the 101 selects chat.v1.json");
        JsonClient {
            ws,
            nick: String::new(),
        }
    }

    /// Connect and read the greeting: the history objects, `welcome`,
    /// `presence`; return (history, welcome, presence).
    fn connect(addr: SocketAddr, target: &str) -> (JsonClient, Vec<Value>, Value, Value) {
        let mut client = JsonClient::connect_quiet(addr, target, JSON);
        let mut history = Vec::new();
        let deadline = Instant::now() + WAIT;
        let welcome = loop {
            assert!(Instant::now() < deadline, "no welcome within {WAIT:?}");
            let object = client.recv();
            if object["type"] == "welcome" {
                break object;
            }
            history.push(object);
        };
        client.nick = welcome["nick"].as_str().expect("welcome nick").to_owned();
        let presence = client.recv();
        assert_eq!(presence["type"], "presence", "{presence}");
        (client, history, welcome, presence)
    }

    fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// The next object (pings skipped); every object has a `type` and an
    /// RFC 3339 UTC `time` with milliseconds, within a minute of now.
    fn recv(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no object within {WAIT:?}");
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    let object: Value = serde_json::from_str(t.as_str())
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {t}"));
                    check_time(&object);
                    assert!(object["type"].is_string(), "{object}");
                    return object;
                }
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                Ok(other) => panic!("expected text, got {other:?}"),
                Err(e) => panic!("expected text, got error {e}"),
            }
        }
    }

    fn close(&mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && self.ws.read().is_ok() {}
    }
}

/// `2026-12-06T10:00:00.123Z`: UTC, milliseconds, close to now.
fn check_time(object: &Value) {
    let time = object["time"]
        .as_str()
        .unwrap_or_else(|| panic!("{object}"));
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    let at = humantime::parse_rfc3339(time).unwrap_or_else(|e| panic!("{time}: {e}"));
    let off = match at.duration_since(SystemTime::now()) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    assert!(off < Duration::from_secs(60), "{time} is {off:?} off");
}

/// The object without `time` and `id`, and its `id` if it has one.
fn body(object: &Value) -> (Value, Option<u64>) {
    let mut rest = object.clone();
    let map = rest.as_object_mut().expect("an object");
    map.remove("time");
    let id = map
        .remove("id")
        .map(|id| id.as_u64().expect("id is an integer"));
    (rest, id)
}

/// Read one object from `json` and one line from `plain`: they must be
/// `want` and `line`. Returns the object's id.
fn both(json: &mut JsonClient, plain: &mut TestClient, want: Value, line: &str) -> Option<u64> {
    let object = json.recv();
    let (rest, id) = body(&object);
    assert_eq!(rest, want, "{object}");
    assert_eq!(plain.recv_text(), line);
    id
}

#[test]
fn json_and_plain_clients_see_the_same_events_in_the_same_order() {
    let server = start_server();
    let addr = server.chat_addr();
    let mut plain = TestClient::connect(addr);
    let p = plain.nick.clone();
    let (mut js, history, welcome, presence) = JsonClient::connect(addr, "/chat");
    let j = js.nick.clone();
    assert!(history.is_empty(), "{history:?}");
    assert_eq!(
        body(&welcome),
        (json!({"type": "welcome", "nick": j, "room": "chat"}), None)
    );
    assert_eq!(
        body(&presence),
        (
            json!({"type": "presence", "members": [{"nick": p, "role": "student"}, {"nick": j, "role": "student"}], "count": 2}),
            None
        )
    );
    assert_eq!(plain.recv_text(), format!(" .... {j} has joined."));

    let mut ids = Vec::new();
    // A chat line.
    plain.send("hello");
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "chat", "nick": p, "text": "hello"}),
        &format!("{p}: hello"),
    ));
    // /me.
    js.send("/me waves");
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "action", "nick": j, "text": "waves"}),
        &format!("* {j} waves"),
    ));
    // /nick.
    js.send("/nick jay");
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "rename", "from": j, "to": "jay"}),
        &format!(" .... {j} is now jay."),
    ));
    // A join and a leave.
    let mut cat = TestClient::connect(addr);
    let c = cat.nick.clone();
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "join", "nick": c}),
        &format!(" .... {c} has joined."),
    ));
    cat.close();
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "leave", "nick": c}),
        &format!(" .... {c} has left."),
    ));
    // A private line: to the two of them only, no id.
    plain.send("/msg jay psst");
    let private_id = both(
        &mut js,
        &mut plain,
        json!({"type": "private", "from": p, "to": "jay", "text": "psst"}),
        &format!("{p} -> jay: psst"),
    );
    assert_eq!(private_id, None, "a private line is no room event");
    js.send("bye");
    ids.extend(both(
        &mut js,
        &mut plain,
        json!({"type": "chat", "nick": "jay", "text": "bye"}),
        "jay: bye",
    ));
    assert_eq!(ids.len(), 6, "every room event has an id: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    // A newcomer (JSON): the history flagged, then welcome, then presence
    // in order of arrival; the kept lines carry the ids they had.
    let (mut dan, history, welcome, presence) = JsonClient::connect(addr, "/chat");
    let d = dan.nick.clone();
    let history: Vec<(Value, Option<u64>)> = history.iter().map(body).collect();
    assert_eq!(
        history,
        [
            (
                json!({"type": "chat", "nick": p, "text": "hello", "history": true}),
                Some(ids[0])
            ),
            (
                json!({"type": "action", "nick": j, "text": "waves", "history": true}),
                Some(ids[1])
            ),
            (
                json!({"type": "chat", "nick": "jay", "text": "bye", "history": true}),
                Some(ids[5])
            ),
        ]
    );
    assert_eq!(
        body(&welcome),
        (json!({"type": "welcome", "nick": d, "room": "chat"}), None)
    );
    assert_eq!(
        body(&presence),
        (
            json!({"type": "presence",
                   "members": [{"nick": p, "role": "student"}, {"nick": "jay", "role": "student"}, {"nick": d, "role": "student"}], "count": 3}),
            None
        )
    );
    let join_id = both(
        &mut js,
        &mut plain,
        json!({"type": "join", "nick": d}),
        &format!(" .... {d} has joined."),
    )
    .expect("a join has an id");
    assert!(join_id > ids[5], "{join_id} after {ids:?}");
    // A plain newcomer gets the same history as plain lines.
    let eve = TestClient::connect(addr);
    assert_eq!(
        eve.history,
        [
            format!("{p}: hello"),
            format!("* {j} waves"),
            "jay: bye".to_owned()
        ]
    );
    dan.close();
}

#[test]
fn a_refused_nick_is_a_notice_without_id() {
    let server = start_server();
    let addr = server.chat_addr();
    let mut plain = TestClient::connect(addr);
    plain.send("/nick pat");
    assert_eq!(
        plain.recv_text(),
        format!(" .... {} is now pat.", plain.nick)
    );
    let (mut js, ..) = JsonClient::connect(addr, "/chat");
    plain.recv_until(&format!(" .... {} has joined.", js.nick));

    // Taken (whatever its case: names are compared folded).
    js.send("/nick PAT");
    let (notice, id) = body(&js.recv());
    assert_eq!(notice, json!({"type": "notice", "text": "PAT is taken."}));
    assert_eq!(id, None);
    js.send("/nick user-5");
    let (notice, id) = body(&js.recv());
    assert_eq!(
        notice,
        json!({"type": "notice", "text":
            "a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits."})
    );
    assert_eq!(id, None);
    // The refusals went to the JSON client alone: the plain client's next
    // line is the next room event.
    js.send("still me");
    let (chat, id) = body(&js.recv());
    assert_eq!(
        chat,
        json!({"type": "chat", "nick": js.nick, "text": "still me"})
    );
    assert!(id.is_some());
    assert_eq!(plain.recv_text(), format!("{}: still me", js.nick));
}

#[test]
fn another_subprotocol_gets_plain_text_and_none_selected() {
    let server = start_server();
    let addr = server.chat_addr();
    let request = upgrade_request_to(addr, "/chat", "Sec-WebSocket-Protocol: foo\r\n");
    let (status, head, mut stream) = http_exchange(addr, request.as_bytes());
    assert_eq!(status, 101, "{head}");
    assert_eq!(
        header_value(&head, "Sec-WebSocket-Protocol"),
        None,
        "{head}"
    );
    let nick = read_greeting(&mut stream); // plain ` .... you are NICK.`
    assert!(nick.starts_with("user-"), "{nick}");

    // Offered among others, chat.v1.json is selected.
    let (mut js, ..) = JsonClient::connect(addr, "/chat");
    js.close();
    let mut both = JsonClient::connect_quiet(addr, "/chat", "foo, chat.v1.json");
    assert_eq!(both.recv()["type"], "welcome");
}

#[test]
fn two_instances_give_a_line_the_same_id() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_secs(15);
    let a = start_instance(&redis.url(), lease);
    let b = start_instance(&redis.url(), lease);
    let (mut ann, ..) = JsonClient::connect(a.chat_addr(), "/chat");
    let (mut bob, _, _, presence) = JsonClient::connect(b.chat_addr(), "/chat");
    assert_eq!(
        body(&presence).0,
        json!({"type": "presence",
               "members": [{"nick": ann.nick, "role": "student"}, {"nick": bob.nick, "role": "student"}], "count": 2})
    );
    let (join, join_id) = body(&ann.recv());
    assert_eq!(join, json!({"type": "join", "nick": bob.nick}));
    let join_id = join_id.expect("a join has an id");

    ann.send("from a");
    let on_a = body(&ann.recv());
    let on_b = body(&bob.recv());
    assert_eq!(
        on_a.0,
        json!({"type": "chat", "nick": ann.nick, "text": "from a"})
    );
    assert_eq!(on_a, on_b, "the same line, the same id, on both instances");
    bob.send("from b");
    let again_a = body(&ann.recv());
    let again_b = body(&bob.recv());
    assert_eq!(again_a, again_b);
    let (first, second) = (on_a.1.unwrap(), again_a.1.unwrap());
    assert!(
        join_id < first && first < second,
        "{join_id} {first} {second}"
    );
}
