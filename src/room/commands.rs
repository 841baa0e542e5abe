//! Commands: what a line starting with `/` asks for ([`parse`], a pure
//! function), and what the room does for each (`impl Room`).
//!
//! Only a line whose first byte is `/` comes here, so ordinary chat costs
//! one byte comparison. `/` followed by a letter is a command; `//text` is
//! the chat line `/text`; `/` followed by anything else is chat as typed.

use super::room::Room;
use super::ClientId;
use crate::event::What;
use crate::nickname;
use crate::protocol;

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
    /// A teacher's command (see `teacher.rs`): its word, lowercase, and
    /// its arguments.
    Teach { word: &'static str, args: &'a str },
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
        other => match super::teacher::WORDS.iter().find(|w| **w == other) {
            Some(word) => Command::Teach { word, args: rest },
            None => Command::Unknown(echo(word)),
        },
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

impl<H: Clone> Room<H> {
    /// Carry out the command in `line` (which starts with `/`) for member
    /// `id`. Refusals and answers go to the sender alone.
    pub(super) fn command(&mut self, id: ClientId, line: &str) {
        match parse(line) {
            Command::Chat(text) => self.say(id, text),
            Command::Nick(new) => self.nick(id, new),
            Command::Who => {
                let presence = self.presence();
                self.send(id, vec![presence]);
            }
            Command::Me(action) => {
                if self.may_speak(id, false) {
                    self.act(id, action);
                }
            }
            Command::Msg { to, text } => {
                if self.may_speak(id, true) {
                    self.private(id, to, text);
                }
            }
            Command::Help if self.is_teacher(id) => {
                let all: Vec<&str> = protocol::HELP
                    .iter()
                    .chain(protocol::TEACHER_HELP.iter())
                    .copied()
                    .collect();
                self.tell(id, &all);
            }
            Command::Help => self.tell(id, &protocol::HELP),
            Command::Teach { word, args } => self.teach(id, word, args),
            Command::Usage(usage) => self.tell(id, &[&protocol::usage(usage)]),
            Command::Unknown(word) => self.tell(id, &[&protocol::unknown_command(&word)]),
        }
    }

    /// `/nick NEW`. The core handles one input at a time, so of two
    /// members asking for one name at once exactly one gets it (with
    /// `--redis`, Redis decides between instances: `peers.rs`).
    fn nick(&mut self, id: ClientId, new: &str) {
        if !nickname::is_allowed(new) {
            return self.tell(id, &[protocol::NICK_RULE]);
        }
        let Some(old) = self.nickname(id).map(str::to_owned) else {
            return;
        };
        if old == new {
            return self.tell(id, &[&protocol::you_are(new)]);
        }
        // A name that could pass for another member's, or a server name.
        if let Err(line) = self.name_allowed(id, new) {
            return self.tell(id, &[&line]);
        }
        let taken_here = self.members.by_nick(new).is_some_and(|holder| holder != id);
        if taken_here || self.held_elsewhere(new) {
            return self.tell(id, &[&protocol::is_taken(new)]);
        }
        if self.peers.is_some() {
            return self.claim_rename(id, &old, new);
        }
        self.rename(id, new, true);
    }

    /// Give member `id` the name `new` and, if `announce`, tell the room.
    pub(super) fn rename(&mut self, id: ClientId, new: &str, announce: bool) {
        let Ok(old) = self.members.rename(id, new) else {
            return self.tell(id, &[&protocol::is_taken(new)]);
        };
        self.move_mute(&old, new);
        self.log(
            log::Level::Info,
            format!("room {}: {old} is now {new}", self.name),
        );
        if announce {
            self.publish(What::Rename {
                from: old,
                to: new.to_owned(),
            });
        }
    }

    /// `/msg NICK TEXT`: to NICK and the sender only; not in the history.
    /// An away member gets it when it comes back. With `--redis`, NICK may
    /// be on another instance: the line goes through the room's channel.
    fn private(&mut self, id: ClientId, to: &str, text: &str) {
        let Some(from) = self.nickname(id).map(str::to_owned) else {
            return;
        };
        let asked = to;
        let here = self.members.by_nick(asked);
        let to = match here {
            Some(target) => self.nickname(target).map(str::to_owned),
            None => self.peer_named(asked),
        };
        let Some(to) = to else {
            return self.tell(id, &[&protocol::not_here(&echo(asked))]);
        };
        let what = What::Private {
            from,
            to,
            text: text.to_owned(),
        };
        if self.peers.is_some() && here.is_none() {
            let event = self.event(what);
            return self.out.push(super::Output::Publish {
                room: self.name.clone(),
                event,
            });
        }
        self.deliver_private(what);
    }

    /// A private line to its sender and its addressee, if they are here.
    pub(super) fn deliver_private(&mut self, what: What) {
        let What::Private { from, to, .. } = &what else {
            return;
        };
        let target = self.members.by_nick(to);
        let sender = self.members.by_nick(from).filter(|&s| Some(s) != target);
        let event = self.event(what);
        for id in [target, sender].into_iter().flatten() {
            self.send(id, vec![event.clone()]);
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
        assert_eq!(
            parse("/KICK bob"),
            Command::Teach {
                word: "kick",
                args: "bob"
            }
        );
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any line: a command or chat, never a panic; what a command
            /// carries is part of the line, trimmed as documented.
            #[test]
            fn parse_never_panics(line in "/?(nick|NICK|me|msg|who|help|[a-zA-Zé]{1,5}|/|1| )?[ \t\u{85}\u{a0}a-z]{0,6}.{0,20}") {
                match parse(&line) {
                    Command::Chat(text) => prop_assert!(line.contains(text)),
                    Command::Nick(nick) => prop_assert_eq!(nick.trim(), nick),
                    Command::Me(action) => prop_assert!(!action.is_empty()),
                    Command::Msg { to, text } => {
                        prop_assert!(!to.is_empty() && !to.contains(char::is_whitespace));
                        prop_assert!(!text.trim().is_empty() && line.contains(text));
                    }
                    Command::Unknown(word) => prop_assert!(word.chars().count() <= MAX_ECHO_CHARS + 1),
                    Command::Teach { word, args } => {
                        prop_assert!(!word.is_empty());
                        prop_assert!(line.contains(args));
                    }
                    Command::Who | Command::Help | Command::Usage(_) => {}
                }
            }
        }
    }
}
