//! A `Host` that is not `uri-host [":" port]` gets 400 on both ports (RFC
//! 9110 section 7.2: a server MUST answer 400 to an invalid Host); IPv6
//! literals, names and an empty Host are valid.

use testkit::*;

use std::net::SocketAddr;

fn page(addr: SocketAddr, host: &str) -> u16 {
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    http_exchange(addr, request.as_bytes()).0
}

fn chat(addr: SocketAddr, host: &str) -> u16 {
    let request =
        upgrade_request(addr, "").replace(&format!("Host: {addr}"), &format!("Host: {host}"));
    http_exchange(addr, request.as_bytes()).0
}

#[test]
fn invalid_hosts_get_400_on_both_ports() {
    let server = start_server();
    let (chat_addr, page_addr) = (server.chat_addr(), server.page_addr());
    for bad in [
        "a b", "x/y", "x?y", "u@x", "[::1", "[]", "x:8o", "x:1:2", "x\"", "<x>",
    ] {
        assert_eq!(page(page_addr, bad), 400, "page, Host: {bad}");
        assert_eq!(chat(chat_addr, bad), 400, "chat, Host: {bad}");
    }
    for good in [
        "localhost",
        "127.0.0.1:1",
        "[::1]:8080",
        "chat.example",
        "xn--bcher-kva.example:",
    ] {
        assert_eq!(page(page_addr, good), 200, "page, Host: {good}");
        assert_eq!(chat(chat_addr, good), 101, "chat, Host: {good}");
    }
}
