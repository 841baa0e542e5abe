//! `--public-url` overrides the page's guess: a page
//! opened on the page port itself, with the public URL naming a proxy's
//! origin, connects to `/ws/ROOM` there, as given.

use std::net::TcpListener;

use crate::support::relay::{Relay, Route};
use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server_with, test_config};

#[test]
fn the_public_url_overrides_the_guess() {
    let Some(browser) = chromium_or_skip("the_public_url_overrides_the_guess") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let public = format!("http://{}/", listener.local_addr().expect("address"));
    let mut config = test_config();
    config.public_url = Some(public.clone());
    let server = start_server_with(config);
    let proxy = Relay::serve(
        listener,
        Route::Proxy {
            chat: server.chat_addr(),
            page: server.page_addr(),
        },
    );

    // Opened on the page port: without the public URL it would go to the
    // chat port; with it, it goes where the public URL says.
    let (a, nick_a) = join(&browser, &server.page_url("physics"));
    let (b, _) = join(&browser, &format!("{public}physics"));
    say(&a, "as the public URL says");
    wait_line(&b, &format!("{nick_a}: as the public URL says"));
    let targets = proxy.targets();
    let sockets = targets
        .iter()
        .filter(|t| t.starts_with("/ws/physics?session="))
        .count();
    assert_eq!(
        sockets, 2,
        "both tabs' sockets went through the public origin: {targets:?}"
    );
    assert_eq!(
        targets.iter().filter(|t| *t == "/physics").count(),
        1,
        "only tab B's page came through it: {targets:?}"
    );
    assert!(js_bool(
        &a,
        &format!("document.querySelector('meta[name=\"chat-public-url\"]').content === {public:?}")
    ));
}
