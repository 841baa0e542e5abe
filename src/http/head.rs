//! The bounded request-head reader: reads one HTTP/1.1 request head within
//! a size limit and an overall deadline, and parses it with httparse. Runs
//! on the connection's own thread (the chat port's client thread); the page
//! port's tiny_http applies the same bounds and the same parser
//! (`vendor/tiny_http/src/client.rs`, see its PATCHES.md), so a head one
//! port parses, the other parses too.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A request head larger than this is refused: 414 if the request line
/// alone is longer, else 431. Both ports.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// A head with more header lines than this is refused with 431. Both ports.
pub const MAX_FIELDS: usize = 48;
/// The head is read this many bytes at a time, into a buffer that grows
/// by as much when a head is longer; what is left of the buffer after the
/// head becomes the WebSocket's read buffer (`Limits::read_buffer_bytes`),
/// so a connection allocates one buffer, not two.
pub const HEAD_CHUNK: usize = 512;

/// A parsed request head. Field names and values as sent (values trimmed;
/// bytes that are not UTF-8 replaced), in order, repeated lines kept apart.
///
/// The method, the target and every name and value live in one string,
/// one allocation for the whole head: a reader thread parses it and frees
/// it before its session, and glibc keeps what a thread frees for that
/// thread alone, so many small strings would stay resident per client.
#[derive(Debug, Clone)]
pub struct Head {
    text: String,
    method: Span,
    target: Span,
    /// HTTP/1.x minor version: 0 or 1.
    pub minor_version: u8,
    fields: Vec<(Span, Span)>,
}

/// Where a piece of [`Head`]'s text is: start and end, in bytes.
type Span = (u32, u32);

impl Head {
    fn at(&self, (start, end): Span) -> &str {
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    pub fn method(&self) -> &str {
        self.at(self.method)
    }

    /// The request target as sent: origin-form (`/path?query`) or another form.
    pub fn target(&self) -> &str {
        self.at(self.target)
    }

    /// Every field line, name and value, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(|&(name, value)| (self.at(name), self.at(value)))
    }

    /// Every value of field `name` (case-insensitive), one per field line.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The members of list field `name`: all its lines combined into one
    /// comma-separated list, as RFC 9110 section 5.3 says, empty members
    /// dropped (section 5.6.1).
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|m| !m.is_empty())
    }

    /// Whether list field `name` has member `token` (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name).any(|m| m.eq_ignore_ascii_case(token))
    }

    /// The value of a field that may appear only once.
    ///
    /// # Errors
    /// `Err(name)` when it appears on more than one line.
    pub fn once<'a>(&'a self, name: &'a str) -> Result<Option<&'a str>, &'a str> {
        let mut values = self.values(name);
        let first = values.next();
        match values.next() {
            Some(_) => Err(name),
            None => Ok(first),
        }
    }
}

/// Whether `value` is a valid `Host` field value, `uri-host [":" port]`
/// (RFC 9110 section 7.2, RFC 3986 section 3.2.2): an IP literal in
/// brackets, or a name of unreserved, sub-delims and `%` characters; an
/// empty value is valid. A server must answer an invalid one with 400.
pub fn is_valid_host(value: &str) -> bool {
    let (host_ok, port) = match value.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((ip, rest)) => (
                !ip.is_empty()
                    && ip
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b":.%".contains(&b)),
                rest,
            ),
            None => return false,
        },
        None => {
            let (name, port) = value.find(':').map_or((value, ""), |i| value.split_at(i));
            let name_ok = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b));
            (name_ok, port)
        }
    };
    host_ok
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
}

/// Whether a request target has a form a GET may use (RFC 9112 section
/// 3.2): origin-form (`/path?query`) or absolute-form (`scheme://...`).
/// Anything else (`*`, `host:port`, `index.html`) is answered with 400.
pub fn is_path_or_absolute(target: &str) -> bool {
    target.starts_with('/')
        || target.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
}

/// Why no request head could be had.
#[derive(Debug)]
pub enum ReadFailure {
    /// The head was not complete by the deadline.
    TimedOut,
    /// The client closed before sending a whole head.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// The head is too large or malformed: answer with this status
    /// (400, 414, 431 or 505) and this one-line reason.
    Bad(u16, &'static str),
}

/// Read one request head. Blocks until it is complete, the client goes, or
/// `deadline` passes. Returns the head and the bytes that came after it,
/// in the buffer the head was read into (its capacity kept).
///
/// # Errors
/// See [`ReadFailure`]; reads never go past [`MAX_HEAD_BYTES`] plus one
/// buffer, so memory stays flat however much a client sends.
pub fn read_head(
    mut stream: &TcpStream,
    deadline: Instant,
) -> Result<(Head, Vec<u8>), ReadFailure> {
    // On the heap: this runs on a small thread stack.
    let mut buf = Vec::with_capacity(HEAD_CHUNK);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadFailure::TimedOut);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(ReadFailure::Io)?;
        let filled = buf.len();
        buf.resize(filled + HEAD_CHUNK, 0);
        let read = stream.read(&mut buf[filled..]);
        buf.truncate(filled + *read.as_ref().unwrap_or(&0));
        match read {
            // A head cut short by the client's FIN still gets an answer.
            Ok(0) if buf.iter().any(|b| !matches!(b, b'\r' | b'\n')) => {
                return Err(ReadFailure::Bad(400, "the request head ended early"))
            }
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
        if let Some((head, len)) = parse(&buf)? {
            buf.drain(..len);
            // A long head (a browser's cookies) grew the buffer: it is the
            // read buffer from now on, for the whole session, so give the
            // rest back.
            if buf.capacity() > 2 * HEAD_CHUNK {
                buf.shrink_to(HEAD_CHUNK.max(buf.len()));
            }
            return Ok((head, buf));
        }
    }
}

/// Parse a (possibly partial) head. `Ok(None)`: not complete yet.
///
/// # Errors
/// [`ReadFailure::Bad`] with the status to answer.
pub fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, ReadFailure> {
    // Empty lines before the request line are skipped (RFC 9112 section
    // 2.2), but count towards the limit: else they would pile up unbounded.
    let start = buf
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    if start > MAX_HEAD_BYTES {
        return Err(ReadFailure::Bad(400, "only empty lines"));
    }
    let mut fields = vec![httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(&buf[start..]) {
        Ok(httparse::Status::Complete(n)) if start + n <= MAX_HEAD_BYTES => start + n,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD_BYTES => return Ok(None),
        Ok(_) if !buf[start..].contains(&b'\n') => {
            return Err(ReadFailure::Bad(414, "request line too long"))
        }
        Ok(_) => return Err(ReadFailure::Bad(431, "request head too large")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ReadFailure::Bad(431, "too many header lines"))
        }
        Err(httparse::Error::Version) => {
            return Err(ReadFailure::Bad(
                505,
                "this server speaks HTTP/1.0 and HTTP/1.1",
            ))
        }
        Err(_) => return Err(ReadFailure::Bad(400, "malformed request")),
    };
    // Everything fits in the head's own length (a replaced byte may grow
    // to three, hence the slack).
    let mut text = String::with_capacity(len + 64);
    let mut put = |piece: &str| {
        let start = text.len() as u32;
        text.push_str(piece);
        (start, text.len() as u32)
    };
    let method = put(request.method.unwrap_or_default());
    let target = put(request.path.unwrap_or_default());
    let fields = request
        .headers
        .iter()
        .map(|h| {
            let name = put(h.name);
            let value = put(String::from_utf8_lossy(h.value).trim());
            (name, value)
        })
        .collect();
    let head = Head {
        text,
        method,
        target,
        minor_version: request.version.unwrap_or(1),
        fields,
    };
    Ok(Some((head, len)))
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

    fn status(req: &[u8]) -> u16 {
        match parse(req) {
            Ok(Some(_)) => 200,
            Ok(None) => 0,
            Err(ReadFailure::Bad(status, _)) => status,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn what_follows_the_head_is_kept_in_a_small_buffer() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let cookie = "c".repeat(3000);
        let head = format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n");
        client.write_all(head.as_bytes()).unwrap();
        client.write_all(b"early").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        // The early bytes may or may not come in the head's last read.
        let (head, rest) = read_head(&server, deadline).unwrap();
        assert_eq!(head.target(), "/");
        assert_eq!(head.values("Cookie").next().map(str::len), Some(3000));
        assert!(rest.is_empty() || rest == b"early", "{rest:?}");
        assert!(rest.capacity() <= 2 * HEAD_CHUNK, "{}", rest.capacity());
    }

    #[test]
    fn partial_heads_wait_and_big_ones_are_refused() {
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n"), 0);
        assert_eq!(status(&[b'a'; MAX_HEAD_BYTES + 1]), 414);
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 1, b'a');
        assert_eq!(status(&big), 431);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    }

    #[test]
    fn hosts_and_targets_follow_the_uri_grammar() {
        for good in ["", "x", "x:", "x:80", "[::1]", "[::1]:8080", "a-b.c_d~"] {
            assert!(is_valid_host(good), "{good}");
        }
        for bad in ["a b", "x/y", "u@x", "[::1", "[]", "[::1]x", "x:8o", "x:1:2"] {
            assert!(!is_valid_host(bad), "{bad}");
        }
        for good in ["/", "/chat?room=a", "ws://x/", "http://x"] {
            assert!(is_path_or_absolute(good), "{good}");
        }
        for bad in ["*", "x:80", "index.html", "?a", "://x", "a b://x"] {
            assert!(!is_path_or_absolute(bad), "{bad}");
        }
    }

    #[test]
    fn list_fields_combine_and_single_fields_do_not() {
        let (head, _) = parse(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: ,Upgrade\r\nHost: a\r\nHost: b\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.has_token("Connection", "upgrade"));
        assert_eq!(head.list("connection").count(), 2);
        assert_eq!(head.once("Host"), Err("Host"));
        assert_eq!(head.once("Origin"), Ok(None));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A well-formed head: request line, fields, the empty line.
        fn a_head() -> impl Strategy<Value = Vec<u8>> {
            let field = ("[A-Za-z][A-Za-z0-9-]{0,12}", "[ -~]{0,24}")
                .prop_map(|(n, v)| format!("{n}: {v}\r\n"));
            (
                "(GET|POST|HEAD|OPTIONS)",
                "/[a-zA-Z0-9/?=&%._-]{0,40}",
                "HTTP/1\\.[01]",
                proptest::collection::vec(field, 0..8),
                "(\r\n){0,2}",
            )
                .prop_map(|(method, target, version, fields, before)| {
                    format!(
                        "{before}{method} {target} {version}\r\n{}\r\n",
                        fields.concat()
                    )
                    .into_bytes()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            /// Any bytes: an answer, never a panic; a refusal is one of
            /// the statuses the reader answers with.
            #[test]
            fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                match parse(&bytes) {
                    Ok(Some((_, len))) => prop_assert!(len <= bytes.len()),
                    Ok(None) => {}
                    Err(ReadFailure::Bad(status, _)) => {
                        prop_assert!(matches!(status, 400 | 414 | 431 | 505))
                    }
                    Err(e) => prop_assert!(false, "{e:?}"),
                }
            }

            /// A head that parses once parses the same from any split into
            /// reads: every earlier read waits, the last gives the head.
            #[test]
            fn any_split_into_reads_parses_the_same(
                head in a_head(),
                early in proptest::collection::vec(any::<u8>(), 0..16),
                cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
            ) {
                let mut bytes = head.clone();
                bytes.extend_from_slice(&early);
                let (whole, len) = parse(&bytes).unwrap().unwrap();
                prop_assert_eq!(len, head.len());
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(head.len())).collect();
                cuts.sort_unstable();
                for cut in cuts {
                    prop_assert!(matches!(parse(&bytes[..cut]), Ok(None)), "cut at {}", cut);
                }
                let (again, len2) = parse(&bytes[..len]).unwrap().unwrap();
                prop_assert_eq!(format!("{again:?}"), format!("{whole:?}"));
                prop_assert_eq!(len2, len);
            }
        }
    }
}
