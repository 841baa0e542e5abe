//! How the page looks, for the README: a class in a room with history, a
//! code block, a link, an action, a private line to you and the member list
//! open, screenshotted on a desktop and a phone (`make screenshot` writes
//! them to docs/). Every visible text, new elements included (menus, name
//! box, badges, times, hints, the new-messages button), is at least 4.5:1
//! against its background in the light and the dark theme.

use std::fs;

use crate::support::shots::{assert_contrast, check_png, review_shot, screenshot, screenshot_dir};
use crate::support::tab::*;
use crate::support::{
    chromium_or_skip, start_server, wait_for, TestClient, DESKTOP, PAGE_WAIT, PHONE,
};

#[test]
fn screenshots_and_contrast_of_every_element() {
    let Some(browser) = chromium_or_skip("screenshots_and_contrast_of_every_element") else {
        return;
    };
    let server = start_server();
    let chat = server.chat_addr();
    let mut ben = TestClient::connect_to(chat, "/physics");
    ben.send("/nick Ben");
    let mut chloe = TestClient::connect_to(chat, "/physics");
    chloe.send("/nick Chloé");
    ben.send("has everyone got the lab sheet? https://example.org/lab-3");
    chloe.recv_until("Ben: has everyone got the lab sheet? https://example.org/lab-3");
    chloe.send("/me is on her way");
    chloe.recv_until("* Chloé is on her way");

    let ada = open_person(&browser, &server.page_url("physics"));
    wait_nick(&ada);
    say(&ada, "/nick Ada");
    wait_for("the name Ada", PAGE_WAIT, || {
        (text(&ada, "#nick") == "Ada").then_some(())
    });
    say(&ada, "hi all, I'm in");
    ben.send("the loop I meant:\nfor i in 0..3 {\n    println!(\"step {i}\");\n}");
    chloe.send("/msg Ada can you share your notes after?");
    say(&ada, "sure, https://example.org/notes");
    wait_line(&ada, "Ada: sure, https://example.org/notes");
    let mut dee = TestClient::connect_to(chat, "/physics");
    dee.send("/nick Dee");
    wait_line(&ada, &format!(" .... {} is now Dee.", dee.nick));
    dee.send("sorry I'm late!");
    wait_line(&ada, "Dee: sorry I'm late!");
    wait_members(&ada, 4, &["Ben", "Chloé", "Ada (you)", "Dee"]);

    // Every element shown at once: both menus open, the name box, the
    // room rule and a refusal as alerts, the new-messages button.
    js(&ada, "document.getElementById('people').open = true");
    js(&ada, "document.getElementById('rooms').open = true");
    js(
        &ada,
        "document.getElementById('room-input').value = 'no.dots'",
    );
    js(&ada, "document.getElementById('room-form').requestSubmit()");
    say(&ada, "/nick not valid!");
    ada.find_element("#nick")
        .and_then(|el| el.click().map(|_| ()))
        .expect("click the name");
    js(&ada, "document.getElementById('below').hidden = false");
    for check in [
        "document.getElementById('nick-form').getClientRects().length > 0",
        "document.getElementById('members').getClientRects().length > 0",
        "document.getElementById('room-form').getClientRects().length > 0",
        "document.getElementById('hint').classList.contains('alert')",
        "document.getElementById('room-hint').classList.contains('alert')",
        "document.querySelectorAll('li.earlier, li.divider, li.action, li.private.to-me, li.mine, li.system, .code, a[href], time').length >= 9",
    ] {
        assert!(js_bool(&ada, check), "{check}");
    }
    for verdict in assert_contrast(&ada) {
        println!("{verdict}");
    }
    review_shot(&ada, "everything-light.png");
    dark(&ada, true);
    review_shot(&ada, "everything-dark.png");
    dark(&ada, false);

    // The README's pictures: the member list open on the desktop, the
    // conversation alone on the phone.
    js(&ada, "document.getElementById('below').hidden = true");
    js(&ada, "document.getElementById('rooms').open = false");
    ada.press_key("Escape").expect("close the name box");
    js(&ada, "document.getElementById('chat-input').value = ''");
    js(
        &ada,
        "document.getElementById('chat-input').dispatchEvent(new Event('input'))",
    );
    wait_js(
        &ada,
        "a clean form",
        "document.getElementById('hint').textContent === ''",
    );
    js(&ada, "document.activeElement.blur()");
    js(&ada, "document.getElementById('people').open = true");
    let dir = screenshot_dir();
    fs::create_dir_all(&dir).expect("create the screenshot folder");
    let desktop = screenshot(&ada, DESKTOP, 1.0, false);
    js(&ada, "document.getElementById('people').open = false");
    let phone = screenshot(&ada, PHONE, 2.0, true);
    for (name, png, (w, h), scale) in [
        ("screenshot.png", &desktop, DESKTOP, 1),
        ("screenshot-phone.png", &phone, PHONE, 2),
    ] {
        fs::write(dir.join(name), png).expect("write a screenshot");
        let written = fs::read(dir.join(name)).expect("read the screenshot back");
        assert_eq!(&written, png);
        check_png(&browser, name, &written, (w * scale, h * scale));
        println!("{}: {} bytes", dir.join(name).display(), png.len());
    }
    assert_ne!(desktop, phone);
}
