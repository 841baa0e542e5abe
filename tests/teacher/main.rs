//! A teacher running the class, end to end over loopback: the teacher key
//! (from a file, from the start-up log), the lobby and join codes, the
//! lock, removing, barring and muting, quiet and slow mode, cleaning the
//! history, the pin, names no one can fake, and the rules surviving a
//! restart. One module per behaviour; shared helpers here. Run one:
//! `cargo test --test teacher lobby`.

mod cleanup;
mod key;
mod lobby;
mod quieting;
mod removing;
mod restart;

use std::time::Duration;

use chat_server::Config;
use testkit::*;

/// A short look for "nothing else came".
pub const QUIET: Duration = Duration::from_millis(200);

/// The running server's teacher key.
pub fn key_of(server: &TestServer) -> String {
    server
        .server
        .as_ref()
        .expect("running")
        .teacher_key()
        .to_owned()
}

/// A client in `target` who became a teacher with the key and took the
/// name `name`.
pub fn teacher_at(server: &TestServer, target: &str, name: &str) -> TestClient {
    let mut t = TestClient::connect_to(server.chat_addr(), target);
    t.send(&format!("/teacher {}", key_of(server)));
    t.recv_until(" .... you are a teacher.");
    rename(&mut t, name);
    t
}

/// The main room's teacher, MrsK.
pub fn teacher(server: &TestServer) -> TestClient {
    teacher_at(server, "/chat", "MrsK")
}

/// A student in the main room who took the name `name`.
pub fn student(server: &TestServer, name: &str) -> TestClient {
    let mut s = TestClient::connect(server.chat_addr());
    rename(&mut s, name);
    s
}

/// `/nick name`, read until the room says so.
pub fn rename(c: &mut TestClient, name: &str) {
    let old = c.nick.clone();
    c.send(&format!("/nick {name}"));
    c.recv_until(&format!(" .... {old} is now {name}."));
    c.nick = name.to_owned();
}

/// A client whose proxy (this machine, trusted) says it is `address`
/// (`X-Forwarded-For`), without reading anything.
pub fn connect_forwarded(addr: std::net::SocketAddr, target: &str, address: &str) -> TestClient {
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let url = format!("ws://{addr}{target}");
    let mut request =
        tungstenite::client::IntoClientRequest::into_client_request(url).expect("a request");
    request
        .headers_mut()
        .insert("X-Forwarded-For", address.parse().expect("a header"));
    let (ws, _) = tungstenite::client(request, stream).expect("handshake");
    TestClient {
        ws,
        nick: String::new(),
        history: Vec::new(),
        presence: String::new(),
    }
}

/// A config keeping its data in `dir`.
pub fn kept_in(dir: &std::path::Path) -> Config {
    Config {
        memory_only: false,
        data_dir: dir.to_path_buf(),
        ..test_config()
    }
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "chat-server-teacher-{name}-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
