//! A teacher downloads a room's transcript from the class menu: the page
//! fetches `/NAME/transcript.txt` (or `.csv`) with the key as a Bearer
//! token and saves it through a Blob and a download link. The transcript
//! is the real server's (a store kept in a scratch folder); the chat is
//! the stage's, which tells the page it is a teacher (until the server's
//! teacher commands are merged).

use chat_server::Config;
use testkit::Scratch;

use crate::support::stage::Stage;
use crate::support::tab::*;
use crate::support::{
    chromium_or_skip, start_server_with, test_config, wait_for, TestClient, PAGE_WAIT,
};

/// Before the page's script: keep what the page saves instead of saving it.
const CATCH_DOWNLOADS: &str = "window.__saved = []; \
    URL.createObjectURL = blob => { const i = window.__saved.length; \
      window.__saved.push({ blob, name: '' }); return 'blob:saved-' + i; }; \
    HTMLAnchorElement.prototype.click = function () { \
      const m = /^blob:saved-([0-9]+)$/.exec(this.getAttribute('href')); \
      if (m) window.__saved[Number(m[1])].name = this.download; };";

#[test]
fn a_teacher_downloads_the_transcript() {
    let Some(browser) = chromium_or_skip("a_teacher_downloads_the_transcript") else {
        return;
    };
    let dir = Scratch::new("browser-transcript");
    let server = start_server_with(Config {
        memory_only: false,
        data_dir: dir.0.clone(),
        ..test_config()
    });
    let key = server.teacher_key();
    let mut bob = TestClient::connect_to(server.chat_addr(), "/physics");
    bob.send("/nick Bob");
    bob.send("photosynthesis, anyone?");
    bob.recv_until("Bob: photosynthesis, anyone?");

    let stage = Stage::start(Some(server.page_addr()));
    let tab = browser.new_tab().expect("tab");
    add_script(&tab, CATCH_DOWNLOADS);
    let tab = load_url(tab, &stage.url(&format!("physics#teacher={key}")));
    let mut conn = stage.accept();
    conn.welcome("MrsK", &[("MrsK", "teacher")]);
    assert_eq!(conn.recv(), format!("/teacher {key}"));
    conn.notice("you are a teacher.");
    wait_js(
        &tab,
        "the class menu",
        "!document.getElementById('class').hidden",
    );

    for (ext, first) in [
        ("txt", "Bob: photosynthesis, anyone?"),
        ("csv", "photosynthesis, anyone?"),
    ] {
        let before = js(&tab, "window.__saved.length")
            .value
            .unwrap()
            .as_u64()
            .unwrap();
        wait_for(&format!("the {ext} transcript"), PAGE_WAIT, || {
            js(
                &tab,
                &format!("document.querySelector('[data-download=\"{ext}\"]').click()"),
            );
            wait_js(
                &tab,
                "a download",
                &format!(
                    "window.__saved.length > {before} && window.__saved[{before}].name !== ''"
                ),
            );
            let body = tab
                .evaluate(&format!("window.__saved[{before}].blob.text()"), true)
                .ok()?
                .value?
                .as_str()?
                .to_owned();
            let name = js_string(&tab, &format!("window.__saved[{before}].name"));
            assert!(
                name.starts_with("physics-") && name.ends_with(&format!(".{ext}")),
                "{name}"
            );
            // The store writes a moment after the line is said.
            body.contains(first).then_some(())
        });
    }
}
