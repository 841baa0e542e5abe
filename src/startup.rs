//! Getting started: binding the two listeners, and the start-up lines
//! that tell a teacher what to give students and what to keep. Runs once,
//! on the main thread, before any other thread starts.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use crate::os;

/// Bind a listener on `addr`. On `::` it serves IPv4 too (dual stack,
/// whatever `net.ipv6.bindv6only` says); where the system has no IPv6 at
/// all, `::` falls back to `0.0.0.0` with a warning.
///
/// # Errors
/// The OS error of `socket`, `bind` or `listen` (port in use, no permission,
/// not an address of this machine); [`hint`] turns it into advice.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    match os::listen(addr) {
        Err(e)
            if matches!(addr.ip(), IpAddr::V6(v6) if v6.is_unspecified())
                && e.raw_os_error() == Some(libc::EAFNOSUPPORT) =>
        {
            let v4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), addr.port());
            log::warn!("this system has no IPv6; --bind :: serves IPv4 only, on {v4}");
            os::listen(v4)
        }
        other => other,
    }
}

/// Advice for a failed bind of `port` (chosen with `flag`), when the error
/// is one a person can fix: a port in use, a privileged port, an address
/// that is not this machine's.
pub fn hint(source: &io::Error, addr: SocketAddr, flag: &str) -> Option<String> {
    let port = addr.port();
    match source.kind() {
        io::ErrorKind::AddrInUse => Some(format!(
            "port {port} is in use (another chat-server?): choose another with {flag}"
        )),
        io::ErrorKind::PermissionDenied if port < 1024 => Some(format!(
            "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: \
             choose a port from 1024 up with {flag}, or put a proxy in front (README, Deploy)"
        )),
        io::ErrorKind::AddrNotAvailable => Some(format!(
            "{} is not an address of this machine: check --bind (0.0.0.0 or :: for all of them)",
            addr.ip()
        )),
        _ => None,
    }
}

/// Log where the server listens and, for a classroom (`--bind 0.0.0.0` or
/// `::`), one `students: open http://ADDR:PORT/` line per address other
/// machines can use, or the `--public-url` as given.
/// `page_v4`: whether the page listener takes IPv4 ([`os::serves_ipv4`]).
pub fn announce(
    page_addr: SocketAddr,
    chat_addr: SocketAddr,
    page_v4: bool,
    public_url: Option<&str>,
    teacher_key: &str,
) {
    for line in listening_lines(page_addr, chat_addr) {
        log::info!("{line}");
    }
    if let Some(url) = public_url {
        log::info!("students: open {url}");
        log::info!(
            "the proxy at {url} must forward / to port {} and /ws/ to port {} (README, Deploy)",
            page_addr.port(),
            chat_addr.port()
        );
        log::info!("teacher: open {url}#teacher={teacher_key}");
        return;
    }
    let ip = page_addr.ip();
    if ip.is_loopback() {
        log::info!("teacher: open http://{page_addr}/#teacher={teacher_key}");
        log::info!("only this machine can connect; --bind 0.0.0.0 lets a classroom in");
        return;
    }
    let addrs = if ip.is_unspecified() {
        usable_addresses(ip.is_ipv6(), page_v4)
    } else {
        vec![ip]
    };
    if addrs.is_empty() {
        log::warn!("students: this machine has no network address besides loopback; other machines cannot reach it");
        return;
    }
    for &ip in &addrs {
        log::info!(
            "students: open http://{}/",
            SocketAddr::new(ip, page_addr.port())
        );
    }
    for ip in addrs {
        log::info!(
            "teacher: open http://{}/#teacher={teacher_key}",
            SocketAddr::new(ip, page_addr.port())
        );
    }
    log::info!(
        "students' browsers need both ports: {} (page) and {} (chat); open both in the firewall, \
         or put a proxy in front and pass --public-url (README, Deploy)",
        page_addr.port(),
        chat_addr.port()
    );
}

/// Where people open the page, for links the server gives (`/transcript`):
/// `--public-url` if given, else `http://ADDR:PORT/` with the first
/// address students are told (this machine's own when bound to every
/// address, the bound one otherwise).
pub fn page_url(page_addr: SocketAddr, page_v4: bool, public_url: Option<&str>) -> String {
    if let Some(url) = public_url {
        return url.to_owned();
    }
    let ip = page_addr.ip();
    let ip = if ip.is_unspecified() {
        usable_addresses(ip.is_ipv6(), page_v4)
            .first()
            .copied()
            .unwrap_or(ip)
    } else {
        ip
    };
    format!("http://{}/", SocketAddr::new(ip, page_addr.port()))
}

/// Where the server listens. Only an address one can open is written as a
/// link (`page at http://127.0.0.1:8080/`, `chat at ws://...`); on
/// `0.0.0.0` or `::`, which no browser can open, one line says so without
/// a link (`listening on 0.0.0.0:8080 (page) and 0.0.0.0:12345 (chat)`),
/// and the `students: open` lines that follow are the links.
pub fn listening_lines(page_addr: SocketAddr, chat_addr: SocketAddr) -> Vec<String> {
    if page_addr.ip().is_unspecified() || chat_addr.ip().is_unspecified() {
        return vec![format!(
            "listening on {page_addr} (page) and {chat_addr} (chat)"
        )];
    }
    vec![
        format!("page at http://{page_addr}/"),
        format!("chat at ws://{chat_addr}/"),
    ]
}

/// Every non-loopback address of this machine's interfaces, IPv4 first.
/// IPv6 link-local addresses (`fe80::/10`) are left out: a browser cannot
/// open them (they need a zone id, which URLs do not carry).
pub fn usable_addresses(v6: bool, v4: bool) -> Vec<IpAddr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(e) => {
            log::warn!("could not list network interfaces: {e}");
            return Vec::new();
        }
    };
    let mut addrs: Vec<IpAddr> = interfaces
        .iter()
        .map(|interface| interface.ip())
        .filter(|ip| !ip.is_loopback())
        .filter(|ip| match ip {
            IpAddr::V4(_) => v4,
            IpAddr::V6(v6addr) => v6 && (v6addr.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    addrs.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    addrs.dedup();
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_flag() {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let in_use = io::Error::from(io::ErrorKind::AddrInUse);
        assert!(hint(&in_use, addr, "--ws-port")
            .unwrap()
            .contains("--ws-port"));
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(hint(&denied, addr, "--http-port")
            .unwrap()
            .contains("CAP_NET_BIND_SERVICE"));
    }

    #[test]
    fn only_openable_addresses_are_links() {
        let at = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(
            listening_lines(at("0.0.0.0:8080"), at("0.0.0.0:12345")),
            ["listening on 0.0.0.0:8080 (page) and 0.0.0.0:12345 (chat)"]
        );
        assert_eq!(
            listening_lines(at("[::]:8080"), at("[::]:12345")),
            ["listening on [::]:8080 (page) and [::]:12345 (chat)"]
        );
        assert_eq!(
            listening_lines(at("127.0.0.1:8080"), at("127.0.0.1:12345")),
            [
                "page at http://127.0.0.1:8080/",
                "chat at ws://127.0.0.1:12345/"
            ]
        );
    }

    #[test]
    fn link_local_and_loopback_are_left_out() {
        for ip in usable_addresses(true, true) {
            assert!(!ip.is_loopback(), "{ip}");
            assert!(!ip.to_string().starts_with("fe80"), "{ip}");
        }
    }
}
