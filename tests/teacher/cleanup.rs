//! Cleaning up and speaking up: `/delete`, `/purge`, `/clear` as a
//! newcomer's history shows them, and `/pin` for a newcomer.

use testkit::*;

use crate::*;

#[test]
fn delete_purge_and_clear_reach_a_newcomers_history() {
    let server = start_server();
    let mut t = teacher(&server);
    let mut bob = student(&server, "bob");
    t.chat("welcome");
    bob.chat("rude");
    bob.chat("fine");
    // The ids: welcome is the first kept line; ask a JSON-free way: the
    // line after it. Purge takes bob's lines; delete takes MrsK's.
    t.send("/purge bob");
    t.recv_until(" .... MrsK removed bob's lines.");
    let newcomer = TestClient::connect(server.chat_addr());
    assert_eq!(newcomer.history, ["MrsK: welcome"]);
    t.send("/purge bob");
    t.recv_until(" .... nothing to remove.");
    t.send("/delete 999999");
    t.recv_until(" .... nothing to remove.");
    t.send("/clear");
    t.recv_until(" .... MrsK cleared the history.");
    let later = TestClient::connect(server.chat_addr());
    assert!(later.history.is_empty(), "{:?}", later.history);
}

#[test]
fn delete_by_id() {
    let server = start_server();
    let mut t = teacher(&server);
    t.chat("keep");
    t.chat("oops");
    // Ids count every room event: find oops's by trying from the top.
    let mut removed = false;
    for id in (1..40).rev() {
        t.send(&format!("/delete {id}"));
        let line = t.recv_matching(|l| l.contains("remove"));
        if line == " .... MrsK removed a line by MrsK." {
            removed = true;
            break;
        }
    }
    assert!(removed);
    let newcomer = TestClient::connect(server.chat_addr());
    assert_eq!(newcomer.history, ["MrsK: keep"]);
}

#[test]
fn a_pin_greets_every_newcomer() {
    let server = start_server();
    let mut t = teacher(&server);
    t.send("/pin read page 4");
    t.recv_until(" .... pinned by MrsK: read page 4");
    let mut dan = TestClient::connect(server.chat_addr());
    dan.expect_text(" .... pinned by MrsK: read page 4");
    t.send("/pin off");
    dan.recv_until(" .... MrsK unpinned the message.");
    let mut eve = TestClient::connect(server.chat_addr());
    eve.assert_nothing_for(QUIET);
}
