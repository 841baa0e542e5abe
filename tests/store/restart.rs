//! What was said outlives the process: with a data directory, a room's
//! history comes back after a restart, in order; `--memory-only` (what
//! `Config::default()` is) writes nothing anywhere.

use std::path::Path;

use chat_server::Config;
use testkit::*;

fn kept_in(dir: &Path) -> Config {
    Config {
        memory_only: false,
        data_dir: dir.to_path_buf(),
        ..test_config()
    }
}

#[test]
fn a_restart_keeps_every_rooms_history() {
    let dir = Scratch::new("restart");
    let mut server = start_server_with(kept_in(&dir.0));
    let mut ann = TestClient::connect_to(server.chat_addr(), "/physics");
    ann.chat("one");
    ann.send("/me waves");
    ann.recv_until(&format!("* {} waves", ann.nick));
    ann.chat("two");
    let mut art = TestClient::connect_to(server.chat_addr(), "/art");
    art.chat("paint");
    server.shutdown();
    assert!(dir.0.join("chat.sqlite3").is_file());

    let server = start_server_with(kept_in(&dir.0));
    let bob = TestClient::connect_to(server.chat_addr(), "/physics");
    assert_eq!(
        bob.history,
        [
            format!("{}: one", ann.nick),
            format!("* {} waves", ann.nick),
            format!("{}: two", ann.nick),
        ]
    );
    let cat = TestClient::connect_to(server.chat_addr(), "/art");
    assert_eq!(cat.history, [format!("{}: paint", art.nick)]);
}

#[test]
fn memory_only_writes_nothing() {
    let scratch = Scratch::new("memory-only");
    let dir = scratch.path("data");
    let config = Config {
        memory_only: true,
        data_dir: dir.clone(),
        ..test_config()
    };
    let mut server = start_server_with(config);
    let mut ann = TestClient::connect(server.chat_addr());
    ann.chat("forgotten");
    server.shutdown();
    assert!(!dir.exists(), "{} was created", dir.display());
}
