//! Origins compare as RFC 6454 section 6.2 serializes them: scheme and host lowercased, the scheme's default port dropped, no
//! path or trailing slash, for the configured ones and the received one;
//! a configured value that is not an origin stops the server at start.

use testkit::*;

use chat_server::Config;

fn status_for(allowed: &str, origin: &str) -> u16 {
    let server = start_server_with(Config {
        allowed_origins: vec![allowed.to_owned()],
        ..test_config()
    });
    let addr = server.chat_addr();
    let (status, _, _) = http_exchange(
        addr,
        upgrade_request(addr, &format!("Origin: {origin}\r\n")).as_bytes(),
    );
    status
}

#[test]
fn configured_and_received_origins_are_serialized_before_comparing() {
    for (allowed, origin) in [
        ("https://chat.example/", "https://chat.example"),
        ("https://chat.example:443", "https://chat.example"),
        ("HTTPS://Chat.EXAMPLE", "https://chat.example"),
        ("http://chat.example:80/", "http://chat.example"),
        ("http://chat.example:8000", "http://chat.example:8000"),
        ("https://chat.example", "https://CHAT.example:443"),
        ("https://chat.example", "https://chat.example/"),
        ("http://[::1]:80", "http://[::1]"),
    ] {
        assert_eq!(
            status_for(allowed, origin),
            101,
            "allowed {allowed}, sent {origin}"
        );
    }
}

#[test]
fn different_origins_stay_different() {
    for (allowed, origin) in [
        ("https://chat.example", "http://chat.example"),
        ("https://chat.example", "https://chat.example:8443"),
        ("http://chat.example:8000", "http://chat.example"),
        ("https://chat.example", "https://evil.chat.example"),
        ("https://chat.example", "https://chat.example.evil"),
        ("https://chat.example", "null"),
        ("https://chat.example", "https://chat.example/path"),
    ] {
        assert_eq!(
            status_for(allowed, origin),
            403,
            "allowed {allowed}, sent {origin}"
        );
    }
}

#[test]
fn a_configured_value_that_is_not_an_origin_stops_the_server() {
    for bad in [
        "chat.example",
        "https://chat.example/chat",
        "https://chat.example?x=1",
        "https://user@chat.example",
        "https://chat.example:99999",
        "https://",
        "null",
    ] {
        let (code, stderr) = run_to_end(
            env!("CARGO_BIN_EXE_chat-server"),
            &["--http-port", "0", "--ws-port", "0", "--allow-origin", bad],
        );
        assert_eq!(code, Some(1), "{bad}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains(bad), "{bad}: {stderr}");
        assert!(stderr.contains("origin"), "{bad}: {stderr}");
    }
}
