//! The nickname rules: which names a member may choose, and when two names
//! are the same. Pure functions, used by the room core (uniqueness in a
//! room) and by the cluster (the key a name is claimed under in Redis), so
//! the rule is written once. Owns nothing.

/// A nickname has at most this many characters (Unicode scalar values).
pub const MAX_NICK_CHARS: usize = 20;

/// Whether `nick` may be chosen with `/nick`: 1 to [`MAX_NICK_CHARS`]
/// characters, each a Unicode letter or digit or `-` or `_`, and not
/// `user-` followed by digits (those are the names the server gives),
/// judged on its case fold, as uniqueness is.
pub fn is_allowed(nick: &str) -> bool {
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
pub fn is_server_name(nick: &str) -> bool {
    fold(nick)
        .strip_prefix("user-")
        .is_some_and(|n| !n.is_empty() && n.chars().all(char::is_numeric))
}

/// The key under which a nickname is unique in a room: its case fold.
/// Lower, upper, then lower again folds what one mapping alone does not
/// (`ß`/`ẞ`/`SS`, final `ς`/`σ`): every pair Unicode's full case folding
/// (`CaseFolding.txt`) makes equal comes out equal. With `--redis` the
/// same key is claimed in Redis.
pub fn fold(nick: &str) -> String {
    nick.to_lowercase().to_uppercase().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_rule() {
        for ok in [
            "bob",
            "Zoë",
            "日本語",
            "a-b_c",
            "x",
            "yyyyyyyyyyyyyyyyyyyy",
            "user-",
            "user-x1",
            "user1",
        ] {
            assert!(is_allowed(ok), "{ok} refused");
        }
        for bad in [
            "",
            "yyyyyyyyyyyyyyyyyyyyy",
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
            assert!(!is_allowed(bad), "{bad:?} allowed");
        }
    }

    #[test]
    fn folding_ignores_case() {
        assert_eq!(fold("Bob"), fold("bOB"));
        assert_eq!(fold("STRASSE"), fold("straße"));
        assert_eq!(fold("STRAẞE"), fold("straße"));
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), fold("σίσυφος"));
        assert_ne!(fold("bob"), fold("rob"));
        for nick in ["Bob", "STRAẞE", "ΣΊΣΥΦΟΣ", "İstanbul"] {
            assert_eq!(
                fold(&fold(nick)),
                fold(nick),
                "fold of {nick} not idempotent"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Folding twice is folding once, and the rules judge a name as
            /// they judge its fold.
            #[test]
            fn fold_is_idempotent(nick in any::<String>()) {
                let folded = fold(&nick);
                prop_assert_eq!(fold(&folded), folded.clone());
                prop_assert_eq!(is_server_name(&nick), is_server_name(&folded));
            }

            /// The same with names drawn from the letters that fold oddly.
            #[test]
            fn fold_is_idempotent_on_odd_letters(nick in "[ßẞſKkΣσςİıiIǅǄǆΐΰﬀﬁﬅ\u{345}Ιιᾼᾳῼῳ-]{1,8}") {
                let folded = fold(&nick);
                prop_assert_eq!(fold(&folded), folded.clone());
            }
        }
    }
}
