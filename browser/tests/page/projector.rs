//! The projector view (`?view=projector`, or the class menu's button):
//! large text (28 px and more), read-only, and in a corner the room's
//! address and a QR code of it from `GET /NAME/qr.svg`, which decodes to
//! that address; for a teacher who knows the join code, with `?code=`.

use serde_json::json;

use crate::support::shots::{assert_contrast, review_shot};
use crate::support::stage::{Conn, Stage};
use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, PAGE_WAIT};

/// The QR code image in the page, drawn on a canvas, decoded.
fn decode_qr(tab: &headless_chrome::Tab) -> String {
    wait_js(
        tab,
        "the QR code",
        "document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0",
    );
    let grey = js_string(
        tab,
        "(() => { const img = document.getElementById('qr'); const n = 400; \
           const c = document.createElement('canvas'); c.width = n; c.height = n; \
           const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, n, n); \
           g.drawImage(img, 20, 20, n - 40, n - 40); \
           const d = g.getImageData(0, 0, n, n).data; let s = ''; \
           for (let i = 0; i < d.length; i += 4) s += d[i] < 128 ? '1' : '0'; return s; })()",
    );
    let bits: Vec<u8> = grey
        .bytes()
        .map(|b| if b == b'1' { 0 } else { 255 })
        .collect();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(400, 400, |x, y| bits[y * 400 + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("a readable QR code").1
}

#[test]
fn the_projector_shows_large_text_and_a_qr_code_of_the_room() {
    let Some(browser) =
        chromium_or_skip("the_projector_shows_large_text_and_a_qr_code_of_the_room")
    else {
        return;
    };
    let server = start_server();
    // Anyone: the real server's page, the plain address.
    let tab = open_person(
        &browser,
        &format!("{}?view=projector", server.page_url("physics")),
    );
    wait_nick(&tab);
    say_nothing(&tab);
    let size = js(
        &tab,
        "parseFloat(getComputedStyle(document.querySelector('#chat-echo-area li')).fontSize)",
    )
    .value
    .unwrap()
    .as_f64()
    .unwrap();
    assert!(size >= 28.0, "{size} px");
    assert!(js_bool(
        &tab,
        "getComputedStyle(document.getElementById('chat-form')).display === 'none'"
    ));
    let address = server.page_url("physics");
    assert_eq!(text(&tab, "#corner-url"), address);
    assert_eq!(decode_qr(&tab), address);

    // A teacher who was told the code: the address with ?code=, the QR
    // code fetched with the key (through the stage to the real server).
    let key = server.teacher_key();
    let stage = Stage::start(Some(server.page_addr()));
    let t = open_person(&browser, &stage.url(&format!("physics#teacher={key}")));
    let mut conn = stage.accept();
    conn.welcome("MrsK", &[("MrsK", "teacher")]);
    assert_eq!(conn.recv(), format!("/teacher {key}"));
    conn.notice("you are a teacher.");
    conn.send(json!({"type": "notice", "time": Conn::now(), "text": "join code: K7Q2XH."}));
    wait_js(
        &t,
        "the code",
        "document.getElementById('code-shown').textContent === 'K7Q2XH'",
    );
    js(&t, "document.getElementById('projector-on').click()");
    let with_code = stage.url("physics?code=K7Q2XH");
    wait_for("the address with the code", PAGE_WAIT, || {
        (text(&t, "#corner-url") == with_code).then_some(())
    });
    assert_eq!(text(&t, "#corner-code"), "code K7Q2XH");
    wait_js(
        &t,
        "the fetched QR code",
        "document.getElementById('qr').src.startsWith('blob:')",
    );
    assert_eq!(decode_qr(&t), with_code);
    review_shot(&t, "projector.png");
    for verdict in assert_contrast(&t) {
        println!("the projector, {verdict}");
    }
    js(&t, "document.getElementById('projector-off').click()");
    wait_js(&t, "back", "!document.body.classList.contains('projector')");
}

/// The projector is read-only: nothing to type into on screen.
fn say_nothing(tab: &headless_chrome::Tab) {
    assert!(js_bool(
        tab,
        "document.getElementById('chat-input').getClientRects().length === 0"
    ));
}
