//! What every browser test needs: headless Chromium (or an honest skip when
//! it is missing), the page's tabs ([`tab`]), screenshots ([`shots`]), a
//! relay to cut connections ([`relay`]) and bounded waits on the page. The
//! chat server on loopback port 0 and the plain WebSocket client for the
//! other side of a conversation are testkit's, re-exported here. Used by
//! both test binaries (`tests/page/`, `tests/proxy/`) as this package's
//! library.
//!
//! Runs on the test's own thread. Chromium is started with its background
//! networking off, so it talks to nothing but the test's servers.

pub mod relay;
pub mod shots;
pub mod stage;
pub mod tab;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions};

pub use testkit::{
    in_ci, start_on, start_on_listeners, start_server, start_server_with, test_config, TestClient,
    TestServer,
};

/// The longest any single wait on the page in Chromium may take (a tab
/// opening, a line appearing, a class changing). Generous: Chromium on a
/// busy two-core machine is slow to start a tab. A wait for a message on a
/// plain WebSocket ([`TestClient`]) is bounded by testkit's `WAIT` instead.
pub const PAGE_WAIT: Duration = Duration::from_secs(15);
/// Waiting for the page to reconnect by itself: its backoff is capped at 5 s.
pub const RECONNECT_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(50);
/// The browser window's size, and the desktop screenshot's.
pub const DESKTOP: (u32, u32) = (960, 600);
pub const PHONE: (u32, u32) = (390, 844);

/// Headless Chromium for the test `test`, or `None` after a clear skip line
/// when no Chromium is installed (outside CI; in CI that is a failure).
/// Looks where headless_chrome does: `$CHROME`, then `chromium`,
/// `google-chrome-stable` and the like on the `PATH`.
pub fn chromium_or_skip(test: &str) -> Option<Browser> {
    chromium_path_or_skip(test).map(|path| launch(&path))
}

/// Where Chromium is, as [`chromium_or_skip`] finds it, for a test that
/// launches it with switches of its own ([`launch_with`]).
pub fn chromium_path_or_skip(test: &str) -> Option<PathBuf> {
    match headless_chrome::browser::default_executable() {
        Ok(path) => Some(path),
        Err(e) if in_ci() => panic!("{test}: Chromium is required in CI: {e}"),
        Err(e) => {
            println!("{test}: skipped, Chromium not found ({e}); `make test-browser` installs it");
            None
        }
    }
}

/// Headless Chromium, no sandbox (we may be root), no background traffic, and
/// a fresh profile in a temporary folder that headless_chrome deletes when
/// the browser is dropped (so nothing a page stores outlives its test).
pub fn launch(path: &Path) -> Browser {
    launch_with(path, &[])
}

/// [`launch`] with more command-line switches (for example
/// `--ignore-certificate-errors-spki-list=...` for a test certificate).
pub fn launch_with(path: &Path, extra: &[&str]) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ]
    .iter()
    .chain(extra)
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(path.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(None)
        .window_size(Some(DESKTOP))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options).expect("start chromium")
}

/// Call `f` until it gives a value; panic after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {timeout:?} for {what}");
        sleep(POLL);
    }
}

/// Where the build's output goes: `$CARGO_TARGET_DIR` when set, else the
/// workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_path(Path::new(&dir)),
        _ => workspace_root().join("target"),
    }
}

/// The repository's root (this package is `browser/` in it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("browser/ has a parent")
        .to_path_buf()
}

/// A path given relative to the repository's root (as `make` gives them),
/// made absolute: tests run in `browser/`.
pub fn workspace_path(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        workspace_root().join(path)
    }
}
