//! Rate limits: [`TokenBucket`], each client's flood limit (run by its
//! reader thread), and [`Throttle`], the log's, so a flood of bad clients
//! cannot flood the log (shared by every thread).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::protocol::SLOW_DOWN_EVERY;

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
pub(crate) use throttled;

/// Per-client flood limit (`--rate`, `--burst`): `rate` tokens a second, at
/// most `burst` saved up. Owned by one reader thread: no atomics.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// When the sender was last told to slow down: at most once per
    /// `SLOW_DOWN_EVERY`, however often it goes over.
    warned: Option<Instant>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// Over the limit, and the sender was not told in the last
    /// `SLOW_DOWN_EVERY`.
    NoAndWarn,
    No,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> TokenBucket {
        TokenBucket {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: Instant::now(),
            warned: None,
        }
    }

    pub fn take(&mut self, now: Instant) -> Admit {
        if self.rate <= 0.0 {
            return Admit::Yes; // --rate 0: no limit
        }
        let earned = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Admit::Yes
        } else if self
            .warned
            .is_none_or(|at| now.saturating_duration_since(at) >= SLOW_DOWN_EVERY)
        {
            self.warned = Some(now);
            Admit::NoAndWarn
        } else {
            Admit::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn admits_a_few_then_counts() {
        let t = Throttle::new(3);
        let admitted = (0..10).filter(|_| t.admit().is_some()).count();
        // All ten calls fall in one or two one-second windows.
        assert!((3..=6).contains(&admitted), "{admitted}");
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut b = TokenBucket::new(10.0, 20);
        b.last = start;
        for _ in 0..20 {
            assert_eq!(b.take(start), Admit::Yes);
        }
        assert_eq!(b.take(start), Admit::NoAndWarn);
        assert_eq!(b.take(start), Admit::No);
        // 100 ms later one token has been earned; the sender was told
        // already, so it is not told again.
        let later = start + Duration::from_millis(100);
        assert_eq!(b.take(later), Admit::Yes);
        assert_eq!(b.take(later), Admit::No);
        // Ten seconds after the first notice, the next excess is told.
        let much_later = start + SLOW_DOWN_EVERY;
        for _ in 0..20 {
            assert_eq!(b.take(much_later), Admit::Yes);
        }
        assert_eq!(b.take(much_later), Admit::NoAndWarn);
        assert_eq!(b.take(much_later), Admit::No);
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let mut b = TokenBucket::new(0.0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| b.take(now) == Admit::Yes));
    }
}
