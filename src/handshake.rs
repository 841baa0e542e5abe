//! The WebSocket opening handshake (RFC 6455, section 4.2), done by hand so
//! that every refusal gets an HTTP answer.
//!
//! tungstenite's server handshake closes the connection without a word when a
//! request is not a valid upgrade; a person poking the port with curl deserves
//! a status line. So this module reads the request head within a deadline,
//! checks it, and writes either `101 Switching Protocols` or a 4xx/5xx answer.
//! Runs on the client's own thread, before it joins the room.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use tungstenite::handshake::derive_accept_key;

/// A request head larger than this is refused with 431.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// A request with more header lines than this is refused with 431.
const MAX_HEADERS: usize = 48;
/// After a refusal, how long we read and discard what the client still sends,
/// so that closing the socket does not reset the connection before it has read
/// our answer.
const LINGER: Duration = Duration::from_millis(500);

/// A valid upgrade request.
#[derive(Debug)]
pub struct Upgrade {
    /// The request target as sent (`/NAME?session=ID`): it picks the room.
    pub target: String,
    /// `Sec-WebSocket-Key`, to derive the accept key from.
    key: String,
    /// Bytes that came after the request head (frames sent early).
    pub rest: Vec<u8>,
}

/// An HTTP answer that ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
    /// Extra header lines, e.g. `("Sec-WebSocket-Version", "13")`.
    pub headers: Vec<(&'static str, &'static str)>,
    /// One line for the body and the log.
    pub why: String,
}

impl Refusal {
    pub fn new(status: u16, why: impl Into<String>) -> Refusal {
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            426 => "Upgrade Required",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "Error",
        };
        Refusal {
            status,
            reason,
            headers: Vec::new(),
            why: why.into(),
        }
    }

    fn with_header(mut self, name: &'static str, value: &'static str) -> Refusal {
        self.headers.push((name, value));
        self
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// The request was not complete within the handshake deadline.
    TimedOut,
    /// The client closed before sending a whole request.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// The request was read but is not an upgrade we accept.
    Refused(Refusal),
}

/// Which `Origin`s may open a WebSocket (cross-site WebSocket hijacking guard).
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Origins allowed besides the page's own, as `scheme://host[:port]`;
    /// `*` allows any.
    pub allowed: Vec<String>,
    /// The page server's port: an origin on the request's own host and this
    /// port is the page we served.
    pub page_port: u16,
}

impl OriginPolicy {
    /// No `Origin` (not a browser), the page's own origin, or a listed one.
    pub fn allows(&self, origin: Option<&str>, host: &str) -> bool {
        let Some(origin) = origin else { return true };
        if self
            .allowed
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin.trim_end_matches('/')))
        {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return false,
        };
        let Some((origin_host, origin_port)) = split_host_port(rest.trim_end_matches('/')) else {
            return false;
        };
        let Some((request_host, _)) = split_host_port(host) else {
            return false;
        };
        origin_host.eq_ignore_ascii_case(request_host)
            && origin_port.unwrap_or(default_port) == self.page_port
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` -> (host, port).
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains('/') || host.contains('@') {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

/// Read the request head and check it. Blocks until the head is complete,
/// the client goes, or `deadline` passes.
pub fn read_upgrade(
    mut stream: &TcpStream,
    deadline: Instant,
    origins: &OriginPolicy,
) -> Result<Upgrade, ReadFailure> {
    // Read straight into the heap buffer: this runs on a small thread stack.
    let mut buf = Vec::with_capacity(1024);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadFailure::TimedOut);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(ReadFailure::Io)?;
        let filled = buf.len();
        buf.resize(filled + 1024, 0);
        let read = stream.read(&mut buf[filled..]);
        buf.truncate(filled + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Err(ReadFailure::Closed),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadFailure::TimedOut)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadFailure::Io(e)),
        }
        match parse(&buf, origins) {
            Ok(Some(upgrade)) => return Ok(upgrade),
            Ok(None) if buf.len() < MAX_REQUEST_BYTES => {}
            Ok(None) => {
                return Err(ReadFailure::Refused(Refusal::new(
                    431,
                    "request head too large",
                )))
            }
            Err(refusal) => return Err(ReadFailure::Refused(refusal)),
        }
    }
}

/// Check a (possibly partial) request head. `Ok(None)`: not complete yet.
pub fn parse(buf: &[u8], origins: &OriginPolicy) -> Result<Option<Upgrade>, Refusal> {
    // On the heap: this runs on a small thread stack, whose every touched
    // page stays resident for the life of the connection.
    let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(431, "too many header lines"))
        }
        Err(e) => return Err(Refusal::new(400, format!("malformed request: {e}"))),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(str::trim)
    };
    let has_token = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };

    if request.method != Some("GET") {
        return Err(Refusal::new(405, "a WebSocket handshake is a GET").with_header("Allow", "GET"));
    }
    if request.version != Some(1) {
        return Err(Refusal::new(400, "a WebSocket handshake needs HTTP/1.1"));
    }
    if !has_token("Upgrade", "websocket") {
        return Err(Refusal::new(
            426,
            "this port speaks WebSocket; the page is on the page port",
        )
        .with_header("Upgrade", "websocket")
        .with_header("Connection", "Upgrade")
        .with_header("Sec-WebSocket-Version", "13"));
    }
    if !has_token("Connection", "upgrade") {
        return Err(Refusal::new(400, "missing Connection: Upgrade"));
    }
    if header("Sec-WebSocket-Version") != Some("13") {
        return Err(Refusal::new(
            426,
            "unsupported Sec-WebSocket-Version; this server speaks 13",
        )
        .with_header("Sec-WebSocket-Version", "13"));
    }
    let key = match header("Sec-WebSocket-Key") {
        Some(key) if is_valid_key(key) => key.to_owned(),
        Some(_) => {
            return Err(Refusal::new(
                400,
                "Sec-WebSocket-Key is not 16 bytes in base64",
            ))
        }
        None => return Err(Refusal::new(400, "missing Sec-WebSocket-Key")),
    };
    let Some(host) = header("Host") else {
        return Err(Refusal::new(400, "missing Host"));
    };
    if !origins.allows(header("Origin"), host) {
        return Err(Refusal::new(
            403,
            format!("origin {} is not allowed", header("Origin").unwrap_or("")),
        ));
    }
    Ok(Some(Upgrade {
        target: request.path.unwrap_or("/").to_owned(),
        key,
        rest: buf[head_len..].to_vec(),
    }))
}

/// 16 bytes in base64: 22 characters of the alphabet, then `==`.
fn is_valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Write `101 Switching Protocols`. The connection is a WebSocket after this.
pub fn accept(mut stream: &TcpStream, upgrade: &Upgrade) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(upgrade.key.as_bytes())
    );
    stream.write_all(response.as_bytes())
}

/// Write the refusal, end our side, and read what is left for a moment so the
/// client sees the answer rather than a reset. Errors are ignored: the
/// connection is being dropped either way.
pub fn refuse(mut stream: &TcpStream, refusal: &Refusal) {
    let mut response = format!("HTTP/1.1 {} {}\r\n", refusal.status, refusal.reason);
    for (name, value) in &refusal.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = format!("{}\n", refusal.why);
    response.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    drain(stream, LINGER);
}

/// Read and discard input until the client closes, an error, or `timeout`
/// (and at most 64 KiB): the polite way to end a connection we are done
/// with, since closing a socket with unread input resets it, and a reset can
/// destroy our last answer before the client reads it.
pub fn drain(mut stream: &TcpStream, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut sink = [0u8; 512];
    let mut budget = 64 * 1024usize;
    while budget > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &str) -> String {
        format!(
            "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:12345\r\nUpgrade: websocket\r\n\
             Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
             Sec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    }

    fn policy() -> OriginPolicy {
        OriginPolicy {
            allowed: vec![],
            page_port: 8080,
        }
    }

    fn status(req: &str) -> u16 {
        match parse(req.as_bytes(), &policy()) {
            Ok(Some(_)) => 101,
            Ok(None) => 0,
            Err(r) => r.status,
        }
    }

    #[test]
    fn a_valid_upgrade_is_accepted_and_keeps_early_bytes() {
        let mut req = request("").into_bytes();
        req.extend_from_slice(b"\x81");
        let up = parse(&req, &policy()).unwrap().unwrap();
        assert_eq!(up.rest, b"\x81");
        // RFC 6455 section 1.3's example.
        assert_eq!(
            derive_accept_key(up.key.as_bytes()),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn partial_heads_wait_for_more() {
        assert_eq!(status("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
    }

    #[test]
    fn bad_requests_get_the_right_status() {
        assert_eq!(status("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 426);
        assert_eq!(status("\x16\x03\x01garbage\r\n\r\n"), 400);
        assert_eq!(status(&request("").replace("HTTP/1.1", "HTTP/1.0")), 400);
        assert_eq!(
            status(&request("").replace("Sec-WebSocket-Key: ", "X-Key: ")),
            400
        );
        assert_eq!(status(&request("").replace(KEY, "short")), 400);
        assert_eq!(
            status(&request("").replace("Version: 13", "Version: 8")),
            426
        );
        assert_eq!(
            status(&request("").replace("Connection: keep-alive, Upgrade", "Connection: close")),
            400
        );
        let many: String = (0..60).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(status(&request(&many)), 431);
    }

    #[test]
    fn wrong_version_names_the_supported_one() {
        let req = request("").replace("Version: 13", "Version: 8");
        let refusal = parse(req.as_bytes(), &policy()).unwrap_err();
        assert!(refusal.headers.contains(&("Sec-WebSocket-Version", "13")));
    }

    #[test]
    fn origins() {
        let p = policy();
        assert!(p.allows(None, "127.0.0.1:12345"));
        assert!(p.allows(Some("http://127.0.0.1:8080"), "127.0.0.1:12345"));
        assert!(p.allows(Some("http://LOCALHOST:8080"), "localhost:12345"));
        assert!(p.allows(Some("http://[::1]:8080"), "[::1]:12345"));
        assert!(!p.allows(Some("http://evil.example:8080"), "127.0.0.1:12345"));
        assert!(!p.allows(Some("http://127.0.0.1:9999"), "127.0.0.1:12345"));
        assert!(!p.allows(Some("null"), "127.0.0.1:12345"));
        assert!(!p.allows(Some("http://127.0.0.1"), "127.0.0.1:12345"));
        let on_80 = OriginPolicy {
            allowed: vec![],
            page_port: 80,
        };
        assert!(on_80.allows(Some("http://chat.school"), "chat.school:12345"));
        let listed = OriginPolicy {
            allowed: vec!["https://chat.example".into()],
            page_port: 8080,
        };
        assert!(listed.allows(Some("https://chat.example"), "10.0.0.1:12345"));
        assert!(!listed.allows(Some("https://other.example"), "10.0.0.1:12345"));
        let any = OriginPolicy {
            allowed: vec!["*".into()],
            page_port: 8080,
        };
        assert!(any.allows(Some("http://evil.example"), "127.0.0.1:12345"));
    }

    #[test]
    fn a_forbidden_origin_gets_403() {
        let req = request("Origin: http://evil.example\r\n");
        assert_eq!(status(&req), 403);
    }
}
