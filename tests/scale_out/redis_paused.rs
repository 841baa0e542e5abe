//! A paused Redis (`CLIENT PAUSE`, `WRITE` or `ALL`, for 0.5, 1.5 and 5
//! s, and 30 s of `ALL`): each instance notices within a fraction of a second (503 with the
//! cause), serves its own members meanwhile with no wait beyond noise, and
//! is back in step (200) within a second or two of the pause's end, with
//! exact presence, unique names and no line twice (see `faults`).

use std::time::Duration;

use testkit::redis::RedisServer;
use testkit::{wait_until, WAIT};

use crate::faults::survive;

/// A member's own line during a pause comes back within this (the stall
/// is noticed after 300 ms).
const OWN_LINE: Duration = Duration::from_millis(1500);

fn paused(ms: u64, mode: &str) {
    let what = format!("CLIENT PAUSE {ms} {mode}");
    let outcome = survive(
        &what.clone(),
        |redis: &mut RedisServer| {
            let ms = ms.to_string();
            assert_eq!(redis.command(&["CLIENT", "PAUSE", &ms, mode]), "+OK");
        },
        // A write waits out both kinds of pause: it answers once Redis does
        // (each try waits up to `WAIT`).
        |redis, ()| {
            let set = ["SET", "test:unpaused", "1"];
            let within = Duration::from_millis(ms) + WAIT;
            let answered = wait_until(within, || redis.try_command(&set).as_deref() == Some("+OK"));
            assert!(answered, "{what}: Redis did not answer within {within:?}");
        },
    );
    if let Some(outcome) = outcome {
        assert!(
            outcome.slowest_line < OWN_LINE,
            "{what}: a member waited {:?} for its own line",
            outcome.slowest_line
        );
    }
}

#[test]
fn a_half_second_write_pause() {
    paused(500, "WRITE");
}

#[test]
fn a_half_second_pause_of_all() {
    paused(500, "ALL");
}

#[test]
fn a_second_and_a_half_write_pause() {
    paused(1500, "WRITE");
}

#[test]
fn a_second_and_a_half_pause_of_all() {
    paused(1500, "ALL");
}

#[test]
fn a_five_second_write_pause() {
    paused(5000, "WRITE");
}

#[test]
fn a_five_second_pause_of_all() {
    paused(5000, "ALL");
}

/// The longest stall the instances must ride out: the stalled batch's
/// connection is given up after `LATE_WAIT` (its claims decided here),
/// reconnections are tried every second meanwhile.
#[test]
fn a_thirty_second_pause_of_all() {
    paused(30_000, "ALL");
}
