//! `/healthz` and `/metrics`: the page port's answers for operators. Run on
//! a page server thread per request.
//!
//! Healthy means the broadcaster answers, and (with `--redis`) this
//! instance is in step with its peers: a ping goes through the
//! broadcaster's own queue, behind every waiting input, so a broadcaster
//! that is stuck or too far behind to answer within [`HEALTH_TIMEOUT`] is
//! reported 503, and so is an instance cut off from Redis (with the cause).

use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::broadcaster::Input;
use crate::metrics;

/// How long the room has to answer a health check (a load balancer's own
/// timeout is usually a few seconds).
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// An operator's answer: status, `Content-Type`, body.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// The answer for `path` if it is an operator's path (`/healthz`,
/// `/metrics`), else `None` (the page server answers it).
pub fn answer(path: &str, room: &Sender<Input>) -> Option<Answer> {
    match path {
        "/healthz" => Some(match room_answers(room, HEALTH_TIMEOUT) {
            Ok((took, None)) => text(
                200,
                format!("ok: the room answered in {} ms\n", took.as_millis()),
            ),
            Ok((_, Some(cut_off))) => text(503, format!("unhealthy: redis: {cut_off}\n")),
            Err(why) => text(503, format!("unhealthy: {why}\n")),
        }),
        "/metrics" => Some(Answer {
            status: 200,
            content_type: metrics::CONTENT_TYPE,
            body: metrics::encode(),
        }),
        _ => None,
    }
}

fn text(status: u16, body: String) -> Answer {
    Answer {
        status,
        content_type: "text/plain; charset=utf-8",
        body,
    }
}

/// Ping the broadcaster; how long it took to answer, and why this
/// instance is cut off from its peers, if it is.
///
/// # Errors
/// Why it is not healthy: its queue stayed full, it is gone, or it did not
/// answer within `timeout`.
pub fn room_answers(
    room: &Sender<Input>,
    timeout: Duration,
) -> Result<(Duration, Option<String>), &'static str> {
    let start = Instant::now();
    let deadline = start + timeout;
    let (reply, answered) = crossbeam_channel::bounded(1);
    match room.send_deadline(Input::Ping(reply), deadline) {
        Ok(()) => {}
        Err(crossbeam_channel::SendTimeoutError::Timeout(_)) => {
            return Err("the room's queue is full")
        }
        Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => {
            return Err("the room thread has stopped")
        }
    }
    match answered.recv_deadline(deadline) {
        Ok(cut_off) => Ok((start.elapsed(), cut_off)),
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err("the room did not answer in time"),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
            Err("the room thread has stopped")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_while_the_room_answers() {
        let (tx, rx) = crossbeam_channel::bounded(4);
        let settings = crate::room::Settings::default();
        let room = std::thread::spawn(move || {
            crate::broadcaster::run(
                rx,
                settings,
                crate::broadcaster::Peers::default(),
                None,
                None,
                String::new(),
            )
        });
        let ok = answer("/healthz", &tx).unwrap();
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.body.starts_with("ok"));
        drop(tx);
        room.join().unwrap();
    }

    #[test]
    fn unhealthy_when_the_room_does_not_answer() {
        // A room that never reads: its queue fills, then the ping waits.
        let (tx, _rx) = crossbeam_channel::bounded(1);
        let short = Duration::from_millis(50);
        assert_eq!(
            room_answers(&tx, short),
            Err("the room did not answer in time")
        );
        assert_eq!(room_answers(&tx, short), Err("the room's queue is full"));
        // A room that is gone.
        let (tx, rx) = crossbeam_channel::bounded(1);
        drop(rx);
        assert_eq!(room_answers(&tx, short), Err("the room thread has stopped"));
        assert!(answer("/", &tx).is_none());
    }
}
