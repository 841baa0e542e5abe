//! The classroom start-up: with `--bind 0.0.0.0` or
//! `--bind ::` the real binary prints one `students: open http://ADDR:PORT/`
//! line per non-loopback interface address, each of which serves the page
//! while its chat port takes a client, and says both ports must be reachable;
//! `--public-url` is printed as given instead. The unspecified address is
//! never a link: `listening on 0.0.0.0:P (page) and 0.0.0.0:C (chat)`.

use testkit::*;

use std::io::Read;
use std::net::{IpAddr, SocketAddr};

/// The `students: ...` lines the child logs at start, up to the last one
/// (the both-ports line, or the no-address warning).
fn student_lines(server: &ChildServer) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..64 {
        let Some(line) = server.wait_log("students", WAIT) else {
            panic!("no end of the start-up lines; got {lines:?}");
        };
        let done = !line.contains("students: open");
        lines.push(line);
        if done {
            return lines;
        }
    }
    panic!("too many start-up lines: {lines:?}");
}

/// The addresses in the `students: open http://ADDR:PORT/` lines.
fn opened(lines: &[String], page_port: u16) -> Vec<IpAddr> {
    lines
        .iter()
        .filter_map(|line| line.split("students: open http://").nth(1))
        .map(|rest| {
            let addr: SocketAddr = rest
                .trim_end()
                .trim_end_matches('/')
                .parse()
                .expect("ADDR:PORT");
            assert_eq!(addr.port(), page_port, "{rest}");
            addr.ip()
        })
        .collect()
}

/// The page over plain HTTP from `addr`: its status and body.
fn get_page(addr: SocketAddr) -> (u16, String) {
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (status, _head, mut stream) = http_exchange(addr, request.as_bytes());
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    (status, body)
}

/// Every address a student is told to open serves the page, and a client
/// on the same address reaches the chat port: both work, from the outside
/// of loopback.
fn each_address_works(server: &ChildServer, ips: &[IpAddr]) {
    for &ip in ips {
        assert!(!ip.is_loopback(), "{ip}");
        let (status, body) = get_page(SocketAddr::new(ip, server.page_addr.port()));
        assert_eq!(status, 200, "page at {ip}");
        assert!(body.contains("WebSocket"), "page at {ip}");
        let mut client = TestClient::connect(SocketAddr::new(ip, server.chat_addr.port()));
        client.chat(&format!("hello from {ip}"));
        client.close();
    }
}

fn interface_addresses(v4: bool, v6: bool) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
        .expect("list interfaces")
        .iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback())
        .filter(|ip| match ip {
            IpAddr::V4(_) => v4,
            // Link-local needs a zone id, which a URL cannot carry.
            IpAddr::V6(v6addr) => v6 && !v6addr.to_string().starts_with("fe80:"),
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

fn check(bind: &str, v4: bool, v6: bool) {
    let server = start_binary!(None, &["--bind", bind]);
    // `0.0.0.0` and `::` are no links: one `listening on` line says where.
    let listening = server.start_lines.last().expect("an address line");
    assert!(
        listening.ends_with(&format!(
            "listening on {} (page) and {} (chat)",
            server.page_addr, server.chat_addr
        )),
        "{listening}"
    );
    assert!(server.page_addr.ip().is_unspecified(), "{listening}");
    for line in &server.start_lines {
        assert!(!line.contains("page at http://"), "{line}");
        assert!(!line.contains("chat at ws://"), "{line}");
    }
    let lines = student_lines(&server);
    let mut ips = opened(&lines, server.page_addr.port());
    let expected = interface_addresses(v4, v6);
    let last = lines.last().expect("a last line");
    if expected.is_empty() {
        assert!(
            last.contains("no network address besides loopback"),
            "{lines:?}"
        );
        return println!("skipped the per-address checks: this machine has only loopback");
    }
    assert!(
        last.contains(&format!(
            "need both ports: {} (page) and {} (chat)",
            server.page_addr.port(),
            server.chat_addr.port()
        )),
        "{last}"
    );
    assert!(last.contains("--public-url"), "{last}");
    each_address_works(&server, &ips);
    ips.sort();
    assert_eq!(ips, expected, "one line per interface address");
}

#[test]
fn bind_all_ipv4_lists_every_ipv4_address() {
    check("0.0.0.0", true, false);
}

#[test]
fn bind_all_ipv6_lists_both_families_on_a_dual_stack() {
    if !std::path::Path::new("/proc/net/if_inet6").exists() {
        return println!("skipped: this system has no IPv6");
    }
    check("::", true, true);
}

#[test]
fn a_public_url_is_printed_as_given() {
    let url = "https://chat.example.org:8443/class/";
    let server = start_binary!(None, &["--bind", "0.0.0.0", "--public-url", url]);
    let line = server.wait_log("students", WAIT).expect("students line");
    assert!(line.ends_with(&format!("students: open {url}")), "{line}");
    let next = server.wait_log("", WAIT).expect("proxy line");
    assert!(
        next.contains(&format!(
            "forward / to port {} and /ws/ to port {}",
            server.page_addr.port(),
            server.chat_addr.port()
        )),
        "{next}"
    );
}
