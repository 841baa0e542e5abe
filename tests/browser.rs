//! The page as students see it, in headless Chromium: two tabs chat, HTML
//! in a message stays text, a closed tab leaves the room, and a page outlives
//! a server restart. Screenshots (desktop and phone) are written as PNG.
//!
//! Ignored by plain `cargo test`; `make test-browser` runs it with
//! `--include-ignored`. Skips (passes) when `/usr/bin/chromium` is absent.
//!
//! Environment:
//! - `CHAT_SCREENSHOT_DIR`: where the PNGs go (default `target/browser/` in
//!   the crate); `make screenshot` sets it to `docs`.
//!
//! Every wait polls the page's DOM until a deadline; nothing waits by sleeping
//! a fixed time. Loopback only; Chromium is started with its background
//! networking off, so it talks to nothing but the test server.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use chat_server::Server;
use common::{start_server, test_config, TestClient, TestServer};
use headless_chrome::protocol::cdp::Runtime::RemoteObject;
use headless_chrome::protocol::cdp::{Emulation, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest any single wait on the page may take. Generous: Chromium on a
/// busy two-core machine is slow to start a tab.
const WAIT: Duration = Duration::from_secs(15);
/// Waiting for the page to reconnect by itself: its backoff is capped at 5 s.
const RECONNECT_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);
/// Between lines in `innerText`-like joins: a character no test line contains.
const SEP: char = '\u{1e}';
const DESKTOP: (u32, u32) = (960, 600);
const PHONE: (u32, u32) = (390, 844);

#[test]
#[ignore = "needs Chromium: run with `make test-browser`"]
fn two_tabs_chat_safely_and_survive_a_restart() {
    if !std::path::Path::new(CHROMIUM).exists() {
        println!("browser test skipped: chromium not found (make test-browser installs it)");
        return;
    }
    let started = Instant::now();
    let step = |what: &str| println!("{:>7.2?}  {what}", started.elapsed());
    let mut server = start_server();
    let (chat_addr, page_addr) = (server.chat_addr(), server.page_addr());
    let url = format!("http://{page_addr}/");
    let browser = launch();
    step("chromium is up");

    // Two tabs, each greeted with its own nickname.
    step("two tabs");
    let a = open(&browser, &url);
    let nick_a = wait_nick(&a);
    let b = open(&browser, &url);
    let nick_b = wait_nick(&b);
    assert_ne!(nick_a, nick_b);
    wait_line(&a, &format!(" .... {nick_b} has joined."));
    assert_eq!(state(&a), "connected");
    assert_eq!(text(&a, "#nick"), nick_a, "tab A shows its own nickname");
    check_page_basics(&a);

    // A says hello; both see it under A's nickname, and it is A's own.
    step("hello");
    type_keys(&a, "hello");
    let hello = format!("{nick_a}: hello");
    wait_line(&a, &hello);
    wait_line(&b, &hello);
    assert!(js_bool(
        &a,
        "document.querySelector('#chat-echo-area li:last-child').classList.contains('mine')"
    ));
    assert!(focused_input(&a), "the input keeps focus after sending");
    assert_eq!(input_value(&a), "", "the input is cleared after sending");

    // B sends HTML: shown as text in both tabs, and nothing runs.
    step("HTML stays text");
    for tab in [&a, &b] {
        js(tab, "window.alert = function () { window.__xss = 1; }");
    }
    let payloads = [
        "<img src=x onerror=alert(1)>",
        "<img src=x onerror=\"window.__xss=1\">",
    ];
    for payload in payloads {
        say(&b, payload);
    }
    for tab in [&a, &b] {
        for payload in payloads {
            wait_line(tab, &format!("{nick_b}: {payload}"));
        }
        assert!(
            js_bool(tab, "document.querySelectorAll('img').length === 0"),
            "an <img> element was created"
        );
        assert!(
            js_bool(tab, "typeof window.__xss === 'undefined'"),
            "a payload ran"
        );
    }

    // Empty (and blank) input is not sent: the next line follows directly.
    step("empty input");
    press_enter(&b);
    say(&b, "   ");
    say(&b, "after nothing");
    let after = format!("{nick_b}: after nothing");
    wait_line(&b, &after);
    let seen = lines(&b);
    assert_eq!(
        seen[seen.len() - 2],
        format!("{nick_b}: {}", payloads[1]),
        "an empty message was sent: {seen:?}"
    );
    assert_eq!(input_value(&b), "");

    // Closing tab A: B is told A has left.
    step("close tab A");
    a.close(false).expect("close tab A");
    wait_line(&b, &format!(" .... {nick_a} has left."));

    // The server stops: B says it is reconnecting, and keeps what is typed
    // meanwhile in the box.
    step("server stops");
    server.shutdown();
    wait_for("tab B to show it is reconnecting", WAIT, || {
        (state(&b) == "reconnecting").then_some(())
    });
    wait_for("tab B to note the lost connection", WAIT, || {
        lines(&b)
            .iter()
            .any(|l| l.starts_with("connection lost"))
            .then_some(())
    });
    type_keys(&b, "kept");
    assert_eq!(input_value(&b), "kept", "typed while disconnected: kept");
    assert!(
        text(&b, "#hint").contains("Not sent"),
        "{}",
        text(&b, "#hint")
    );
    assert!(focused_input(&b));
    review_shot(&b, "reconnecting.png");

    // A new server on the same ports: B's old page reconnects by itself,
    // gets a new nickname, and the kept line goes out with Enter.
    step("server restarts");
    let mut server = start_on(chat_addr, page_addr);
    let nick_b2 = wait_for("tab B to reconnect", RECONNECT_WAIT, || {
        let greetings: Vec<String> = lines(&b)
            .into_iter()
            .filter(|l| l.starts_with(" .... you are "))
            .collect();
        (greetings.len() == 2 && state(&b) == "connected").then(|| text(&b, "#nick"))
    });
    assert!(
        lines(&b).contains(&format!(" .... you are {nick_b2}.")),
        "{nick_b2}"
    );
    assert_eq!(input_value(&b), "kept");
    press_enter(&b);
    wait_line(&b, &format!("{nick_b2}: kept"));
    assert_eq!(input_value(&b), "");
    assert!(focused_input(&b));

    // Someone else joins and talks, for a screenshot that shows a room.
    step("a third person; contrast");
    let mut carol = TestClient::connect(chat_addr);
    wait_line(&b, &format!(" .... {} has joined.", carol.nick));
    carol.send("welcome back! the page reconnected by itself");
    wait_line(
        &b,
        &format!(
            "{}: welcome back! the page reconnected by itself",
            carol.nick
        ),
    );
    say(&b, "and my line was kept while the server was down");
    wait_line(
        &b,
        &format!("{nick_b2}: and my line was kept while the server was down"),
    );
    assert_contrast(&b);
    dark(&b, true);
    review_shot(&b, "dark.png");
    dark(&b, false);

    // Screenshots, desktop then phone.
    step("screenshots");
    let dir = screenshot_dir();
    fs::create_dir_all(&dir).expect("create the screenshot folder");
    let desktop = screenshot(&b, DESKTOP, 1.0, false);
    let phone = screenshot(&b, PHONE, 2.0, true);
    fs::write(dir.join("screenshot.png"), &desktop).expect("write screenshot.png");
    fs::write(dir.join("screenshot-phone.png"), &phone).expect("write screenshot-phone.png");
    for (name, png, (w, h), scale) in [
        ("screenshot.png", &desktop, DESKTOP, 1),
        ("screenshot-phone.png", &phone, PHONE, 2),
    ] {
        let written = fs::read(dir.join(name)).expect("read the screenshot back");
        assert_eq!(&written, png);
        check_png(&browser, name, &written, (w * scale, h * scale));
    }
    assert_ne!(desktop, phone);
    println!(
        "screenshots: {} ({} bytes), {} ({} bytes)",
        dir.join("screenshot.png").display(),
        desktop.len(),
        dir.join("screenshot-phone.png").display(),
        phone.len()
    );

    // On a phone: a long word wraps (no sideways scrolling), and the newest
    // line is scrolled into view when lines overflow the screen.
    step("phone layout");
    set_viewport(&b, PHONE, 1.0, true);
    let long_word = "w".repeat(300);
    say(&b, &long_word);
    for i in 0..40 {
        carol.send(&format!("line {i}"));
    }
    carol.recv_until(&format!("{}: line 39", carol.nick));
    wait_line(&b, &format!("{}: line 39", carol.nick));
    wait_line(&b, &format!("{nick_b2}: {long_word}"));
    assert!(js_bool(
        &b,
        "document.documentElement.scrollWidth <= window.innerWidth"
    ));
    assert!(js_bool(
        &b,
        "(() => { const l = document.getElementById('log');
                  return l.scrollWidth <= l.clientWidth && l.scrollHeight > l.clientHeight; })()"
    ));
    wait_for("the newest line to be in view", WAIT, || {
        js_bool(
            &b,
            "(() => { const l = document.getElementById('chat-echo-area');
                      const r = l.lastElementChild.getBoundingClientRect();
                      const box = document.getElementById('log').getBoundingClientRect();
                      return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; })()",
        )
        .then_some(())
    });
    set_viewport_default(&b);

    carol.close();
    server.shutdown();

    // Over IPv6 (when this machine has ::1): the page's WebSocket URL keeps
    // the brackets of http://[::1]:port/ and the chat works.
    step("IPv6");
    match (TcpListener::bind("[::1]:0"), TcpListener::bind("[::1]:0")) {
        (Ok(chat), Ok(page)) => {
            let v6 = Server::start(chat, page, &test_config()).expect("start on ::1");
            let tab = open(&browser, &format!("http://{}/", v6.page_addr()));
            let nick = wait_nick(&tab);
            say(&tab, "over IPv6");
            wait_line(&tab, &format!("{nick}: over IPv6"));
            v6.shutdown();
        }
        (Err(e), _) | (_, Err(e)) => println!("IPv6 part skipped: cannot bind [::1]: {e}"),
    }
    step("done");
}

/// Headless Chromium, no sandbox (we may be root), no background traffic, and
/// a fresh profile in a temporary folder that headless_chrome deletes when
/// the browser is dropped.
fn launch() -> Browser {
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
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
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

/// A new tab on the page, with focus emulated so that each tab behaves as
/// the focused one (two tabs in one headless browser otherwise compete).
fn open(browser: &Browser, url: &str) -> Arc<Tab> {
    let tab = browser.new_tab().expect("new tab");
    tab.set_default_timeout(WAIT);
    tab.call_method(Emulation::SetFocusEmulationEnabled { enabled: true })
        .expect("focus emulation");
    tab.navigate_to(url).expect("navigate");
    tab.wait_until_navigated().expect("page loaded");
    tab
}

/// Start a server on these exact addresses (the old page knows only them),
/// retrying the bind while the old sockets let go.
fn start_on(chat: SocketAddr, page: SocketAddr) -> TestServer {
    let bind = |addr: SocketAddr| {
        let deadline = Instant::now() + WAIT;
        loop {
            match TcpListener::bind(addr) {
                Ok(listener) => return listener,
                Err(e) if Instant::now() < deadline => {
                    println!("bind {addr}: {e}; retrying");
                    sleep(POLL);
                }
                Err(e) => panic!("cannot bind {addr} again within {WAIT:?}: {e}"),
            }
        }
    };
    let server = Server::start(bind(chat), bind(page), &test_config()).expect("restart server");
    TestServer {
        server: Some(server),
    }
}

/// Call `f` until it gives a value; panic after `timeout`.
fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {timeout:?} for {what}");
        sleep(POLL);
    }
}

/// Evaluate `expression` in the page.
fn js(tab: &Tab, expression: &str) -> RemoteObject {
    tab.evaluate(expression, false)
        .unwrap_or_else(|e| panic!("evaluate {expression:?}: {e}"))
}

fn js_string(tab: &Tab, expression: &str) -> String {
    js(tab, expression)
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{expression:?} is not a string"))
}

fn js_bool(tab: &Tab, expression: &str) -> bool {
    js(tab, expression)
        .value
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("{expression:?} is not a boolean"))
}

/// The text of the element `selector`.
fn text(tab: &Tab, selector: &str) -> String {
    js_string(
        tab,
        &format!("document.querySelector({selector:?}).textContent"),
    )
}

/// The page's connection state: connecting, connected or reconnecting.
fn state(tab: &Tab) -> String {
    js_string(tab, "document.getElementById('status').dataset.state")
}

/// Every line in the list, as its text.
fn lines(tab: &Tab) -> Vec<String> {
    let joined = js_string(
        tab,
        &format!(
            "Array.from(document.querySelectorAll('#chat-echo-area li'), li => li.textContent).join('{}')",
            SEP.escape_unicode()
        ),
    );
    if joined.is_empty() {
        Vec::new()
    } else {
        joined.split(SEP).map(str::to_owned).collect()
    }
}

fn wait_line(tab: &Tab, line: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = lines(tab);
        if seen.iter().any(|l| l == line) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} for the line {line:?}; the page shows {seen:#?}"
        );
        sleep(POLL);
    }
}

/// Wait for the greeting; return the nickname the page shows.
fn wait_nick(tab: &Tab) -> String {
    wait_for("the page to show its nickname", WAIT, || {
        let nick = text(tab, "#nick");
        let greeted = lines(tab).contains(&format!(" .... you are {nick}."));
        (nick.starts_with("user-") && greeted && state(tab) == "connected").then_some(nick)
    })
}

fn input_value(tab: &Tab) -> String {
    js_string(tab, "document.getElementById('chat-input').value")
}

fn focused_input(tab: &Tab) -> bool {
    js_bool(
        tab,
        "document.activeElement === document.getElementById('chat-input')",
    )
}

/// Click the input, type `message` key by key, then press Enter.
fn type_keys(tab: &Tab, message: &str) {
    click_input(tab);
    tab.type_str(message).expect("type");
    press_enter(tab);
}

/// Click the input, enter `message` as one text input (as a paste or an
/// on-screen keyboard does: fast), then press Enter.
fn say(tab: &Tab, message: &str) {
    click_input(tab);
    tab.send_character(message).expect("insert text");
    press_enter(tab);
}

fn click_input(tab: &Tab) {
    tab.find_element("#chat-input")
        .and_then(|input| input.click().map(|_| ()))
        .expect("click the input");
}

fn press_enter(tab: &Tab) {
    tab.press_key("Enter").expect("press Enter");
}

/// What every page must have: label, placeholder, viewport, one file.
fn check_page_basics(tab: &Tab) {
    for (check, what) in [
        ("document.characterSet === 'UTF-8' && document.contentType === 'text/html'", "UTF-8 HTML"),
        ("document.getElementById('chat-input').labels.length === 1", "the input has a label"),
        ("document.getElementById('chat-input').placeholder === 'say something'", "placeholder"),
        ("!!document.querySelector('meta[name=viewport][content*=\"width=device-width\"]')", "viewport meta"),
        ("performance.getEntriesByType('resource').length === 0", "no resource loaded besides the page"),
        ("document.querySelectorAll('link[rel=stylesheet], script[src], img, iframe').length === 0", "no external resource"),
        ("!document.documentElement.outerHTML.includes('{{WS_PORT}}')", "the port placeholder was filled"),
        // The page builds its URL from location.hostname, which keeps the
        // brackets of an IPv6 address: ws://[::1]:port/ comes out right.
        ("new URL('http://[::1]:8080/').hostname === '[::1]'", "IPv6 hostname has brackets"),
    ] {
        assert!(js_bool(tab, check), "{what}: {check}");
    }
}

/// Every visible text on the page is at least 4.5:1 against the background
/// behind it (WCAG AA), in the light and the dark colour scheme.
fn assert_contrast(tab: &Tab) {
    const CHECK: &str = r##"(() => {
      const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return m.length === 3 ? m.concat(1) : m; };
      const lum = ([r, g, b]) => {
        const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
      const behind = el => {
        for (; el; el = el.parentElement) {
          const c = rgba(getComputedStyle(el).backgroundColor);
          if (c[3] > 0) return c;
        }
        return [255, 255, 255, 1];
      };
      const bad = [];
      let checked = 0, lowest = 21;
      const check = (el, color, what) => {
        const r = ratio(rgba(color), behind(el));
        checked++;
        lowest = Math.min(lowest, r);
        if (r < 4.5) bad.push(what + " " + r.toFixed(2));
      };
      for (const el of document.body.querySelectorAll("*")) {
        if (el.closest(".visually-hidden") || el.tagName === "SCRIPT" || el.getClientRects().length === 0) continue;
        const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== "");
        if (own) check(el, getComputedStyle(el).color, el.tagName + "#" + el.id + "." + el.className);
      }
      const input = document.getElementById("chat-input");
      check(input, getComputedStyle(input, "::placeholder").color, "placeholder");
      return bad.length ? "low contrast: " + bad.join(", ")
                        : "ok: " + checked + " texts, the lowest " + lowest.toFixed(2) + ":1";
    })()"##;
    for scheme in ["light", "dark"] {
        dark(tab, scheme == "dark");
        let verdict = js_string(tab, CHECK);
        assert!(verdict.starts_with("ok: "), "{scheme}: {verdict}");
        println!("contrast, {scheme}: {verdict}");
    }
    dark(tab, false);
}

/// Emulate the dark colour scheme, or go back to the default (light).
fn dark(tab: &Tab, on: bool) {
    let features = if on {
        vec![Emulation::MediaFeature {
            name: "prefers-color-scheme".into(),
            value: "dark".into(),
        }]
    } else {
        Vec::new()
    };
    tab.call_method(Emulation::SetEmulatedMedia {
        media: None,
        features: Some(features),
    })
    .expect("emulate the colour scheme");
}

/// A desktop screenshot for people to look at (not checked), always in
/// target/browser/.
fn review_shot(tab: &Tab, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    fs::create_dir_all(&dir).expect("create target/browser");
    let png = screenshot(tab, DESKTOP, 1.0, false);
    fs::write(dir.join(name), png).expect("write a review screenshot");
}

fn set_viewport(tab: &Tab, (width, height): (u32, u32), scale: f64, mobile: bool) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: scale,
        mobile,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("set the viewport");
}

fn set_viewport_default(tab: &Tab) {
    tab.call_method(Emulation::ClearDeviceMetricsOverride(None))
        .expect("clear the viewport");
}

/// A PNG of the page at this viewport size.
fn screenshot(tab: &Tab, size: (u32, u32), scale: f64, mobile: bool) -> Vec<u8> {
    set_viewport(tab, size, scale, mobile);
    // Wait for the layout to follow the new size before capturing.
    wait_for("the viewport to change", WAIT, || {
        js_bool(tab, &format!("window.innerWidth === {}", size.0)).then_some(())
    });
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    set_viewport_default(tab);
    png
}

/// Written, a PNG, the expected size in pixels, and not blank: decoded by
/// the browser itself in a blank tab, so no image crate is needed.
fn check_png(browser: &Browser, name: &str, png: &[u8], (width, height): (u32, u32)) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    assert!(png.len() > 8 * 1024, "{name} is only {} bytes", png.len());
    // Small enough to commit (`make screenshot` writes them into docs/).
    assert!(png.len() < 200 * 1024, "{name} is {} bytes", png.len());
    let tab = browser.new_tab().expect("new tab");
    let verdict = tab
        .evaluate(
            &format!(
                r#"(async () => {{
                  const img = new Image();
                  img.src = "data:image/png;base64,{}";
                  await img.decode();
                  const c = document.createElement("canvas");
                  c.width = img.naturalWidth; c.height = img.naturalHeight;
                  const g = c.getContext("2d");
                  g.drawImage(img, 0, 0);
                  const d = g.getImageData(0, 0, c.width, c.height).data;
                  const counts = new Map();
                  for (let i = 0; i < d.length; i += 4 * 7) {{
                    const k = (d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3);
                    counts.set(k, (counts.get(k) || 0) + 1);
                  }}
                  const top = Math.max(...counts.values()) / (d.length / (4 * 7));
                  return c.width + "x" + c.height + " " + counts.size + " " + top.toFixed(3);
                }})()"#,
                base64(png)
            ),
            true,
        )
        .expect("decode the screenshot")
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = tab.close(false);
    let mut parts = verdict.split(' ');
    assert_eq!(
        parts.next(),
        Some(format!("{width}x{height}").as_str()),
        "{name}: {verdict}"
    );
    let colours: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let commonest: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    assert!(
        colours >= 16 && commonest < 0.97,
        "{name} looks blank: {colours} colours, the commonest covers {commonest}"
    );
}

fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CHAT_SCREENSHOT_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser"),
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_rfc_4648() {
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
