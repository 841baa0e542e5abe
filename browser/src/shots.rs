//! Pictures and colours: screenshots at a given screen size (checked to be
//! real, non-blank PNGs of that size), and the contrast of every visible
//! text against what is behind it, in the light and the dark theme.

use std::fs;
use std::path::PathBuf;

use headless_chrome::protocol::cdp::Page;
use headless_chrome::{Browser, Tab};

use super::tab::{dark, js_bool, js_string, set_viewport, set_viewport_default};
use super::{target_dir, wait_for, workspace_path, DESKTOP, PAGE_WAIT};

/// Where review screenshots go: `browser/` under the target folder.
pub fn review_dir() -> PathBuf {
    target_dir().join("browser")
}

/// Where the README's screenshots go: `$CHAT_SCREENSHOT_DIR` (relative to
/// the repository's root; `make screenshot` sets it to `docs`), else
/// [`review_dir`].
pub fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CHAT_SCREENSHOT_DIR") {
        Some(dir) if !dir.is_empty() => workspace_path(dir.as_ref()),
        _ => review_dir(),
    }
}

/// A desktop screenshot for people to look at (not checked), in
/// [`review_dir`].
pub fn review_shot(tab: &Tab, name: &str) {
    let dir = review_dir();
    fs::create_dir_all(&dir).expect("create the review folder");
    let png = screenshot(tab, DESKTOP, 1.0, false);
    fs::write(dir.join(name), png).expect("write a review screenshot");
}

/// A PNG of the page at this viewport size.
pub fn screenshot(tab: &Tab, size: (u32, u32), scale: f64, mobile: bool) -> Vec<u8> {
    set_viewport(tab, size, scale, mobile);
    // Wait for the layout to follow the new size before capturing.
    wait_for("the viewport to change", PAGE_WAIT, || {
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
pub fn check_png(browser: &Browser, name: &str, png: &[u8], (width, height): (u32, u32)) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    assert!(png.len() > 8 * 1024, "{name} is only {} bytes", png.len());
    // Small enough to commit (`make screenshot` writes them into docs/).
    assert!(png.len() < 300 * 1024, "{name} is {} bytes", png.len());
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

/// Every visible text on the page is at least 4.5:1 against the background
/// behind it (WCAG AA), in the light and the dark colour scheme. Returns
/// the verdicts, for the test's output.
pub fn assert_contrast(tab: &Tab) -> Vec<String> {
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
      const name = el => el.tagName + "#" + el.id + "." + el.className;
      for (const el of document.body.querySelectorAll("*")) {
        if (el.closest(".visually-hidden") || el.tagName === "SCRIPT" || el.getClientRects().length === 0) continue;
        const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== "");
        if (own) check(el, getComputedStyle(el).color, name(el));
        // Text drawn by CSS (badges, times, markers) counts too, on its own
        // background when it has one.
        for (const pseudo of ["::before", "::after"]) {
          const s = getComputedStyle(el, pseudo);
          if (/^(none|normal|""|'')$/.test(s.content)) continue;
          const bg = rgba(s.backgroundColor);
          const r = ratio(rgba(s.color), bg[3] > 0 ? bg : behind(el));
          checked++;
          lowest = Math.min(lowest, r);
          if (r < 4.5) bad.push(name(el) + pseudo + " " + r.toFixed(2));
        }
      }
      for (const input of document.querySelectorAll("[placeholder]")) {
        if (input.getClientRects().length) check(input, getComputedStyle(input, "::placeholder").color, "placeholder of #" + input.id);
      }
      return bad.length ? "low contrast: " + bad.join(", ")
                        : "ok: " + checked + " texts, the lowest " + lowest.toFixed(2) + ":1";
    })()"##;
    let mut verdicts = Vec::new();
    for scheme in ["light", "dark"] {
        dark(tab, scheme == "dark");
        let verdict = js_string(tab, CHECK);
        assert!(verdict.starts_with("ok: "), "{scheme}: {verdict}");
        verdicts.push(format!("contrast, {scheme}: {verdict}"));
    }
    dark(tab, false);
    verdicts
}

pub fn base64(bytes: &[u8]) -> String {
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
