//! The chat page as students see it, in headless Chromium against a real
//! chat server on loopback: one behaviour per file in this folder, one test
//! binary (so headless_chrome is linked once). What they share is this
//! package's library (`src/`, imported here as `support`) and testkit.
//!
//! Each test starts its own Chromium (a fresh profile, so nothing a page
//! stores in the browser outlives its test) and its own server on port 0.
//! Without Chromium a test prints a skip line and passes, except in CI
//! (`CI=true`), where it fails. `make test-browser` installs Chromium first.
//!
//! Environment: `CHROME` (the browser to use, else `chromium` and the like on
//! the `PATH`), `CHAT_SCREENSHOT_DIR` (where the README's screenshots go,
//! relative to the repository; `make screenshot` sets `docs`), and
//! `CARGO_TARGET_DIR` (review screenshots go to its `browser/` folder, else
//! to `target/browser/`).

use chat_server_browser as support;

mod bidi;
mod first_visit;
mod history;
mod json;
mod keyboard;
mod limits;
mod links;
mod long_lines;
mod looks;
mod members;
mod mentions;
mod multiline;
mod names;
mod new_below;
mod phone;
mod private;
mod projector;
mod proxy;
mod public_url;
mod rejoin;
mod reload;
mod resume;
mod rooms;
mod teacher;
mod transcript;
mod two_tabs;
mod unread;
mod with_teacher_server;

#[test]
fn base64_matches_rfc_4648() {
    use support::shots::base64;
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), coded);
    }
    assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
}
