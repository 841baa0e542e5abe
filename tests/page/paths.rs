//! The page server: the page at `/` and at each room's `/NAME`, 404
//! elsewhere, 405 for other methods; a room's QR code at `/NAME/qr.svg`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use testkit::*;

/// Send one request and return (status, headers, body). Connection: close.
fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn the_page_is_served_at_root() {
    let server = start_server();
    let (status, head, body) = http(server.page_addr(), "GET", "/");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        body.contains("new WebSocket("),
        "the page opens a WebSocket"
    );
    // The page is told the real chat port, not the seed's hard-coded one.
    let port = server.chat_addr().port().to_string();
    assert!(body.contains(&port), "page does not name port {port}");
    assert!(!body.contains("{{WS_PORT}}"));
    assert!(body.contains("say something"));
}

#[test]
fn the_page_is_under_80_kib_as_served() {
    // Small enough for a slow classroom network, uncompressed (the
    // teacher's controls and the projector view are in it too).
    let server = start_server();
    let (status, _, body) = http(server.page_addr(), "GET", "/");
    assert_eq!(status, 200);
    assert!(body.len() < 80 * 1024, "the page is {} bytes", body.len());
}

#[test]
fn head_gets_headers_only() {
    let server = start_server();
    let (status, head, body) = http(server.page_addr(), "HEAD", "/");
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    assert!(body.is_empty());
}

#[test]
fn each_room_has_the_page_at_its_name() {
    let server = start_server();
    for path in [
        "/physics",
        "/Group-2_b",
        "/a",
        &format!("/{}", "r".repeat(32)),
    ] {
        let (status, _, body) = http(server.page_addr(), "GET", path);
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("new WebSocket("), "{path}");
    }
}

#[test]
fn other_paths_are_404_and_other_methods_405() {
    let server = start_server();
    for path in [
        "/no.such",
        "/a/b",
        "/physics/",
        "/ws",
        "/healthz2/x",
        "/%41",
        &format!("/{}", "r".repeat(33)),
    ] {
        assert_eq!(http(server.page_addr(), "GET", path).0, 404, "{path}");
    }
    assert_eq!(http(server.page_addr(), "GET", "/../etc/passwd").0, 404);
    assert_eq!(http(server.page_addr(), "POST", "/physics").0, 405);
    let (status, head, _) = http(server.page_addr(), "POST", "/");
    assert_eq!(status, 405);
    assert!(head.contains("allow: get, head"), "{head}");
    assert_eq!(http(server.page_addr(), "DELETE", "/").0, 405);
}

#[test]
fn the_page_keeps_serving_after_many_requests() {
    let server = start_server();
    for _ in 0..50 {
        assert_eq!(http(server.page_addr(), "GET", "/").0, 200);
    }
}

#[test]
fn a_rooms_qr_code_is_an_svg_and_a_code_needs_the_key() {
    let server = start_server();
    let (status, head, body) = http(server.page_addr(), "GET", "/physics/qr.svg");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: image/svg+xml"), "{head}");
    assert!(
        body.starts_with("<?xml") || body.starts_with("<svg"),
        "{body:.80}"
    );
    // A code without the teacher key is ignored: the same image.
    let (_, _, with_code) = http(server.page_addr(), "GET", "/physics/qr.svg?code=K7Q2XH");
    assert_eq!(with_code, body);
    let key = server.teacher_key();
    let mut s = TcpStream::connect_timeout(&server.page_addr(), WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "GET /physics/qr.svg?code=K7Q2XH HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n",
        server.page_addr()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let teacher_body = answer.split_once("\r\n\r\n").unwrap().1;
    assert_ne!(teacher_body, body, "the teacher's code is in the address");
    let (status, _, _) = http(server.page_addr(), "GET", "/no.dots/qr.svg");
    assert_eq!(status, 404);
}
