//! Counted permits: a place among at most `max`, given back when dropped.
//! Two kinds use it: a client's seat among `--max-clients` (taken by its
//! reader after the handshake) and a writer thread's place among
//! [`MAX_WRITERS`](crate::outbox::MAX_WRITERS) (taken by the outbox).
//!
//! Lock-free: one atomic counter, shared by every thread that takes one.

use std::sync::atomic::{AtomicUsize, Ordering};

/// At most `max` permits out at once.
#[derive(Debug)]
pub struct Permits {
    max: usize,
    taken: AtomicUsize,
}

/// One place among a [`Permits`]' `max`, given back when dropped (however
/// its holder ends, a panic included).
#[derive(Debug)]
pub struct Permit<'a>(&'a Permits);

impl Permits {
    pub const fn new(max: usize) -> Permits {
        Permits {
            max,
            taken: AtomicUsize::new(0),
        }
    }

    /// A free place, if fewer than `max` are taken.
    pub fn try_take(&self) -> Option<Permit<'_>> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(self))
    }

    /// How many are taken now.
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::Acquire)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_and_given_back_on_drop() {
        let permits = Permits::new(2);
        let a = permits.try_take().expect("first");
        let b = permits.try_take().expect("second");
        assert!(permits.try_take().is_none());
        assert_eq!(permits.taken(), 2);
        drop(a);
        assert!(permits.try_take().is_some());
        drop(b);
        assert_eq!(permits.taken(), 0);
    }
}
