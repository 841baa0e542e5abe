//! The nickname rules: which names a member may choose, and when two names
//! are the same. Pure functions, used by the room core (uniqueness in a
//! room) and by the cluster (the key a name is claimed under in Redis), so
//! the rule is written once; and which names could pass for another
//! ([`confusable`], [`like_server_name`]: Unicode TS #39 skeletons, from the
//! `unicode-security` crate) or draw nothing ([`draws_nothing`]). Owns
//! nothing.

use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{skeleton, GeneralSecurityProfile};

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
        && !nick.chars().any(draws_nothing)
        && !is_server_name(nick)
}

/// A character that draws nothing: a default-ignorable code point (zero
/// widths, joiners, variation selectors, the Hangul fillers, which Unicode
/// counts as letters).
pub fn draws_nothing(c: char) -> bool {
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
        || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
}

/// A name's TS #39 skeleton, of its case fold too: two names with the
/// same one look alike.
fn skeletons(nick: &str) -> [String; 2] {
    [skeleton(nick).collect(), skeleton(&fold(nick)).collect()]
}

/// Whether `a` and `b` could pass for each other: the same ignoring case,
/// or the same TS #39 skeleton (Cyrillic `а` for Latin `a`, Greek `Κ` for
/// `K`, `0` for `O`...), with or without case.
pub fn confusable(a: &str, b: &str) -> bool {
    if fold(a) == fold(b) {
        return true;
    }
    let (a, b) = (skeletons(a), skeletons(b));
    a.iter().any(|x| b.contains(x))
}

/// Whether `nick` could pass for a name the server gives, `user-N`.
pub fn like_server_name(nick: &str) -> bool {
    let prefix: String = skeleton("user-").collect();
    let digits: String = skeleton("0123456789").collect();
    skeletons(nick).iter().any(|s| {
        s.strip_prefix(&prefix)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| digits.contains(c)))
    })
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
    fn names_that_pass_for_others() {
        // Cyrillic а, Greek Κ, digits for letters.
        assert!(confusable("alice", "\u{430}lice"));
        assert!(confusable("MrsK", "Mrs\u{39A}"));
        assert!(confusable("Bob", "bob"));
        assert!(!confusable("alice", "alicia"));
        assert!(like_server_name("us\u{435}r-7"), "Cyrillic е");
        assert!(like_server_name("user-l"), "l for 1");
        assert!(!like_server_name("user-x1"));
        assert!(!like_server_name("username"));
    }

    #[test]
    fn names_that_draw_nothing_are_refused() {
        for bad in [
            "a\u{200B}b",
            "\u{3164}",
            "a\u{3164}",
            "\u{115F}x",
            "x\u{FFA0}",
            "a\u{2060}",
        ] {
            assert!(!is_allowed(bad), "{bad:?} allowed");
        }
        assert!(is_allowed("한국"));
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
