//! A resume (`?session=`) after the client's instance died: the client reconnects to a live instance. Before the dead
//! instance's lease lapses its name is still held, so it comes in under a
//! fresh name; once the lease lapses and its leave is announced, a resume
//! with the same session gets its name back (the others see it join).

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{doomed_instance, joined, left, start_instance, TestClient};

const LEASE: Duration = Duration::from_secs(2);
const SESSION: &str = "resume-after-death-0123456789";

#[test]
fn a_session_gets_its_name_back_once_the_lease_lapses() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let mut doomed = doomed_instance!(&url);
    let b = start_instance(&url, LEASE);
    let mut bob = TestClient::connect(b.chat_addr());

    let target = format!("/chat?session={SESSION}");
    let mut ann = TestClient::connect_to(doomed.chat_addr, &target);
    let first = ann.nick.clone();
    ann.send("/nick Ann");
    ann.recv_until(&format!(" .... {first} is now Ann."));
    bob.recv_until(&format!(" .... {first} is now Ann."));

    doomed.child.kill().expect("SIGKILL");
    doomed.child.wait().expect("reaped");
    // Within the lease: Ann is still held by the dead instance.
    let early = TestClient::connect_to(b.chat_addr(), &target);
    assert_ne!(early.nick, "Ann");
    assert!(early.presence.contains("Ann"), "{}", early.presence);
    bob.recv_until(&joined(&early.nick));
    // The lease lapses: Ann's leave, once; then the name is free again.
    bob.recv_until(&left("Ann"));
    let mut early = early;
    early.close();
    bob.recv_until(&left(&early.nick));

    let back = TestClient::connect_to(b.chat_addr(), &target);
    assert_eq!(back.nick, "Ann");
    bob.recv_until(&joined("Ann"));
    // Without the session, no one gets that name back.
    let other = TestClient::connect_to(b.chat_addr(), "/chat?session=someone-else-0123456789");
    assert!(other.nick.starts_with("user-"), "{}", other.nick);
}
