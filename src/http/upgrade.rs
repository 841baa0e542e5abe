//! The WebSocket opening handshake (RFC 6455, section 4.2), done by hand so
//! that every refusal gets an HTTP answer.
//!
//! tungstenite's server handshake closes the connection without a word when a
//! request is not a valid upgrade; a person poking the port with curl deserves
//! a status line. So this module reads the request head within a deadline,
//! checks it, and writes either `101 Switching Protocols` or a 4xx/5xx answer.
//! Runs on the client's own thread, before it joins the room.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use tungstenite::handshake::derive_accept_key;

use super::head::{self, Head, ReadFailure};
use super::origin::OriginPolicy;

/// After a refusal, how long we read and discard what the client still sends,
/// so that closing the socket does not reset the connection before it has read
/// our answer.
const LINGER: Duration = Duration::from_millis(500);

/// A valid upgrade request.
#[derive(Debug)]
pub struct Upgrade {
    /// `Sec-WebSocket-Key`, to derive the accept key from (checked: 24
    /// bytes of base64).
    key: [u8; 24],
    /// The whole request head, for checks made after the upgrade's own
    /// (rooms, a trusted proxy's headers).
    pub head: Head,
    /// Bytes that came after the request head (frames sent early).
    pub rest: Vec<u8>,
}

impl Upgrade {
    /// The request target, path and query as sent (`/chat?room=a`).
    pub fn target(&self) -> &str {
        self.head.target()
    }

    /// The subprotocols the client offers (`Sec-WebSocket-Protocol`, every
    /// field combined, in order; RFC 6455 section 4.1).
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> + '_ {
        self.head.list("Sec-WebSocket-Protocol")
    }
}

/// An HTTP answer that ends the connection. [`refuse`] adds the fields every
/// refusal carries (`Content-Type`, `Content-Length`, `Connection: close`);
/// the constructors add those the status itself requires (RFC 9110 section 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
    /// Extra header lines, e.g. `("Sec-WebSocket-Version", "13")`.
    pub headers: Vec<(&'static str, String)>,
    /// One line for the body and the log.
    pub why: String,
}

impl Refusal {
    /// A refusal with status `status`, plus the fields RFC 9110 requires
    /// for it: `Allow` on 405 (section 15.5.6), `Upgrade` on 426 (15.5.22),
    /// `Retry-After` on 503 (15.6.4, a SHOULD).
    pub fn new(status: u16, why: impl Into<String>) -> Refusal {
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            414 => "URI Too Long",
            426 => "Upgrade Required",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            _ => "Error",
        };
        let refusal = Refusal {
            status,
            reason,
            headers: Vec::new(),
            why: why.into(),
        };
        match status {
            405 => refusal.with_header("Allow", "GET"),
            426 => refusal
                .with_header("Upgrade", "websocket")
                .with_header("Sec-WebSocket-Version", "13"),
            503 => refusal.with_header("Retry-After", "1"),
            _ => refusal,
        }
    }

    /// Add a header line (e.g. `Retry-After` with another delay).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Refusal {
        self.headers.push((name, value.into()));
        self
    }
}

/// Read the request head and check it. Blocks until the head is complete,
/// the client goes, or `deadline` passes.
///
/// # Errors
/// [`Refused::Read`] when no whole head came, [`Refused::Refused`] with the
/// answer when it is not an upgrade we accept.
pub fn read_upgrade(
    stream: &TcpStream,
    deadline: Instant,
    origins: &OriginPolicy,
) -> Result<Upgrade, Refused> {
    let (head, rest) = head::read_head(stream, deadline).map_err(|e| match e {
        ReadFailure::Bad(status, why) => Refused::Refused(Refusal::new(status, why)),
        other => Refused::Read(other),
    })?;
    check(head, rest, origins).map_err(Refused::Refused)
}

/// Why [`read_upgrade`] has no upgrade.
#[derive(Debug)]
pub enum Refused {
    /// No whole head arrived (timeout, close, socket error).
    Read(ReadFailure),
    /// The head is not an upgrade we accept: answer with this.
    Refused(Refusal),
}

/// Check a request head as RFC 6455 section 4.2.1 says.
///
/// Repeated list fields (`Connection`, `Upgrade`, `Sec-WebSocket-Protocol`,
/// `Sec-WebSocket-Extensions`) combine into one list (RFC 9110 section 5.3);
/// `Host` (RFC 9112 section 3.2), `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version` (RFC 6455 section 11.3) and `Origin` (RFC 6454
/// section 7.3) may appear once: repeated, 400. `Host` must be valid (RFC
/// 9110 section 7.2), the target a path or absolute (RFC 9112 section
/// 3.2), and there is no content.
///
/// # Errors
/// The [`Refusal`] to answer with.
pub fn check(head: Head, rest: Vec<u8>, origins: &OriginPolicy) -> Result<Upgrade, Refusal> {
    if head.method() != "GET" {
        return Err(Refusal::new(405, "a WebSocket handshake is a GET"));
    }
    if head.minor_version != 1 {
        return Err(Refusal::new(400, "a WebSocket handshake needs HTTP/1.1"));
    }
    let once = |name| {
        head.once(name)
            .map_err(|name| Refusal::new(400, format!("{name} appears more than once")))
    };
    let host = once("Host")?;
    let key = once("Sec-WebSocket-Key")?;
    let version = once("Sec-WebSocket-Version")?;
    let origin = once("Origin")?;
    if !head.has_token("Upgrade", "websocket") {
        return Err(Refusal::new(
            426,
            "this port speaks WebSocket; the page is on the page port",
        )
        .with_header("Connection", "Upgrade"));
    }
    if !head.has_token("Connection", "upgrade") {
        return Err(Refusal::new(400, "missing Connection: Upgrade"));
    }
    if version != Some("13") {
        return Err(Refusal::new(
            426,
            "unsupported Sec-WebSocket-Version; this server speaks 13",
        )
        .with_header("Connection", "Upgrade"));
    }
    let key = match key.map(|k| <[u8; 24]>::try_from(k.as_bytes())) {
        Some(Ok(key)) if is_valid_key(&key) => key,
        Some(_) => {
            return Err(Refusal::new(
                400,
                "Sec-WebSocket-Key is not 16 bytes in base64",
            ))
        }
        None => return Err(Refusal::new(400, "missing Sec-WebSocket-Key")),
    };
    let Some(host) = host else {
        return Err(Refusal::new(400, "missing Host"));
    };
    if !head::is_valid_host(host) {
        return Err(Refusal::new(400, "invalid Host"));
    }
    if !head::is_path_or_absolute(head.target()) {
        return Err(Refusal::new(400, "the request target must be a path"));
    }
    // Content before the 101 would be read as frames after it (a smuggling
    // shape): a handshake carries none (RFC 9112 section 6.3).
    if head.values("Transfer-Encoding").next().is_some()
        || head.values("Content-Length").any(|v| v != "0")
    {
        return Err(Refusal::new(
            400,
            "a WebSocket handshake carries no content",
        ));
    }
    if !origins.allows(origin, host) {
        return Err(Refusal::new(
            403,
            format!("origin {} is not allowed", origin.unwrap_or("")),
        ));
    }
    Ok(Upgrade { key, head, rest })
}

fn is_valid_key(b: &[u8; 24]) -> bool {
    b[22..] == *b"=="
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Write `101 Switching Protocols`, with the `subprotocol` selected among
/// those offered, if any (RFC 6455 section 4.2.2: one of the client's, or
/// none). The connection is a WebSocket after this.
pub fn accept(
    mut stream: &TcpStream,
    upgrade: &Upgrade,
    subprotocol: Option<&str>,
) -> io::Result<()> {
    // Written on the stack: a reader frees nothing it would keep (see
    // `Head`).
    let mut buf = [0u8; 256];
    let mut out = io::Cursor::new(&mut buf[..]);
    write!(
        out,
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(&upgrade.key)
    )?;
    if let Some(p) = subprotocol {
        write!(out, "Sec-WebSocket-Protocol: {p}\r\n")?;
    }
    out.write_all(b"\r\n")?;
    let len = usize::try_from(out.position()).unwrap_or(buf.len());
    stream.write_all(&buf[..len])
}

pub fn refuse(mut stream: &TcpStream, refusal: &Refusal) {
    let mut response = format!("HTTP/1.1 {} {}\r\n", refusal.status, refusal.reason);
    let mut connection = "close".to_owned();
    for (name, value) in &refusal.headers {
        if name.eq_ignore_ascii_case("Connection") {
            // One Connection line: its options, then close.
            connection = format!("{value}, close");
        } else {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let body = format!("{}\n", refusal.why);
    response.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        body.len()
    ));
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    head::drain(stream, LINGER);
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &str) -> String {
        format!(
            "GET /chat?room=a HTTP/1.1\r\nHost: 127.0.0.1:12345\r\nUpgrade: websocket\r\n\
             Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
             Sec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    }

    fn checked(req: &[u8]) -> Result<Upgrade, Refusal> {
        let policy = OriginPolicy::new(&[], 8080).unwrap();
        match head::parse(req) {
            Ok(Some((head, len))) => check(head, req[len..].to_vec(), &policy),
            Ok(None) => Err(Refusal::new(0, "partial")),
            Err(ReadFailure::Bad(status, why)) => Err(Refusal::new(status, why)),
            Err(e) => panic!("{e:?}"),
        }
    }

    fn status(req: &str) -> u16 {
        checked(req.as_bytes()).map_or_else(|r| r.status, |_| 101)
    }

    #[test]
    fn a_valid_upgrade_is_accepted_and_keeps_target_and_early_bytes() {
        let mut req = request("").into_bytes();
        req.extend_from_slice(b"\x81");
        let up = checked(&req).unwrap();
        assert_eq!(up.rest, b"\x81");
        assert_eq!(up.target(), "/chat?room=a");
        // RFC 6455 section 1.3's example.
        assert_eq!(derive_accept_key(&up.key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn bad_requests_get_the_right_status() {
        assert_eq!(status("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
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
        assert_eq!(status(&request("Origin: http://evil.example\r\n")), 403);
    }

    #[test]
    fn refusals_carry_the_fields_their_status_requires() {
        let version =
            checked(request("").replace("Version: 13", "Version: 8").as_bytes()).unwrap_err();
        assert!(version
            .headers
            .contains(&("Sec-WebSocket-Version", "13".into())));
        assert!(version.headers.contains(&("Upgrade", "websocket".into())));
        assert!(Refusal::new(405, "")
            .headers
            .contains(&("Allow", "GET".into())));
        assert!(Refusal::new(503, "")
            .headers
            .iter()
            .any(|(n, _)| *n == "Retry-After"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            /// Any head with any fields: an upgrade or a refusal, never a
            /// panic; a refusal's reason is one line (body and log).
            #[test]
            fn never_panics(
                fields in proptest::collection::vec(
                    ("(Host|Upgrade|Connection|Origin|Sec-WebSocket-Key|Sec-WebSocket-Version|Sec-WebSocket-Protocol|Content-Length|X-A)",
                     "[ -~\u{80}-\u{10ffff}]{0,30}"),
                    0..10,
                ),
                target in "[ -~]{0,20}",
            ) {
                let mut req = format!("GET {} HTTP/1.1\r\n", target.replace(' ', "/"));
                for (name, value) in &fields {
                    req.push_str(&format!("{name}: {value}\r\n"));
                }
                req.push_str("\r\n");
                let policy = OriginPolicy::new(&[], 8080).unwrap();
                if let Ok(Some((head, len))) = head::parse(req.as_bytes()) {
                    if let Err(refusal) = check(head, req.as_bytes()[len..].to_vec(), &policy) {
                        prop_assert!(!refusal.why.contains(['\r', '\n']), "{:?}", refusal);
                    }
                }
            }
        }
    }
}
