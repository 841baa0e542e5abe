//! The page through nginx with TLS, as README's Deploy section sets it up:
//! nginx runs `contrib/nginx.conf` (ports and
//! certificate templated) with a certificate openssl makes for the test;
//! headless Chromium, told to accept that certificate, opens the page over
//! `https:`; two tabs chat over `wss:` through `/ws/ROOM`, their `Origin`
//! accepted without a flag; the server logs the tabs' address from
//! `X-Forwarded-For`. Skipped with a line outside CI when nginx, openssl or
//! Chromium is missing; in CI a missing one fails (`.ci/run` installs them).
//!
//! A binary of its own: it installs a global logger to read the in-process
//! server's log, which would capture every other test's servers too.

use chat_server_browser as support;
use testkit::proxy;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use chat_server::Config;
use proxy::{Form, Nginx};
use support::tab::*;

/// The server's log lines (it runs in this process), as `target: message`.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record) {
        if let (true, Ok(mut lines)) = (self.enabled(record.metadata()), LOG.lock()) {
            lines.push(format!("{}: {}", record.target(), record.args()));
        }
    }
    fn flush(&self) {}
}

/// The log lines containing `needle`, once there are `n` of them.
fn wait_log(needle: &str, n: usize) -> Vec<String> {
    support::wait_for(
        &format!("{n} log lines with {needle:?}"),
        support::PAGE_WAIT,
        || {
            let lines = LOG.lock().ok()?;
            let found: Vec<String> = lines
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            (found.len() >= n).then_some(found)
        },
    )
}

#[test]
fn two_tabs_chat_through_nginx_over_https() {
    let test = "two_tabs_chat_through_nginx_over_https";
    if !proxy::have_nginx_and_openssl() {
        return;
    }
    let chromium = match headless_chrome::browser::default_executable() {
        Ok(path) => path,
        Err(e) if support::in_ci() => panic!("{test}: Chromium is required in CI: {e}"),
        Err(e) => return println!("{test}: skipped, Chromium not found ({e})"),
    };
    log::set_logger(&Capture).expect("the only logger");
    log::set_max_level(log::LevelFilter::Info);
    let server = support::start_server_with(Config {
        trusted_proxies: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        ..support::test_config()
    });
    let nginx = Nginx::start(server.page_addr(), server.chat_addr(), Form::KeepPrefix);
    // The tabs come over IPv6 (when there is one), so their address (::1)
    // differs from the one nginx connects to the server from (127.0.0.1).
    let front = nginx.https_v6.unwrap_or(nginx.https);
    let url = format!("https://{front}/");
    let browser = support::launch_with(&chromium, &["--ignore-certificate-errors"]);

    let a = open(&browser, &url);
    let nick_a = wait_nick(&a);
    let b = open(&browser, &url);
    let nick_b = wait_nick(&b);
    assert_ne!(nick_a, nick_b);
    wait_line(&a, &format!(" .... {nick_b} has joined."));
    assert_eq!(js_string(&a, "location.protocol"), "https:");

    say(&a, "hello through nginx");
    wait_line(&b, &format!("{nick_a}: hello through nginx"));
    say(&b, "and back over wss");
    wait_line(&a, &format!("{nick_b}: and back over wss"));

    // The server logged each tab by the address nginx forwarded, with
    // nginx's own.
    let client = front.ip().to_string();
    for line in wait_log(&format!("forwards for {client}"), 2) {
        assert!(line.contains("127.0.0.1:"), "{line}");
    }
    drop(nginx);
}
