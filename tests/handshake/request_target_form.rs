//! A GET's request target is a path (origin-form) or an absolute URI (RFC
//! 9112 section 3.2); any other form (`*`, `host:port`, a bare name) gets
//! 400 on both ports, not a 101 or the page.

use testkit::*;

#[test]
fn targets_of_other_forms_get_400_on_both_ports() {
    let server = start_server();
    let (chat_addr, page_addr) = (server.chat_addr(), server.page_addr());
    for target in ["*", "chat.example:80", "index.html", "?a=b"] {
        let upgrade =
            upgrade_request(chat_addr, "").replacen("GET / ", &format!("GET {target} "), 1);
        let (status, head, _) = http_exchange(chat_addr, upgrade.as_bytes());
        assert_eq!(status, 400, "chat, {target}: {head}");
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, head, _) = http_exchange(page_addr, request.as_bytes());
        assert_eq!(status, 400, "page, {target}: {head}");
    }
    for target in ["/", "/?room=a", &format!("ws://{chat_addr}/")] {
        let upgrade =
            upgrade_request(chat_addr, "").replacen("GET / ", &format!("GET {target} "), 1);
        let (status, head, _) = http_exchange(chat_addr, upgrade.as_bytes());
        assert_eq!(status, 101, "chat, {target}: {head}");
    }
    let request =
        format!("GET http://{page_addr}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(http_exchange(page_addr, request.as_bytes()).0, 200);
}
