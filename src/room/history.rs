//! A room's history (issue 11 "History"): its last `--history` chat and
//! action lines, kept as encoded text frames so a newcomer gets them with
//! one send. Owned by one room, inside the room thread.
//!
//! Memory: at most `--history` lines, each one frame of at most
//! `--max-message-bytes` plus the nickname and framing (about 4.2 KiB with
//! the defaults), so about 420 KiB a room in the worst case, and 256 rooms
//! (`--max-rooms`) about 105 MiB; a typical line is under 100 bytes.

use std::collections::VecDeque;

use crate::frame;

/// The last lines said in a room, oldest first.
#[derive(Debug, Default)]
pub struct History {
    lines: VecDeque<Box<[u8]>>,
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

    /// Keep one line, given in parts, dropping the oldest past the cap.
    pub fn push(&mut self, parts: &[&[u8]]) {
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        let mut encoded = Vec::new();
        frame::encode_parts(frame::TEXT, parts, &mut encoded);
        self.lines.push_back(encoded.into_boxed_slice());
    }

    /// Append every kept line, oldest first, as frames to `out`; return how
    /// many.
    pub fn write_to(&self, out: &mut Vec<u8>) -> usize {
        for line in &self.lines {
            out.extend_from_slice(line);
        }
        self.lines.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_cap_lines_oldest_first() {
        let mut history = History::new(3);
        for text in ["a", "b", "c", "d"] {
            history.push(&[text.as_bytes()]);
        }
        let mut out = Vec::new();
        assert_eq!(history.write_to(&mut out), 3);
        let mut want = Vec::new();
        for text in ["b", "c", "d"] {
            frame::encode(frame::TEXT, text.as_bytes(), &mut want);
        }
        assert_eq!(out, want);
    }

    #[test]
    fn zero_keeps_nothing() {
        let mut history = History::new(0);
        history.push(&[b"a"]);
        assert!(history.is_empty());
    }
}
