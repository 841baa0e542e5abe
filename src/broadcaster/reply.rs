//! The broadcaster's answer to a reader's `Admit`: a one-shot slot.
//!
//! A reader makes one per handshake, so it is kept small: one allocation of
//! a few dozen bytes (a mutex, a condition variable and the answer), where
//! a crossbeam channel of one is several hundred bytes aligned to cache
//! lines. Glibc keeps a thread's freed small chunks for that thread alone,
//! so every byte a reader frees during its handshake stays resident as long
//! as the reader lives.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::room::Admission;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Waiting,
    Answered(Admission),
    /// The broadcaster dropped the question unanswered (it stopped).
    Dropped,
}

type Shared = Arc<(Mutex<Slot>, Condvar)>;

/// The broadcaster's end: answered once, or, if dropped unanswered, the
/// reader hears so at once.
#[derive(Debug)]
pub struct Reply(Option<Shared>);

/// The reader's end.
#[derive(Debug)]
pub struct Answer(Shared);

/// A question's two ends.
pub fn slot() -> (Reply, Answer) {
    let shared: Shared = Arc::new((Mutex::new(Slot::Waiting), Condvar::new()));
    (Reply(Some(shared.clone())), Answer(shared))
}

fn lock(shared: &Shared) -> MutexGuard<'_, Slot> {
    shared.0.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reply {
    /// Give the answer (never blocks; the reader may have stopped waiting).
    pub fn send(mut self, answer: Admission) {
        if let Some(shared) = self.0.take() {
            *lock(&shared) = Slot::Answered(answer);
            shared.1.notify_one();
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            *lock(&shared) = Slot::Dropped;
            shared.1.notify_one();
        }
    }
}

impl Answer {
    /// The answer, or `None` if it did not come by `deadline` or never will.
    pub fn recv_deadline(&self, deadline: Instant) -> Option<Admission> {
        let mut slot = lock(&self.0);
        loop {
            match *slot {
                Slot::Answered(answer) => return Some(answer),
                Slot::Dropped => return None,
                Slot::Waiting => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            slot = self
                .0
                 .1
                .wait_timeout(slot, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_answer_a_timeout_and_a_dropped_question() {
        let (reply, answer) = slot();
        let t = std::thread::spawn(move || reply.send(Admission::Welcome));
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(answer.recv_deadline(soon), Some(Admission::Welcome));
        t.join().unwrap();

        let (_reply, answer) = slot();
        let now = Instant::now() + Duration::from_millis(20);
        assert_eq!(answer.recv_deadline(now), None);

        let (reply, answer) = slot();
        drop(reply);
        assert_eq!(answer.recv_deadline(soon), None);
    }
}
