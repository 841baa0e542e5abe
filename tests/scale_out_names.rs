//! Nicknames are unique across instances: two clients on two instances
//! asking for one name at the same moment, exactly one gets it; a name
//! freed by a leave can be taken from the other instance (issue 15, 3).

mod common;

use std::time::Duration;

use common::redis::RedisServer;
use common::{start_instance, TestClient};

const LEASE: Duration = Duration::from_secs(15);
const ROUNDS: usize = 20;

#[test]
fn one_name_one_holder_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = start_instance(&redis.url(), LEASE);
    let b = start_instance(&redis.url(), LEASE);
    let mut ann = TestClient::connect(a.chat_addr());
    let mut bob = TestClient::connect(b.chat_addr());
    ann.recv_until(&common::joined(&bob.nick));

    for round in 0..ROUNDS {
        // Same name, different case, sent at once from both instances.
        let name = format!("Kim{round}");
        let (ann_nick, bob_nick) = (ann.nick.clone(), bob.nick.clone());
        std::thread::scope(|s| {
            s.spawn(|| ann.send(&format!("/nick {name}")));
            s.spawn(|| bob.send(&format!("/nick {}", name.to_lowercase())));
        });
        let ann_won = format!(" .... {ann_nick} is now {name}.");
        let bob_won = format!(" .... {bob_nick} is now {}.", name.to_lowercase());
        let is_answer = |l: &str| l == ann_won || l == bob_won || l.ends_with(" is taken.");
        let (ann_saw, bob_saw) = (ann.recv_matching(is_answer), bob.recv_matching(is_answer));
        // Both see the one rename; the loser alone was told it is taken.
        let (winner_line, loser, loser_saw) = if ann_saw == ann_won {
            (ann_won.clone(), &mut bob, bob_saw)
        } else {
            assert_eq!(ann_saw, format!(" .... {name} is taken."), "round {round}");
            (bob_won.clone(), &mut ann, ann_saw)
        };
        if loser_saw.ends_with(" is taken.") {
            // The loser then hears the winner's rename.
            assert_eq!(loser.recv_matching(|l| l == winner_line), winner_line);
        } else {
            assert_eq!(loser_saw, winner_line, "round {round}");
            let taken = loser.recv_matching(|l| l.ends_with(" is taken."));
            assert!(
                taken.to_lowercase().contains(&name.to_lowercase()),
                "{taken}"
            );
        }
        if winner_line == ann_won {
            ann.nick = name;
        } else {
            bob.nick = name.to_lowercase();
        }
    }

    // A name freed by a leave on A is free on B.
    let mut zed = TestClient::connect(a.chat_addr());
    let zed_first = zed.nick.clone();
    zed.send("/nick Zed");
    zed.recv_until(&format!(" .... {zed_first} is now Zed."));
    bob.recv_until(&format!(" .... {} is now Zed.", zed_first));
    bob.send("/nick zed");
    assert_eq!(
        bob.recv_matching(|l| l.ends_with(" is taken.")),
        " .... zed is taken."
    );
    zed.close();
    bob.recv_until(&common::left("Zed"));
    bob.send("/nick zed");
    bob.recv_until(&format!(" .... {} is now zed.", bob.nick));
}
