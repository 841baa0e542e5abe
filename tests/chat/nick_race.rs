//! `/nick` race: two clients asking for the same name
//! at the same moment: exactly one gets it, the other is told it is taken,
//! and everyone sees one rename.

use testkit::*;

use std::sync::{Arc, Barrier};

const ROUNDS: usize = 20;

#[test]
fn of_two_asking_at_once_exactly_one_gets_the_name() {
    let server = start_server();
    let addr = server.chat_addr();
    let mut watcher = TestClient::connect(addr);
    for round in 0..ROUNDS {
        // Two spellings of one name: unique ignoring case.
        let spellings = [format!("name{round}"), format!("NAME{round}")];
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = spellings
            .iter()
            .map(|name| {
                let (barrier, name) = (barrier.clone(), name.clone());
                let mut c = TestClient::connect(addr);
                std::thread::spawn(move || {
                    let won = format!(" .... {} is now {name}.", c.nick);
                    let lost = format!(" .... {name} is taken.");
                    barrier.wait();
                    c.send(&format!("/nick {name}"));
                    let outcome = c.recv_matching(|line| line == won || line == lost);
                    (c, outcome == won)
                })
            })
            .collect();
        let results: Vec<(TestClient, bool)> =
            racers.into_iter().map(|t| t.join().unwrap()).collect();
        let winners = results.iter().filter(|(_, won)| *won).count();
        assert_eq!(winners, 1, "round {round}");
        // The watcher sees exactly one rename.
        let renamed = watcher.recv_matching(|line| line.contains(" is now "));
        let winner = results.iter().position(|(_, won)| *won).unwrap_or(0);
        assert!(
            renamed.ends_with(&format!(" is now {}.", spellings[winner])),
            "{renamed}"
        );
        for (mut c, _) in results {
            c.close();
        }
        // Both leave lines, then the room is the watcher's alone again.
        for _ in 0..2 {
            watcher.recv_matching(|line| line.ends_with(" has left."));
        }
        watcher.send("/who");
        let who = watcher.recv_matching(|line| line.starts_with(" .... here now ("));
        assert_eq!(who, here_now(&[&watcher.nick]), "round {round}");
        watcher.history.clear();
    }
}
