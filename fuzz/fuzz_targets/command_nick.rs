//! The command parser (`room::commands::parse`) and the nickname rules:
//! never panic; what a command carries is part of the line, trimmed as
//! documented; a nickname fold is idempotent and the rules judge a name
//! as they judge its fold.
#![no_main]
use chat_server::fuzz_api::{fold, is_allowed, is_server_name, parse_command, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let inside = |part: &str| line.contains(part);
    match parse_command(&line) {
        Command::Chat(text) => assert!(inside(text)),
        Command::Nick(nick) => assert!(inside(nick) && nick.trim() == nick),
        Command::Me(action) => assert!(inside(action) && !action.is_empty()),
        Command::Msg { to, text } => {
            assert!(inside(to) && inside(text));
            assert!(!to.is_empty() && !to.contains(char::is_whitespace));
            assert!(!text.trim().is_empty());
        }
        Command::Unknown(word) => assert!(word.chars().count() <= 33),
        Command::Who | Command::Help | Command::Usage(_) => {}
    }
    let folded = fold(&line);
    assert_eq!(fold(&folded), folded, "fold is not idempotent on {line:?}");
    assert_eq!(is_server_name(&line), is_server_name(&folded));
    if is_allowed(&line) {
        assert!(!line.is_empty() && !line.contains(char::is_control));
    }
});
