//! The teacher's page against the real server's teacher commands (the
//! same behaviours are tested against the stage too: `teacher.rs`,
//! `limits.rs`, `projector.rs`).

use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server, wait_for, TestClient, PAGE_WAIT};

const NEEDS: &str = "the teacher's page against the real server";

#[test]
fn a_teacher_link_makes_a_teacher_and_its_controls_work() {
    let Some(browser) = chromium_or_skip(NEEDS) else {
        return;
    };
    let server = start_server();
    let key = server.teacher_key();
    let (student, student_nick) = join(&browser, &server.page_url("physics"));
    let teacher = open_person(
        &browser,
        &format!("{}#teacher={key}", server.page_url("physics")),
    );
    wait_nick(&teacher);
    wait_js(
        &teacher,
        "the badge",
        "!document.getElementById('badge').hidden",
    );
    assert!(!js_string(&teacher, "location.href").contains('#'));
    // A reload stays teacher.
    teacher.reload(false, None).expect("reload");
    wait_js(
        &teacher,
        "the badge again",
        "!document.getElementById('badge').hidden",
    );

    // Mute the student from the member list: its box says why.
    js(
        &teacher,
        &format!(
            "document.querySelector('#members button[aria-label=\"Mute {student_nick} for 10 minutes\"]').click()"
        ),
    );
    say(&student, "can I speak?");
    wait_for("the student's box to say it is muted", PAGE_WAIT, || {
        text(&student, "#limit").starts_with("You").then_some(())
    });

    // A join code, shown large; the projector's QR code carries it.
    js(
        &teacher,
        "document.querySelector(\"[data-cmd='/code']\").click()",
    );
    wait_js(
        &teacher,
        "the code",
        "document.getElementById('code-shown').textContent.length >= 4",
    );
    let mut late = TestClient::connect_quiet_to(server.chat_addr(), "/physics");
    let asked = late.recv_matching(|l| l.contains("join code"));
    assert!(asked.contains("/code"), "{asked}");

    // Remove: the student's page says so and does not come back.
    js(
        &teacher,
        &format!("document.querySelector('#members button[aria-label=\"Remove {student_nick}\"]').click()"),
    );
    wait_js(
        &student,
        "removed",
        "document.getElementById('ended-text').textContent.startsWith('You were removed by')",
    );
}
