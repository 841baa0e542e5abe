//! Driving one tab of the page: open it, read its lines and state, type into
//! it, emulate a colour scheme or a screen size. Every wait polls the DOM
//! until a deadline; nothing waits by sleeping a fixed time.

use std::sync::Arc;
use std::time::Instant;

use headless_chrome::protocol::cdp::Runtime::RemoteObject;
use headless_chrome::protocol::cdp::{Emulation, Page};
use headless_chrome::{Browser, Tab};

use super::{wait_for, PAGE_WAIT, POLL};

/// Between lines in `innerText`-like joins: a character no test line contains.
const SEP: char = '\u{1e}';

/// A new tab on `url`, with focus emulated so that each tab behaves as the
/// focused one (tabs in one headless browser otherwise compete). The
/// first-visit name dialog is taken as answered ("Skip"), as in most tests;
/// [`open_asking`] opens a tab that asks.
pub fn open(browser: &Browser, url: &str) -> Arc<Tab> {
    load(browser.new_tab().expect("new tab"), url)
}

/// [`open`], but the tab asks for a name as on a first visit.
pub fn open_asking(browser: &Browser, url: &str) -> Arc<Tab> {
    load_as(browser.new_tab().expect("new tab"), url, true)
}

/// [`open_person`], but the tab asks for a name as on a first visit.
pub fn open_person_asking(browser: &Browser, url: &str) -> Arc<Tab> {
    let tab = browser
        .new_context()
        .and_then(|context| context.new_tab())
        .expect("new context");
    load_as(tab, url, true)
}

/// A tab for another person: a new browser context (like a private
/// window), so it shares nothing stored (the remembered name, the session
/// ID) with the other tabs.
pub fn open_person(browser: &Browser, url: &str) -> Arc<Tab> {
    let tab = browser
        .new_context()
        .and_then(|context| context.new_tab())
        .expect("new context");
    load(tab, url)
}

/// [`open_person`], then wait for the greeting: the tab and its name.
pub fn join(browser: &Browser, url: &str) -> (Arc<Tab>, String) {
    let tab = open_person(browser, url);
    let nick = wait_nick(&tab);
    (tab, nick)
}

/// Run `source` in every document `tab` loads, before the page's script.
pub fn add_script(tab: &Tab, source: &str) {
    tab.call_method(Page::AddScriptToEvaluateOnNewDocument {
        source: source.into(),
        world_name: None,
        include_command_line_api: None,
        run_immediately: None,
    })
    .expect("a script for each document");
}

/// Load `url` in `tab` (made with scripts of the test's own), the name
/// dialog taken as answered.
pub fn load_url(tab: Arc<Tab>, url: &str) -> Arc<Tab> {
    load(tab, url)
}

fn load(tab: Arc<Tab>, url: &str) -> Arc<Tab> {
    load_as(tab, url, false)
}

fn load_as(tab: Arc<Tab>, url: &str, ask: bool) -> Arc<Tab> {
    tab.set_default_timeout(PAGE_WAIT);
    if !ask {
        // The tab has answered the name dialog already (as after "Skip").
        add_script(
            &tab,
            "try { sessionStorage.setItem('chat-asked', '1'); } catch (e) {}",
        );
    }
    tab.call_method(Emulation::SetFocusEmulationEnabled { enabled: true })
        .expect("focus emulation");
    tab.navigate_to(url).expect("navigate");
    tab.wait_until_navigated().expect("page loaded");
    tab
}

/// Wait until the JavaScript `condition` is true in the page. A page
/// between two documents (a navigation) counts as not yet.
pub fn wait_js(tab: &Tab, what: &str, condition: &str) {
    wait_for(what, PAGE_WAIT, || {
        let value = tab.evaluate(condition, false).ok()?.value?;
        value.as_bool()?.then_some(())
    });
}

/// The tab's title.
pub fn title(tab: &Tab) -> String {
    js_string(tab, "document.title")
}

/// The member list: each name as listed (own name with " (you)").
pub fn members(tab: &Tab) -> Vec<String> {
    let joined = js_string(
        tab,
        &format!(
            "Array.from(document.querySelectorAll('#members li'), li => li.textContent).join('{}')",
            SEP.escape_unicode()
        ),
    );
    joined
        .split(SEP)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Wait until the header's count says `n` and the list holds `names`
/// (own name marked " (you)").
pub fn wait_members(tab: &Tab, n: usize, names: &[&str]) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let (count, list) = (text(tab, "#count"), members(tab));
        if count == n.to_string() && list == names {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PAGE_WAIT:?} for {n} here: {names:?}; the page shows {count} here: {list:?}"
        );
        std::thread::sleep(POLL);
    }
}

/// Make `tab` a background tab, really hidden (`document.hidden`): give up
/// its emulated focus and bring `other`, a tab of the same window, to the
/// front.
pub fn hide(tab: &Tab, other: &Tab) {
    tab.call_method(Emulation::SetFocusEmulationEnabled { enabled: false })
        .expect("focus emulation off");
    other.activate().expect("activate the other tab");
    wait_js(tab, "the tab to be hidden", "document.hidden");
}

/// Bring `tab` back to the front (the person comes back to it).
pub fn show(tab: &Tab) {
    tab.activate().expect("activate the tab");
    wait_js(tab, "the tab to be visible", "!document.hidden");
    tab.call_method(Emulation::SetFocusEmulationEnabled { enabled: true })
        .expect("focus emulation");
}

/// Evaluate `expression` in the page.
pub fn js(tab: &Tab, expression: &str) -> RemoteObject {
    tab.evaluate(expression, false)
        .unwrap_or_else(|e| panic!("evaluate {expression:?}: {e}"))
}

pub fn js_string(tab: &Tab, expression: &str) -> String {
    js(tab, expression)
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{expression:?} is not a string"))
}

pub fn js_bool(tab: &Tab, expression: &str) -> bool {
    js(tab, expression)
        .value
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("{expression:?} is not a boolean"))
}

/// The text of the element `selector` ("" while there is none, as when a
/// page is still loading).
pub fn text(tab: &Tab, selector: &str) -> String {
    js_string(
        tab,
        &format!("document.querySelector({selector:?})?.textContent ?? ''"),
    )
}

/// The page's connection state: connecting, connected or reconnecting.
pub fn state(tab: &Tab) -> String {
    js_string(
        tab,
        "document.getElementById('status')?.dataset.state ?? 'loading'",
    )
}

/// Every line in the list, as its text.
pub fn lines(tab: &Tab) -> Vec<String> {
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

/// Wait until the list shows `line`.
pub fn wait_line(tab: &Tab, line: &str) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let seen = lines(tab);
        if seen.iter().any(|l| l == line) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PAGE_WAIT:?} for the line {line:?}; the page shows {seen:#?}"
        );
        std::thread::sleep(POLL);
    }
}

/// Wait for the greeting; return the nickname the page shows.
pub fn wait_nick(tab: &Tab) -> String {
    wait_for("the page to show its nickname", PAGE_WAIT, || {
        let nick = text(tab, "#nick");
        let greeted = lines(tab).contains(&format!(" .... you are {nick}."));
        (greeted && state(tab) == "connected").then_some(nick)
    })
}

pub fn input_value(tab: &Tab) -> String {
    js_string(tab, "document.getElementById('chat-input').value")
}

pub fn focused_input(tab: &Tab) -> bool {
    js_bool(
        tab,
        "document.activeElement === document.getElementById('chat-input')",
    )
}

/// Click the input, type `message` key by key, then press Enter.
pub fn type_keys(tab: &Tab, message: &str) {
    click_input(tab);
    tab.type_str(message).expect("type");
    press_enter(tab);
}

/// Click the input, enter `message` as one text input (as a paste or an
/// on-screen keyboard does: fast), then press Enter.
pub fn say(tab: &Tab, message: &str) {
    click_input(tab);
    tab.send_character(message).expect("insert text");
    press_enter(tab);
}

pub fn click_input(tab: &Tab) {
    tab.find_element("#chat-input")
        .and_then(|input| input.click().map(|_| ()))
        .expect("click the input");
}

pub fn press_enter(tab: &Tab) {
    tab.press_key("Enter").expect("press Enter");
}

/// Emulate the dark colour scheme, or go back to the default (light).
pub fn dark(tab: &Tab, on: bool) {
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

pub fn set_viewport(tab: &Tab, (width, height): (u32, u32), scale: f64, mobile: bool) {
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

pub fn set_viewport_default(tab: &Tab) {
    tab.call_method(Emulation::ClearDeviceMetricsOverride(None))
        .expect("clear the viewport");
}
/// What every page must have: label, placeholder, viewport, one file.
pub fn check_page_basics(tab: &Tab) {
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
        let seen = js_string(
            tab,
            "performance.getEntriesByType('resource').map(e => e.name).join(' ')",
        );
        assert!(js_bool(tab, check), "{what}: {check} (loaded: {seen})");
    }
}
