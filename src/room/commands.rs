//! Commands (issue 11): what a line starting with `/` asks for, and the
//! nickname rule. Pure functions, run by the room thread on the lines it
//! receives; they own nothing.
//!
//! Only a line whose first byte is `/` comes here, so ordinary chat costs
//! one byte comparison. `/` followed by a letter is a command; `//text` is
//! the chat line `/text`; `/` followed by anything else is chat as typed.

use super::chat::{Broadcast, Room};
use super::cluster::Verdict;
use super::ClientId;
use crate::protocol;

/// A nickname has at most this many characters (Unicode scalar values).
pub const MAX_NICK_CHARS: usize = 20;
/// An unknown command is echoed back cut to this many characters.
const MAX_ECHO_CHARS: usize = 32;

/// What a line that starts with `/` asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Not a command after all: send this as an ordinary chat line.
    Chat(&'a str),
    /// `/nick NEW`.
    Nick(&'a str),
    /// `/who`.
    Who,
    /// `/me ACTION`.
    Me(&'a str),
    /// `/msg NICK TEXT`.
    Msg { to: &'a str, text: &'a str },
    /// `/help`.
    Help,
    /// A known command used wrong: tell the sender this usage.
    Usage(&'static str),
    /// `/word` that is no command: the word, cut for the echo.
    Unknown(String),
}

/// Read a line that starts with `/`. Command names are matched ignoring
/// ASCII case (`/WHO` works); arguments are taken as typed.
pub fn parse(line: &str) -> Command<'_> {
    let Some(after) = line.strip_prefix('/') else {
        return Command::Chat(line);
    };
    if after.starts_with('/') {
        return Command::Chat(after); // `//text` is `/text`
    }
    if !after.chars().next().is_some_and(char::is_alphabetic) {
        return Command::Chat(line); // `/ x`, `/1`, a lone `/`: chat as typed
    }
    let (word, rest) = match after.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (after, ""),
    };
    match word.to_ascii_lowercase().as_str() {
        // An empty NEW breaks "1 to 20 characters": the rule answers it.
        "nick" => Command::Nick(rest),
        "who" => Command::Who,
        "me" if !rest.is_empty() => Command::Me(rest),
        "me" => Command::Usage("/me ACTION"),
        "msg" => match rest.split_once(char::is_whitespace) {
            Some((to, text)) if !text.trim().is_empty() => Command::Msg {
                to,
                text: text.trim_start(),
            },
            _ => Command::Usage("/msg NICK TEXT"),
        },
        "help" => Command::Help,
        _ => Command::Unknown(echo(word)),
    }
}

/// The word cut to [`MAX_ECHO_CHARS`] characters (with `…` when cut), so
/// a 4 KiB "command" is not echoed whole.
fn echo(word: &str) -> String {
    match word.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &word[..end]),
        None => word.to_owned(),
    }
}

/// Whether `nick` may be chosen with `/nick`: 1 to [`MAX_NICK_CHARS`]
/// characters, each a Unicode letter or digit or `-` or `_`, and not
/// `user-` followed by digits (those are the names the server gives),
/// judged on its case fold, as uniqueness is.
pub fn is_allowed_nick(nick: &str) -> bool {
    let count = nick.chars().count();
    (1..=MAX_NICK_CHARS).contains(&count)
        && nick
            .chars()
            .all(|c| c.is_alphabetic() || c.is_numeric() || c == '-' || c == '_')
        && !is_server_name(nick)
}

/// `user-` followed by one or more digits, in any case: whatever folds to
/// a name the server could give (`USER-7`, `uſer-7`) would collide with
/// it, and a `user-` with other digits (`user-٧`) would pass for one.
fn is_server_name(nick: &str) -> bool {
    fold(nick)
        .strip_prefix("user-")
        .is_some_and(|n| !n.is_empty() && n.chars().all(char::is_numeric))
}

/// The key under which a nickname is unique in a room: its case fold.
/// Lower, upper, then lower again folds what one mapping alone does not
/// (`ß`/`ẞ`/`SS`, final `ς`/`σ`): every pair Unicode's full case folding
/// (`CaseFolding.txt`) makes equal comes out equal. The same key is claimed
/// in Redis with `--redis`, so the rule lives there.
pub use crate::cluster::name_key as fold;

impl Room {
    /// Carry out the command in `line` (which starts with `/`) for member
    /// `id`. Refusals and answers go to the sender alone.
    pub(super) fn command(&mut self, id: ClientId, line: &str) {
        match parse(line) {
            Command::Chat(text) => self.say(id, text),
            Command::Nick(new) => self.nick(id, new),
            Command::Who => {
                let presence = self.presence();
                self.tell(id, &[&presence]);
            }
            Command::Me(action) => self.act(id, action),
            Command::Msg { to, text } => self.private(id, to, text),
            Command::Help => self.tell(id, &protocol::HELP),
            Command::Usage(usage) => self.tell(id, &[&protocol::usage(usage)]),
            Command::Unknown(word) => self.tell(id, &[&protocol::unknown_command(&word)]),
        }
    }

    /// `/nick NEW`. The room thread handles one event at a time, so of two
    /// members asking for one name at once exactly one gets it.
    fn nick(&mut self, id: ClientId, new: &str) {
        if !is_allowed_nick(new) {
            return self.tell(id, &[protocol::NICK_RULE]);
        }
        if self.members.get(id).is_some_and(|m| m.nickname == new) {
            return self.tell(id, &[&protocol::you_are(new)]);
        }
        let taken_here = self.members.by_nick(new).is_some_and(|holder| holder != id);
        if taken_here || self.held_elsewhere(new) {
            return self.tell(id, &[&protocol::is_taken(new)]);
        }
        let Some(old) = self.nickname(id).map(str::to_owned) else {
            return;
        };
        // With Redis the name is claimed there first (one round trip).
        let verdict = self.rename_through_redis(id, &old, new);
        if verdict == Verdict::Taken || self.members.rename(id, new).is_err() {
            return self.tell(id, &[&protocol::is_taken(new)]);
        }
        log::info!("room {}: {old} is now {new}", self.name);
        if verdict == Verdict::Local {
            self.publish(Broadcast::Renamed { old: &old, new });
        }
    }

    /// `/msg NICK TEXT`: to NICK and the sender only; not in the history.
    /// An away member gets it when it comes back.
    fn private(&mut self, id: ClientId, to: &str, text: &str) {
        let Some(from) = self.nickname(id).map(str::to_owned) else {
            return;
        };
        if self.private_through_redis(id, to, text) {
            return;
        }
        let Some(target) = self.members.by_nick(to) else {
            return self.tell(id, &[&protocol::not_here(&echo(to))]);
        };
        let Some(to) = self.nickname(target).map(str::to_owned) else {
            return;
        };
        let line = protocol::private_line(&from, &to, text);
        self.tell(target, &[&line]);
        if target != id {
            self.tell(id, &[&line]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_chat() {
        assert_eq!(parse("/nick bob"), Command::Nick("bob"));
        assert_eq!(parse("/NICK  bob "), Command::Nick("bob"));
        assert_eq!(parse("/nick"), Command::Nick(""));
        assert_eq!(parse("/nick \t "), Command::Nick(""));
        assert_eq!(parse("/who"), Command::Who);
        assert_eq!(parse("/me waves hello"), Command::Me("waves hello"));
        assert_eq!(parse("/me "), Command::Usage("/me ACTION"));
        assert_eq!(
            parse("/msg bob hi there"),
            Command::Msg {
                to: "bob",
                text: "hi there"
            }
        );
        assert_eq!(parse("/msg bob"), Command::Usage("/msg NICK TEXT"));
        assert_eq!(parse("/help"), Command::Help);
        assert_eq!(parse("/dance now"), Command::Unknown("dance".into()));
        assert_eq!(parse("//who"), Command::Chat("/who"));
        assert_eq!(parse("/ who"), Command::Chat("/ who"));
        assert_eq!(parse("/1"), Command::Chat("/1"));
        assert_eq!(parse("/"), Command::Chat("/"));
    }

    #[test]
    fn a_long_unknown_word_is_cut() {
        let word = "x".repeat(4000);
        let Command::Unknown(echo) = parse(&format!("/{word}")) else {
            panic!("not unknown");
        };
        assert_eq!(echo, format!("{}…", "x".repeat(MAX_ECHO_CHARS)));
    }

    #[test]
    fn nickname_rule() {
        for ok in [
            "bob",
            "Zoë",
            "日本語",
            "a-b_c",
            "x",
            &"y".repeat(20),
            "user-",
            "user-x1",
            "user1",
        ] {
            assert!(is_allowed_nick(ok), "{ok} refused");
        }
        for bad in [
            "",
            &"y".repeat(21),
            "a b",
            "a.b",
            "a\u{301}",
            "user-1",
            "USER-42",
            "uſer-7",
            "user-٧",
            "<b>",
            "a\n",
        ] {
            assert!(!is_allowed_nick(bad), "{bad:?} allowed");
        }
    }

    #[test]
    fn folding_ignores_case() {
        assert_eq!(fold("Bob"), fold("bOB"));
        assert_eq!(fold("STRASSE"), fold("straße"));
        assert_eq!(fold("STRAẞE"), fold("straße"));
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), fold("σίσυφος"));
        assert_ne!(fold("bob"), fold("rob"));
    }
}
