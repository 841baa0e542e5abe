//! The binary's logger: simple_logger's lines on stderr, each message
//! passed through [`protocol::log_safe`] first, so no log line can be
//! forged or drive a terminal, whatever bytes a call site formats. Call
//! sites that format a client's bytes still wrap them in `log_safe`
//! themselves (the library may run under another logger); this is the
//! last guard. Installed once, by `main`.

use log::{Log, Metadata, Record};

use crate::protocol::log_safe;

/// Install the logger at `level`: UTC timestamps, on stderr, every message
/// made safe. Does nothing if a logger is already installed.
pub fn init(level: log::LevelFilter) {
    let inner = simple_logger::SimpleLogger::new()
        .with_level(level)
        .with_utc_timestamps();
    log::set_max_level(inner.max_level());
    let _ = log::set_boxed_logger(Box::new(SafeLogger(inner)));
}

/// A logger that makes every message safe before `0` writes it.
struct SafeLogger<L>(L);

impl<L: Log> Log for SafeLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.0.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        self.0.log(
            &Record::builder()
                .args(format_args!("{}", log_safe(&message)))
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Keeps what it is asked to log.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<String>>>);

    impl Log for Kept {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &Record<'_>) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
        fn flush(&self) {}
    }

    #[test]
    fn every_message_is_made_safe() {
        let kept = Kept::default();
        let logger = SafeLogger(kept.clone());
        let forged = "refused x: 403 origin a\r\n2026-01-01T00:00:00Z INFO  [chat_server] forged\u{1b}[2J\u{85}";
        logger.log(
            &Record::builder()
                .args(format_args!("{forged}"))
                .level(log::Level::Info)
                .build(),
        );
        let lines = kept.0.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(
            !lines[0].contains(['\r', '\n', '\u{1b}', '\u{85}']),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("\u{FFFD}\u{FFFD}2026"), "{}", lines[0]);
    }
}
