//! Three tabs in two rooms: each page joins the room in its path and shows
//! it in the header, lines stay in their room, the room control refuses a
//! bad name with the rule and goes to a good one.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server};

#[test]
fn three_tabs_in_two_rooms() {
    let Some(browser) = chromium_or_skip("three_tabs_in_two_rooms") else {
        return;
    };
    let server = start_server();
    let (a, nick_a) = join(&browser, &server.page_url("physics"));
    let (b, nick_b) = join(&browser, &server.page_url("Physics"));
    let (c, nick_c) = join(&browser, &server.page_url("art"));

    // The header and the title name the room (lowercase, as the server does).
    assert_eq!(text(&a, "#room"), "#physics");
    assert_eq!(text(&b, "#room"), "#physics");
    assert_eq!(text(&c, "#room"), "#art");
    assert!(title(&c).contains("#art"), "{}", title(&c));
    wait_line(&a, &format!(" .... {nick_b} has joined."));

    // A line in physics reaches physics only. C's own line comes back
    // after A's was broadcast (one room thread), so had A's line crossed
    // rooms it would be on C's page by then.
    say(&a, "the lab is at 3");
    wait_line(&b, &format!("{nick_a}: the lab is at 3"));
    say(&c, "bring brushes");
    wait_line(&c, &format!("{nick_c}: bring brushes"));
    assert!(
        !lines(&c).iter().any(|l| l.contains("the lab is at 3")),
        "a physics line reached art: {:?}",
        lines(&c)
    );
    assert!(!lines(&a).iter().any(|l| l.contains("brushes")));
    assert!(!lines(&a).iter().any(|l| l.contains(&nick_c)));

    // The room control: a bad name is refused on the page with the rule,
    // and the page stays where it is.
    js(&c, "document.querySelector('#rooms summary').click()");
    wait_js(
        &c,
        "the room menu to open",
        "document.getElementById('rooms').open",
    );
    wait_js(
        &c,
        "the focus in its box",
        "document.activeElement.id === 'room-input'",
    );
    for bad in ["no.dots", "ws", &"x".repeat(33)] {
        js(
            &c,
            &format!("document.getElementById('room-input').value = {bad:?}"),
        );
        js(&c, "document.getElementById('room-form').requestSubmit()");
        assert_eq!(
            text(&c, "#room-hint"),
            "A room name is 1 to 32 characters: a–z, 0–9, - and _.",
            "{bad}"
        );
        assert!(js_bool(
            &c,
            "document.getElementById('room-hint').classList.contains('alert')"
        ));
        assert!(
            js_bool(&c, "location.pathname === '/art'"),
            "{bad}: the page moved"
        );
    }

    // A good name (typed as a person would, with Enter): C goes to physics,
    // and the physics tabs see it arrive.
    c.find_element("#room-input")
        .and_then(|input| input.click().map(|_| ()))
        .expect("click the room input");
    js(&c, "document.getElementById('room-input').value = ''");
    c.type_str("Physics").expect("type the room");
    press_enter(&c);
    c.wait_until_navigated().expect("the new room's page");
    wait_js(
        &c,
        "the page to go to /physics",
        "location.pathname === '/physics'",
    );
    let nick_c2 = wait_nick(&c);
    assert_eq!(text(&c, "#room"), "#physics");
    wait_line(&a, &format!(" .... {nick_c2} has joined."));
    say(&c, "hello physics");
    wait_line(&a, &format!("{nick_c2}: hello physics"));
    wait_line(&b, &format!("{nick_c2}: hello physics"));

    // The main room is the page at /.
    let d = open_person(&browser, &server.page_url(""));
    wait_nick(&d);
    assert_eq!(text(&d, "#room"), "main room");
    assert!(!lines(&d).iter().any(|l| l.contains("physics")));
}
