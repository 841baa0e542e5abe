//! Subscribers cut off by Redis (`client-output-buffer-limit pubsub` tiny,
//! and a message too big for it): each instance notices (503 with the
//! cause), resubscribes, and once the limit is sane again is back in step
//! (see `faults`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use testkit::redis::{command_at, RedisServer};

use crate::faults::survive;

/// What the flood needs to stop it.
struct Flood {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

#[test]
fn subscribers_cut_off_by_redis_heal() {
    survive(
        "client-output-buffer-limit pubsub",
        |redis: &mut RedisServer| {
            let limit = [
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 1024 0 0",
            ];
            assert_eq!(redis.command(&limit), "+OK");
            // A message bigger than the client's reply buffer (16 KiB) and the
            // limit, on a room channel every instance hears (not a valid
            // event: ignored, if it ever arrived); again and again, so every
            // subscription is cut, each time it comes back, until healed.
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let port = redis.port;
            let thread = std::thread::spawn(move || {
                let big = "x".repeat(64 * 1024);
                while !flag.load(Ordering::Acquire) {
                    let _ = command_at(port, &["PUBLISH", "chat:room:flood", &big]);
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            Flood { stop, thread }
        },
        |redis, flood| {
            flood.stop.store(true, Ordering::Release);
            flood.thread.join().expect("the flood");
            let limit = [
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 33554432 8388608 60",
            ];
            assert_eq!(redis.command(&limit), "+OK");
        },
    );
}
