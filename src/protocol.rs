//! The wire wording: every line the room sends, and the close codes we use.
//!
//! Plain text frames, as in the seed. Everything a client can read is spelled
//! here once, so the room, the tests and the page agree on it.

/// The highest nickname number is below this (the seed's `(random 100000)`).
pub const NICKNAME_SPACE: u32 = 100_000;

/// A nickname is `user-N`, N below [`NICKNAME_SPACE`].
pub fn nickname(n: u32) -> String {
    format!("user-{n}")
}

/// A chat line, as the seed's `broadcast-to-room` formats it: `nick: message`.
/// In parts, so the room can write it straight into a frame without
/// building the string first.
pub fn chat_line<'a>(nick: &'a str, text: &'a str) -> [&'a str; 3] {
    [nick, ": ", text]
}

/// Told to the newcomer only, so a person knows who they are.
pub fn you_are(nick: &str) -> String {
    format!(" .... you are {nick}.")
}

/// Told to everyone else when a client arrives.
pub fn has_joined(nick: &str) -> String {
    format!(" .... {nick} has joined.")
}

/// Told to everyone left when a client goes (the seed's `handle-close-connection`).
pub fn has_left(nick: &str) -> String {
    format!(" .... {nick} has left.")
}

/// Told to a sender whose messages are being dropped by the rate limit, at
/// most once per [`SLOW_DOWN_EVERY`] (issue 9, point 8).
pub const SLOW_DOWN: &str = " .... slow down.";

/// A sender is told [`SLOW_DOWN`] at most once per this, however many of
/// its messages are dropped.
pub const SLOW_DOWN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Names shown in the presence line at most; past it, `, and K more.`
/// (issue 11: a room of hundreds still gets a one-line greeting).
pub const PRESENCE_NAMES: usize = 50;

/// The presence line, ` .... here now (N): A, B, C.`: `names` in order of
/// arrival, `total` of them in all (only the first [`PRESENCE_NAMES`] are
/// written out).
pub fn here_now<'a>(total: usize, names: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = format!(" .... here now ({total}): ");
    let mut shown = 0;
    for name in names.into_iter().take(PRESENCE_NAMES) {
        if shown > 0 {
            line.push_str(", ");
        }
        line.push_str(name);
        shown += 1;
    }
    if total > shown {
        line.push_str(&format!(", and {} more", total - shown));
    }
    line.push('.');
    line
}

/// An action (`/me`), to everyone: `* nick action`. In parts, like
/// [`chat_line`].
pub fn action_line<'a>(nick: &'a str, action: &'a str) -> [&'a str; 4] {
    ["* ", nick, " ", action]
}

/// A private line (`/msg`), to its sender and its addressee only.
pub fn private_line(from: &str, to: &str, text: &str) -> String {
    format!("{from} -> {to}: {text}")
}

/// A nickname change, to everyone in the room.
pub fn is_now(old: &str, new: &str) -> String {
    format!(" .... {old} is now {new}.")
}

/// To the sender only: the nickname it asked for belongs to someone else.
pub fn is_taken(nick: &str) -> String {
    format!(" .... {nick} is taken.")
}

/// To the sender only: the nickname it asked for breaks the rule.
pub const NICK_RULE: &str =
    " .... a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits.";

/// To the sender only: `/msg` to someone not in the room.
pub fn not_here(nick: &str) -> String {
    format!(" .... no {nick} here.")
}

/// To the sender only: a `/word` that is no command.
pub fn unknown_command(word: &str) -> String {
    format!(" .... unknown command /{word} (try /help).")
}

/// To the sender only: how to use a command it got wrong.
pub fn usage(command: &str) -> String {
    format!(" .... usage: {command}")
}

/// The answer to `/help`, to the sender only, one line each.
pub const HELP: [&str; 7] = [
    " .... commands:",
    " .... /nick NEW: take the nickname NEW",
    " .... /who: who is here",
    " .... /me ACTION: tell the room what you do, as * NICK ACTION",
    " .... /msg NICK TEXT: a private line to NICK only",
    " .... /help: this list",
    " .... //text sends /text as a chat line",
];

/// Close codes (RFC 6455, section 7.4.1) and the reasons we send with them.
pub mod close {
    /// The server is shutting down, or the peer went silent.
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol violation: bad framing, reserved bits or opcodes, bad close code.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A binary frame: this chat speaks text only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A text message that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// The client could not keep up (its outbox filled).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A message over the size limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;

    /// What a close code we send says happened, for the close frame's
    /// reason and the log: a limit is not a protocol error (issue 9, point 9).
    pub fn cause(code: u16) -> &'static str {
        match code {
            GOING_AWAY => "going away",
            PROTOCOL_ERROR => "protocol error",
            UNSUPPORTED_DATA => "binary message",
            INVALID_PAYLOAD => "invalid UTF-8",
            POLICY_VIOLATION => "could not keep up",
            MESSAGE_TOO_BIG => "message too big",
            _ => "closed by the server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_the_seed() {
        assert_eq!(nickname(42), "user-42");
        assert_eq!(chat_line("user-42", "hello").concat(), "user-42: hello");
        assert_eq!(chat_line("user-42", "").concat(), "user-42: ");
        assert_eq!(has_left("user-42"), " .... user-42 has left.");
    }

    #[test]
    fn notices_have_the_leading_space() {
        assert_eq!(you_are("user-7"), " .... you are user-7.");
        assert_eq!(has_joined("user-7"), " .... user-7 has joined.");
        assert_eq!(SLOW_DOWN, " .... slow down.");
    }

    #[test]
    fn a_limit_is_not_a_protocol_error() {
        assert_eq!(close::cause(close::MESSAGE_TOO_BIG), "message too big");
        assert_eq!(close::cause(close::PROTOCOL_ERROR), "protocol error");
    }

    #[test]
    fn presence_lists_fifty_then_counts_the_rest() {
        assert_eq!(here_now(1, ["a"]), " .... here now (1): a.");
        assert_eq!(here_now(3, ["A", "B", "C"]), " .... here now (3): A, B, C.");
        let names: Vec<String> = (0..73).map(|i| format!("n{i}")).collect();
        let line = here_now(73, names.iter().map(String::as_str));
        let shown: Vec<&str> = names[..50].iter().map(String::as_str).collect();
        assert_eq!(
            line,
            format!(" .... here now (73): {}, and 23 more.", shown.join(", "))
        );
    }

    #[test]
    fn command_lines() {
        assert_eq!(action_line("bob", "waves").concat(), "* bob waves");
        assert_eq!(private_line("a", "b", "hi"), "a -> b: hi");
        assert_eq!(is_now("user-1", "bob"), " .... user-1 is now bob.");
        assert_eq!(is_taken("bob"), " .... bob is taken.");
        assert_eq!(not_here("zed"), " .... no zed here.");
        assert_eq!(
            unknown_command("dance"),
            " .... unknown command /dance (try /help)."
        );
    }
}
