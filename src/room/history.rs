//! A room's history: its last `--history` chat and `/me` lines, for
//! newcomers. Owned by one room.
//!
//! The lines are shared (`Arc`) with the batch that delivered them, so
//! keeping one costs a pointer. Memory: at most `--history` lines, each at
//! most `--max-message-bytes` plus the nickname (about 4.2 KiB with the
//! defaults), so about 420 KiB a room in the worst case; a typical line is
//! under 100 bytes.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::event::{Event, What};

/// The last lines said in a room, oldest first.
#[derive(Debug, Default)]
pub struct History {
    lines: VecDeque<Arc<Event>>,
    /// Most lines kept (0: none).
    cap: usize,
}

impl History {
    /// A history of at most `cap` lines; 0 keeps nothing.
    pub fn new(cap: usize) -> History {
        History {
            lines: VecDeque::with_capacity(cap.min(16)),
            cap,
        }
    }

    /// Keep one line, dropping the oldest past the cap.
    pub fn push(&mut self, line: Arc<Event>) {
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// Take out the lines `pick` chooses: their ids and authors, oldest
    /// first.
    pub fn remove(&mut self, pick: impl Fn(&Event) -> bool) -> Vec<(u64, String)> {
        let mut removed = Vec::new();
        self.lines.retain(|line| {
            if !pick(line) {
                return true;
            }
            if let What::Chat { nick, .. } | What::Action { nick, .. } = &line.what {
                removed.push((line.id, nick.clone()));
            }
            false
        });
        removed
    }

    /// Forget every line.
    pub fn clear(&mut self) {
        self.lines.clear();
    }

    /// Every kept line, oldest first.
    pub fn lines(&self) -> Vec<Arc<Event>> {
        self.lines.iter().cloned().collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Time;

    fn line(text: &str) -> Arc<Event> {
        Arc::new(Event {
            id: 1,
            time: Time(0),
            what: What::Chat {
                nick: "a".into(),
                text: text.into(),
            },
        })
    }

    #[test]
    fn keeps_the_last_cap_lines_oldest_first() {
        let mut history = History::new(3);
        for text in ["a", "b", "c", "d"] {
            history.push(line(text));
        }
        let kept: Vec<_> = history.lines();
        assert_eq!(kept, [line("b"), line("c"), line("d")]);
    }

    #[test]
    fn zero_keeps_nothing() {
        let mut history = History::new(0);
        history.push(line("a"));
        assert_eq!(history.len(), 0);
    }
}
