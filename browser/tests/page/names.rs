//! Your name: click it to change it (or type `/nick NEW`); a refusal from
//! the server (`NEW is taken.`) or the page's own check of the rule shows
//! next to the input; a reload comes back as the same member, unseen by
//! the others.

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, PAGE_WAIT};

#[test]
fn click_the_name_to_change_it_and_a_reload_keeps_it() {
    let Some(browser) = chromium_or_skip("click_the_name_to_change_it_and_a_reload_keeps_it")
    else {
        return;
    };
    let server = start_server();
    let (a, old_a) = join(&browser, &server.page_url("names"));
    let (b, nick_b) = join(&browser, &server.page_url("names"));

    // Click the name, type the new one, Enter.
    a.find_element("#nick")
        .and_then(|el| el.click().map(|_| ()))
        .expect("click the name");
    wait_js(
        &a,
        "the name box to have focus",
        "document.activeElement.id === 'nick-input'",
    );
    js(&a, "document.getElementById('nick-input').value = ''");
    a.type_str("Ada").expect("type the name");
    press_enter(&a);
    let renamed = format!(" .... {old_a} is now Ada.");
    wait_line(&a, &renamed);
    wait_line(&b, &renamed);
    assert_eq!(text(&a, "#nick"), "Ada");
    assert!(focused_input(&a), "focus goes back to the message box");
    assert!(title(&a).starts_with("Ada"), "{}", title(&a));
    wait_members(&b, 2, &["Ada", &format!("{nick_b} (you)")]);

    // B asks for the same name, ignoring case: the server's refusal shows
    // next to B's input, and B keeps its name.
    say(&b, "/nick ada");
    wait_line(&b, " .... ada is taken.");
    wait_for("the refusal next to the input", PAGE_WAIT, || {
        (text(&b, "#hint") == "ada is taken.").then_some(())
    });
    assert!(js_bool(
        &b,
        "document.getElementById('hint').classList.contains('alert')"
    ));
    assert_eq!(text(&b, "#nick"), nick_b);

    // A name against the rule is refused by the page itself, with the rule,
    // and stays in the box to fix.
    say(&b, "/nick no spaces!");
    assert!(
        text(&b, "#hint").starts_with("A name is 1 to 20 letters"),
        "{}",
        text(&b, "#hint")
    );
    assert_eq!(input_value(&b), "/nick no spaces!");
    js(&b, "document.getElementById('chat-input').value = ''");
    say(&b, "/nick user-42");
    assert!(text(&b, "#hint").starts_with("A name is 1 to 20 letters"));
    js(&b, "document.getElementById('chat-input').value = ''");

    // Typing /nick works as clicking does; Unicode letters are letters.
    say(&b, "/nick Zoë");
    wait_line(&a, &format!(" .... {nick_b} is now Zoë."));
    assert_eq!(text(&b, "#nick"), "Zoë");
    assert_eq!(
        text(&b, "#hint"),
        "",
        "the refusal goes once the name is taken"
    );

    // A reload is not a goodbye: the tab comes back as the same member
    // (its session, within the resume grace), and B sees nothing of it.
    let before = lines(&b).len();
    a.reload(false, None)
        .and_then(|tab| tab.wait_until_navigated())
        .expect("reload");
    wait_for("the reloaded tab to be Ada again", PAGE_WAIT, || {
        (text(&a, "#nick") == "Ada" && state(&a) == "connected").then_some(())
    });
    wait_members(&b, 2, &["Ada", "Zoë (you)"]);
    say(&a, "back as myself");
    wait_line(&b, "Ada: back as myself");
    assert_eq!(
        lines(&b)[before..],
        ["Ada: back as myself"],
        "B saw only the line"
    );
}
