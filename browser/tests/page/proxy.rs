//! The page finds the chat: opened on the page port it
//! connects to the chat port; opened through a one-origin reverse proxy
//! (its own port is not the page port) it connects to /ws/ROOM on its own
//! origin, and tabs of both kinds share the room.

use std::net::TcpListener;

use crate::support::relay::{Relay, Route};
use crate::support::tab::*;
use crate::support::{chromium_or_skip, start_server_with, test_config};

#[test]
fn through_a_proxy_the_page_connects_to_ws_on_its_own_origin() {
    let Some(browser) =
        chromium_or_skip("through_a_proxy_the_page_connects_to_ws_on_its_own_origin")
    else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let proxy_origin = format!("http://{}", listener.local_addr().expect("address"));
    let mut config = test_config();
    // Allowed by name, so this test does not depend on the origin policy
    // (the rule that an `Origin` with the request's own host and port is accepted allows it without a flag).
    config.allowed_origins = vec![proxy_origin.clone()];
    let server = start_server_with(config);
    let proxy = Relay::serve(
        listener,
        Route::Proxy {
            chat: server.chat_addr(),
            page: server.page_addr(),
        },
    );

    let (a, nick_a) = join(&browser, &format!("{proxy_origin}/physics"));
    let (b, nick_b) = join(&browser, &format!("{proxy_origin}/physics"));
    let (direct, nick_d) = join(&browser, &server.page_url("physics"));
    say(&a, "via the proxy");
    wait_line(&b, &format!("{nick_a}: via the proxy"));
    wait_line(&direct, &format!("{nick_a}: via the proxy"));
    say(&direct, "direct");
    wait_line(&a, &format!("{nick_d}: direct"));
    let _ = nick_b;

    // What went through the proxy: the two pages, then each one's
    // WebSocket under /ws/ with its session; the direct tab went around it.
    let targets = proxy.targets();
    let pages = targets.iter().filter(|t| *t == "/physics").count();
    let sockets: Vec<&String> = targets.iter().filter(|t| t.starts_with("/ws/")).collect();
    assert_eq!(pages, 2, "{targets:?}");
    assert_eq!(sockets.len(), 2, "{targets:?}");
    for socket in &sockets {
        let id = socket
            .strip_prefix("/ws/physics?session=")
            .unwrap_or_else(|| panic!("{socket}"));
        assert!(
            id.len() >= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{id}"
        );
    }
    assert_ne!(sockets[0], sockets[1], "one session per tab");
}
