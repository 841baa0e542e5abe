//! Presence and private lines across instances: the presence line and
//! `/who` list the room's members on every instance in order of arrival,
//! and `/msg` reaches a member on another instance and no one else.

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{here_now, two_instances, TestClient};

#[test]
fn who_and_msg_span_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Arrivals alternate between the instances.
    let (a, b, mut ann, mut bob) = two_instances(&redis);
    let mut cat = TestClient::connect(a.chat_addr());
    bob.recv_until(&testkit::joined(&cat.nick));
    let nicks = [ann.nick.clone(), bob.nick.clone(), cat.nick.clone()];
    let all: Vec<&str> = nicks.iter().map(String::as_str).collect();
    assert_eq!(bob.presence, here_now(&all[..2]));
    assert_eq!(cat.presence, here_now(&all));
    for client in [&mut ann, &mut bob] {
        client.send("/who");
    }
    assert_eq!(
        ann.recv_matching(|l| l.contains("here now")),
        here_now(&all)
    );
    assert_eq!(
        bob.recv_matching(|l| l.contains("here now")),
        here_now(&all)
    );

    // A member of another room on B is not listed.
    let other = TestClient::connect_to(b.chat_addr(), "/math");
    assert_eq!(other.presence, here_now(&[&other.nick]));

    // Ann (A) whispers to Bob (B): both get it, Cat (A) does not.
    ann.send(&format!("/msg {} psst", bob.nick.to_uppercase()));
    let line = format!("{} -> {}: psst", ann.nick, bob.nick);
    assert_eq!(ann.recv_text(), line);
    assert_eq!(bob.recv_text(), line);
    cat.send("after");
    let after = format!("{}: after", cat.nick);
    assert_eq!(cat.recv_text(), after);
    assert_eq!(bob.recv_text(), after);
    // (Cat's first line after the whisper is its own: it never got it.)

    // No such member anywhere: the sender alone is told.
    bob.send("/msg nobody hi");
    assert_eq!(bob.recv_text(), " .... no nobody here.");

    // A leave on A leaves the presence on B.
    cat.close();
    bob.recv_until(&testkit::left(&cat.nick));
    bob.send("/who");
    assert_eq!(bob.recv_text(), here_now(&all[..2]));
    ann.recv_until(&testkit::left(&cat.nick));
    ann.assert_nothing_for(Duration::from_millis(300));
}
