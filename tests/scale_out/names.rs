//! Nicknames are unique across instances: two clients on two instances
//! asking for one name at the same moment, exactly one gets it; a name
//! freed by a leave can be taken from the other instance.

use testkit::redis::RedisServer;
use testkit::{two_instances, TestClient};

const ROUNDS: usize = 20;

#[test]
fn one_name_one_holder_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, _b, mut ann, mut bob) = two_instances(&redis);

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
        // Each reads until it has the round's one rename and, if it lost,
        // its own ` .... NAME is taken.` (in either order).
        let mut seen = Vec::new();
        for (client, asked, mine) in [
            (&mut ann, name.clone(), &ann_won),
            (&mut bob, name.to_lowercase(), &bob_won),
        ] {
            let taken = format!(" .... {asked} is taken.");
            let (mut rename, mut refused) = (None, false);
            while rename.is_none() || (rename.as_ref() != Some(mine) && !refused) {
                let line = client.recv_matching(|l| l == ann_won || l == bob_won || l == taken);
                if line == taken {
                    assert!(!refused, "told twice, round {round}");
                    refused = true;
                } else {
                    assert!(rename.is_none(), "two renames in round {round}");
                    rename = Some(line);
                }
            }
            assert_eq!(refused, rename.as_ref() != Some(mine), "round {round}");
            seen.push(rename);
        }
        assert_eq!(seen[0], seen[1], "round {round}");
        let winner_line = seen[0].clone().unwrap_or_default();
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
    bob.recv_until(&testkit::left("Zed"));
    bob.send("/nick zed");
    bob.recv_until(&format!(" .... {} is now zed.", bob.nick));
}
