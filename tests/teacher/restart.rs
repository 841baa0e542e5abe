//! The rules outlive the process: with a data directory, a lock, a join
//! code, a bar and a mute come back after a restart (expiry is the core's
//! unit tests', with a fake clock).

use testkit::*;

use crate::*;

#[test]
fn a_restart_keeps_the_lock_code_bar_and_mute() {
    let dir = TempDir::new("restart");
    let mut server = start_server_with(kept_in(&dir.0));
    let mut t = teacher_at(&server, "/maths", "MrsK");
    let mut bob = TestClient::connect_to(server.chat_addr(), "/maths");
    rename(&mut bob, "bob");
    t.send("/mute bob 30");
    t.recv_until(" .... bob was muted by MrsK.");
    t.send("/code");
    let line = t.recv_matching(|l| l.starts_with(" .... join code: "));
    let code = line[" .... join code: ".len()..line.len() - 1].to_owned();
    let mut t2 = teacher_at(&server, "/art", "MrB");
    let mut eve = TestClient::connect_to(server.chat_addr(), "/art?session=barred-after-restart-1");
    rename(&mut eve, "eve");
    t2.send("/ban eve");
    t2.recv_until(" .... eve was barred by MrB.");
    let mut t3 = teacher_at(&server, "/music", "MrC");
    t3.send("/lock");
    t3.recv_until(" .... MrC locked the room.");
    drop((t, bob, t2, eve, t3));
    server.shutdown();

    let server = start_server_with(kept_in(&dir.0));
    let mut stranger = TestClient::connect_quiet_to(server.chat_addr(), "/maths");
    stranger.expect_text(" .... this room needs a join code: type /code CODE.");
    let mut bob = TestClient::connect_to(server.chat_addr(), &format!("/maths?code={code}"));
    rename(&mut bob, "bob");
    bob.send("hi");
    bob.recv_matching(|l| l.starts_with(" .... you are muted ("));
    let mut barred =
        TestClient::connect_quiet_to(server.chat_addr(), "/art?session=barred-after-restart-1");
    barred.expect_text(" .... you are barred from this room.");
    assert_eq!(barred.recv_close(), 1008);
    let mut locked = TestClient::connect_quiet_to(server.chat_addr(), "/music");
    locked.expect_text(" .... this room is locked.");
    assert_eq!(locked.recv_close(), 1008);
}
