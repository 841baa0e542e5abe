//! Rate-limited logging, so a flood of bad clients cannot flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Lets through at most `per_second` lines each second and counts the rest;
/// the first line of the next second reports how many were suppressed.
/// Lock-free: a few atomics, shared by every client thread.
pub struct Throttle {
    per_second: u64,
    /// Whole seconds since the process's first throttled line.
    window: AtomicU64,
    seen: AtomicU64,
    suppressed: AtomicU64,
}

impl Throttle {
    pub const fn new(per_second: u64) -> Throttle {
        Throttle {
            per_second,
            window: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)`: log this line, and say that `n` were suppressed before it.
    /// `None`: suppress it.
    pub fn admit(&self) -> Option<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let now = START.get_or_init(Instant::now).elapsed().as_secs();
        if self.window.swap(now, Ordering::AcqRel) != now {
            self.seen.store(0, Ordering::Release);
        }
        if self.seen.fetch_add(1, Ordering::AcqRel) < self.per_second {
            Some(self.suppressed.swap(0, Ordering::AcqRel))
        } else {
            self.suppressed.fetch_add(1, Ordering::AcqRel);
            None
        }
    }
}

/// Log at `level` through `throttle`: `throttled!(THROTTLE, Level::Warn, "...", args)`.
#[macro_export]
macro_rules! throttled {
    ($throttle:expr, $level:expr, $($arg:tt)+) => {
        if let Some(suppressed) = $throttle.admit() {
            if suppressed > 0 {
                log::log!($level, "({suppressed} similar lines suppressed)");
            }
            log::log!($level, $($arg)+);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_a_few_then_counts() {
        let t = Throttle::new(3);
        let admitted = (0..10).filter(|_| t.admit().is_some()).count();
        // All ten calls fall in one or two one-second windows.
        assert!((3..=6).contains(&admitted), "{admitted}");
    }
}
