//! nginx with TLS in front, configured by `contrib/nginx.conf` (README,
//! Deploy), at the HTTP and WebSocket level: the page over https, plain http
//! redirected, `/metrics` kept private, and two clients chatting over `wss:`
//! through `/ws/ROOM` with either `proxy_pass` form, the browser's `Origin`
//! accepted without a flag and each client's address taken from
//! `X-Forwarded-For`. Skipped with a line when nginx or openssl is missing
//! outside CI.

use testkit::proxy::*;
use testkit::{start_binary, ChildServer, WAIT};

/// The server as README's Deploy section runs it behind a proxy (ports 0).
fn server_behind_proxy() -> ChildServer {
    start_binary!(None, &["--bind", "127.0.0.1", "--trust-proxy", "127.0.0.1"])
}

#[test]
fn the_page_over_https_and_http_redirected() {
    if !have_nginx_and_openssl() {
        return;
    }
    let server = server_behind_proxy();
    let nginx = Nginx::start(server.page_addr, server.chat_addr, Form::KeepPrefix);

    let (status, head, body) = https_get(nginx.https, &nginx.cert, "/");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("WebSocket"), "not the page: {body}");

    let (status, head, _) = testkit::http_exchange(
        nginx.http,
        format!(
            "GET /x HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            nginx.http
        )
        .as_bytes(),
    );
    assert_eq!(status, 301, "{head}");
    assert!(
        testkit::header_value(&head, "Location").is_some_and(|l| l.starts_with("https://")),
        "{head}"
    );

    let (status, head, _) = https_get(nginx.https, &nginx.cert, "/metrics");
    assert_eq!(status, 404, "/metrics should stay private: {head}");
}

fn two_clients_chat(form: Form) {
    if !have_nginx_and_openssl() {
        return;
    }
    let server = server_behind_proxy();
    let nginx = Nginx::start(server.page_addr, server.chat_addr, form);
    // The second client comes over IPv6 (when there is one), so its
    // forwarded address (::1) differs from nginx's own (127.0.0.1).
    let b_addr = nginx.https_v6.unwrap_or(nginx.https);

    let (_, b_nick) = two_clients_chat_through(nginx.https, b_addr, &nginx.cert, &|| {
        format!("({form:?}) {}", nginx.error_log())
    });

    // The server logs each client by the address nginx forwarded.
    if nginx.https_v6.is_some() {
        let line = server
            .wait_log("forwards for ::1", WAIT)
            .expect("a log line with b's forwarded address");
        assert!(line.contains("127.0.0.1"), "{line}");
    }
    server
        .wait_log(&format!("{b_nick} joined from"), WAIT)
        .expect("b's join line");
}

#[test]
fn two_clients_chat_through_nginx_keeping_the_ws_prefix() {
    two_clients_chat(Form::KeepPrefix);
}

#[test]
fn two_clients_chat_through_nginx_stripping_the_ws_prefix() {
    two_clients_chat(Form::StripPrefix);
}

#[test]
fn the_deploy_guide_shows_the_tested_configs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("docs/deploy.md")).expect("docs/deploy.md");
    for file in [
        "contrib/nginx.conf",
        "contrib/Caddyfile",
        "contrib/chat-server.service",
        "contrib/chat-server.env",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        assert!(
            guide.contains(&text),
            "docs/deploy.md should show {file} as it is"
        );
    }
}
