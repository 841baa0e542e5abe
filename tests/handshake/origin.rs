//! Origin check on the WebSocket handshake: no Origin, the page's own
//! origin and the request's own (same host and port as Host) are accepted,
//! any other gets 403; `allowed_origins` widens the list
//! (a named origin, or `*`). A bystander keeps chatting throughout.

use testkit::*;

use chat_server::Config;

/// Try an upgrade with this Origin (None: no header); return the status. On
/// 101 the greeting must follow; otherwise the connection must end.
fn try_origin(server: &TestServer, origin: Option<&str>) -> u16 {
    let extra = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let addr = server.chat_addr();
    let (status, head, mut stream) = http_exchange(addr, upgrade_request(addr, &extra).as_bytes());
    if status == 101 {
        let nick = read_greeting(&mut stream);
        assert!(nick.starts_with("user-"), "{head}");
    } else {
        assert!(
            ends_within(&mut stream, WAIT, 4096),
            "{origin:?}: connection kept open"
        );
    }
    status
}

fn server_allowing(origins: &[&str]) -> TestServer {
    start_server_with(Config {
        allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
        ..test_config()
    })
}

const STRANGERS: [&str; 5] = [
    "http://evil.example",
    "https://x.example.evil",
    "null",
    "file://",
    "http://127.0.0.1.evil.example:80",
];

#[test]
fn default_policy_is_the_page_only() {
    let server = start_server();
    let mut by = TestClient::connect(server.chat_addr());
    let page = format!("http://127.0.0.1:{}", server.page_addr().port());
    assert_eq!(try_origin(&server, None), 101, "no Origin (not a browser)");
    assert_eq!(
        try_origin(&server, Some(&page)),
        101,
        "the page's own origin"
    );
    assert_eq!(
        try_origin(&server, Some(&format!("{page}/"))),
        101,
        "trailing slash"
    );
    // The request's own origin (same host and port as its Host): what a
    // browser sends through a proxy serving page and chat on one origin
    // (handshake::origin_behind_proxy).
    let chat = format!("http://127.0.0.1:{}", server.chat_addr().port());
    assert_eq!(try_origin(&server, Some(&chat)), 101, "{chat}");
    // Same host, a port that is neither the page's nor the Host's.
    let other_port = "http://127.0.0.1:1";
    assert_eq!(try_origin(&server, Some(other_port)), 403, "{other_port}");
    // The page's port under another name than the one the socket was
    // opened with (Host: 127.0.0.1:...): origins compare by name.
    let other_name = format!("http://localhost:{}", server.page_addr().port());
    assert_eq!(try_origin(&server, Some(&other_name)), 403, "{other_name}");
    for origin in STRANGERS.iter().chain(&["https://x.example"]) {
        assert_eq!(try_origin(&server, Some(origin)), 403, "{origin}");
        by.chat(&format!("after {origin}"));
    }
}

#[test]
fn a_listed_origin_is_allowed_too() {
    let server = server_allowing(&["https://x.example"]);
    let mut by = TestClient::connect(server.chat_addr());
    assert_eq!(try_origin(&server, Some("https://x.example")), 101);
    assert_eq!(
        try_origin(&server, Some("HTTPS://X.EXAMPLE")),
        101,
        "case-insensitive"
    );
    let page = format!("http://127.0.0.1:{}", server.page_addr().port());
    assert_eq!(try_origin(&server, Some(&page)), 101, "the page still is");
    assert_eq!(try_origin(&server, None), 101);
    for origin in STRANGERS
        .iter()
        .chain(&["http://x.example", "https://x.example:8443"])
    {
        assert_eq!(try_origin(&server, Some(origin)), 403, "{origin}");
    }
    by.chat("still here");
}

#[test]
fn star_allows_any_origin() {
    let server = server_allowing(&["*"]);
    let mut by = TestClient::connect(server.chat_addr());
    for origin in STRANGERS {
        assert_eq!(try_origin(&server, Some(origin)), 101, "{origin}");
    }
    by.chat("still here");
}
