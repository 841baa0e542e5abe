//! `/nick` judges a name by its full Unicode case fold ("unique
//! in the room ignoring case"; "`user-` followed by digits is reserved"):
//! `ẞ`, `ß` and `SS` are one name, and nothing that folds to `user-N`, or
//! is `user-` with digits of another script, can be chosen.

use testkit::*;

const RULE: &str =
    " .... a nickname is 1 to 20 letters, digits, - or _, and not user- followed by digits.";

#[test]
fn every_case_form_of_a_name_is_that_name() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    let mut b = TestClient::connect(server.chat_addr());
    a.recv_until(&joined(&b.nick));

    a.send("/nick straße");
    assert_eq!(a.recv_text(), format!(" .... {} is now straße.", a.nick));
    b.recv_until(&format!(" .... {} is now straße.", a.nick));
    // Capital sharp s lower-cases to `ß`, which folds to `ss`.
    for taken in ["STRAẞE", "Straẞe", "STRASSE", "strasse", "STRAßE"] {
        b.send(&format!("/nick {taken}"));
        assert_eq!(b.recv_text(), format!(" .... {taken} is taken."));
    }
    // And the other way round: a name with `ẞ` holds `ß` and `ss`.
    a.send("/nick GROẞ");
    assert_eq!(a.recv_text(), " .... straße is now GROẞ.");
    b.recv_until(" .... straße is now GROẞ.");
    for taken in ["groß", "GROSS", "gross"] {
        b.send(&format!("/nick {taken}"));
        assert_eq!(b.recv_text(), format!(" .... {taken} is taken."));
    }
    // The freed name is free again, in any of its forms.
    b.send("/nick STRAẞE");
    assert_eq!(b.recv_text(), format!(" .... {} is now STRAẞE.", b.nick));
}

#[test]
fn no_form_of_a_server_name_can_be_chosen() {
    let server = start_server();
    let mut a = TestClient::connect(server.chat_addr());
    // `ſ` (long s) folds to `s`: `uſer-7` would be the server's `user-7`.
    // Arabic-Indic and full-width digits are digits too.
    for reserved in ["uſer-7", "UſER-42", "user-٧", "User-１２"] {
        a.send(&format!("/nick {reserved}"));
        assert_eq!(a.recv_text(), RULE, "{reserved}");
    }
    // `user-` with anything but digits after it is an ordinary name.
    a.send("/nick user-abc");
    assert_eq!(a.recv_text(), format!(" .... {} is now user-abc.", a.nick));
}
