use ascii::AsciiString;

use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{BufReader, BufWriter, ErrorKind, Read};

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::common::{HTTPVersion, Method};
use crate::util::RefinedTcpStream;
use crate::util::{SequentialReader, SequentialReaderBuilder, SequentialWriterBuilder};
use crate::{Bounds, Request};

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // sequence of Readers to the stream, so that the data is not read in
    //  the wrong order
    source: SequentialReaderBuilder<BufReader<RefinedTcpStream>>,

    // sequence of Writers to the stream, to avoid writing response #2 before
    //  response #1
    sink: SequentialWriterBuilder<BufWriter<RefinedTcpStream>>,

    // Reader to read the next header from
    next_header_source: SequentialReader<BufReader<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // true if the connection goes through SSL
    secure: bool,

    // PATCH: the head limits, and the deadline the read stream obeys
    bounds: Option<Bounds>,
    deadline: Arc<Mutex<Option<Instant>>>,
}

/// Error that can happen when reading a request.
#[derive(Debug)]
enum ReadError {
    WrongRequestLine,
    WrongHeader(HTTPVersion),
    /// the client sent an unrecognized `Expect` header
    ExpectationFailed(HTTPVersion),
    ReadIoError(IoError),
    /// PATCH: a head we answer with this status and close (414, 431, 400,
    /// 505, 408), with a one-line reason for the body.
    Refused(u16, &'static str),
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(write_socket: RefinedTcpStream, read_socket: RefinedTcpStream) -> ClientConnection {
        Self::new_bounded(write_socket, read_socket, None)
    }

    /// PATCH: a connection whose request heads are read within `bounds`.
    pub fn new_bounded(
        write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
        bounds: Option<Bounds>,
    ) -> ClientConnection {
        let deadline = Arc::new(Mutex::new(None));
        if bounds.is_some() {
            read_socket.set_deadline(deadline.clone());
        }
        let remote_addr = read_socket.peer_addr();
        let secure = read_socket.secure();

        let mut source = SequentialReaderBuilder::new(BufReader::with_capacity(1024, read_socket));
        let first_header = source.next().unwrap();

        ClientConnection {
            source,
            sink: SequentialWriterBuilder::new(BufWriter::with_capacity(1024, write_socket)),
            remote_addr,
            next_header_source: first_header,
            no_more_requests: false,
            secure,
            bounds,
            deadline,
        }
    }

    /// PATCH: read one request head within the bounds: at most
    /// `max_head_bytes` (414 if the request line alone is longer, else 431),
    /// all of it before the deadline (408 if it had begun, else a quiet
    /// close: an idle keep-alive connection), parsed by httparse (400, or 505
    /// for a version other than HTTP/1.x).
    fn read_bounded(
        &mut self,
        bounds: &Bounds,
    ) -> Result<(Method, String, HTTPVersion, Vec<crate::Header>), ReadError> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + bounds.head_timeout);
        let mut head = Vec::with_capacity(512);
        let mut line_start = 0usize;
        let mut skipped = 0usize;
        let mut byte = [0u8];
        loop {
            match self.next_header_source.read(&mut byte) {
                // A head cut short by the client's FIN still gets an answer.
                Ok(0) if !head.is_empty() => {
                    return Err(ReadError::Refused(400, "the request head ended early"))
                }
                Ok(0) => {
                    return Err(ReadError::ReadIoError(IoError::new(
                        ErrorKind::ConnectionAborted,
                        "Unexpected EOF",
                    )))
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::TimedOut && !head.is_empty() => {
                    return Err(ReadError::Refused(408, "the request head came too slowly"))
                }
                Err(e) => return Err(ReadError::ReadIoError(e)),
            }
            // Empty lines before the request line are skipped (RFC 9112
            // section 2.2), but count towards the size limit, as on the
            // chat port.
            if head.is_empty() && (byte[0] == b'\r' || byte[0] == b'\n') {
                skipped += 1;
                if skipped > bounds.max_head_bytes {
                    return Err(ReadError::Refused(400, "only empty lines"));
                }
                continue;
            }
            head.push(byte[0]);
            if skipped + head.len() > bounds.max_head_bytes {
                return Err(if line_start > 0 {
                    ReadError::Refused(431, "request head too large")
                } else {
                    ReadError::Refused(414, "request line too long")
                });
            }
            // A request line that cannot be one (a TLS hello, binary) is
            // answered at once, not at the deadline.
            if head.len() == 1 && !is_tchar(byte[0]) {
                return Err(ReadError::Refused(400, "malformed request"));
            }
            // Each line is checked as it ends: a bad line (an HTTP/0.9
            // request line, a NUL) is answered at once, and a complete head
            // ends the loop.
            if byte[0] == b'\n' {
                line_start = head.len();
                let mut fields = vec![httparse::EMPTY_HEADER; bounds.max_headers];
                if let httparse::Status::Complete(_) = parse_status(&head, &mut fields)? {
                    break;
                }
            }
        }
        let mut fields = vec![httparse::EMPTY_HEADER; bounds.max_headers];
        let mut request = httparse::Request::new(&mut fields);
        if request.parse(&head).is_err() {
            return Err(ReadError::Refused(400, "malformed request"));
        }
        content_framing(request.headers, request.version.unwrap_or(1))?;
        let method = request
            .method
            .and_then(|m| m.parse().ok())
            .ok_or(ReadError::Refused(400, "malformed request"))?;
        let path = request.path.unwrap_or("/").to_owned();
        let version = HTTPVersion(1, request.version.unwrap_or(1));
        // tiny_http's header values are ASCII; a value may carry obs-text
        // (RFC 9110 section 5.5), which becomes `?` here.
        let headers = request
            .headers
            .iter()
            .filter_map(|h| {
                let value: Vec<u8> = h
                    .value
                    .iter()
                    .map(|&b| if b.is_ascii() { b } else { b'?' })
                    .collect();
                let value = String::from_utf8_lossy(&value).trim().to_owned();
                crate::Header::from_bytes(h.name.as_bytes(), value.as_bytes()).ok()
            })
            .collect();
        Ok((method, path, version, headers))
    }

    /// PATCH: answer a refused head with a complete response (length, type,
    /// `Connection: close`), then read and drop what the client still sends
    /// for a moment (at most 64 KiB, half a second), so that closing does
    /// not reset the connection before the client has read the answer.
    fn refuse(&mut self, status: u16, why: &str) {
        use std::io::Write;
        let reason = match status {
            400 => "Bad Request",
            408 => "Request Timeout",
            413 => "Content Too Large",
            414 => "URI Too Long",
            431 => "Request Header Fields Too Large",
            501 => "Not Implemented",
            505 => "HTTP Version Not Supported",
            _ => "Error",
        };
        let body = format!("{why}\n");
        let mut writer = self.sink.next().unwrap();
        let _ = write!(
            writer,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = writer.flush();
        drop(writer);
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + std::time::Duration::from_millis(500));
        let mut sink = [0u8; 4096];
        let mut budget = 64 * 1024usize;
        while budget > 0 {
            match self.next_header_source.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => budget = budget.saturating_sub(n),
            }
        }
    }

    /// true if the connection is HTTPS
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Reads the next line from self.next_header_source.
    ///
    /// Reads until `CRLF` is reached. The next read will start
    ///  at the first byte of the new line.
    fn read_next_line(&mut self) -> IoResult<AsciiString> {
        let mut buf = Vec::new();
        let mut prev_byte_was_cr = false;

        loop {
            let byte = self.next_header_source.by_ref().bytes().next();

            let byte = match byte {
                Some(b) => b?,
                None => return Err(IoError::new(ErrorKind::ConnectionAborted, "Unexpected EOF")),
            };

            if byte == b'\n' && prev_byte_was_cr {
                buf.pop(); // removing the '\r'
                return AsciiString::from_ascii(buf)
                    .map_err(|_| IoError::new(ErrorKind::InvalidInput, "Header is not in ASCII"));
            }

            prev_byte_was_cr = byte == b'\r';

            buf.push(byte);
        }
    }

    /// Reads a request from the stream.
    /// Blocks until the header has been read.
    fn read(&mut self) -> Result<Request, ReadError> {
        let (method, path, version, headers) = if let Some(bounds) = self.bounds.clone() {
            self.read_bounded(&bounds)?
        } else {
            // reading the request line
            let (method, path, version) = {
                let line = self.read_next_line().map_err(ReadError::ReadIoError)?;

                parse_request_line(
                    line.as_str().trim(), // TODO: remove this conversion
                )?
            };

            // getting all headers
            let headers = {
                let mut headers = Vec::new();
                loop {
                    let line = self.read_next_line().map_err(ReadError::ReadIoError)?;

                    if line.is_empty() {
                        break;
                    };
                    headers.push(match FromStr::from_str(line.as_str().trim()) {
                        // TODO: remove this conversion
                        Ok(h) => h,
                        _ => return Err(ReadError::WrongHeader(version)),
                    });
                }

                headers
            };

            (method, path, version, headers)
        };

        // building the writer for the request
        let writer = self.sink.next().unwrap();

        // follow-up for next potential request
        let mut data_source = self.source.next().unwrap();
        std::mem::swap(&mut self.next_header_source, &mut data_source);

        // building the next reader
        let request = crate::request::new_request(
            self.secure,
            method,
            path,
            version.clone(),
            headers,
            *self.remote_addr.as_ref().unwrap(),
            data_source,
            writer,
        )
        .map_err(|e| {
            use crate::request;
            match e {
                request::RequestCreationError::CreationIoError(e) => ReadError::ReadIoError(e),
                request::RequestCreationError::ExpectationFailed => {
                    ReadError::ExpectationFailed(version)
                }
            }
        })?;

        // PATCH: in bounded mode the content is read here, within the
        // deadline and the size limit, not by the thread that answers (a
        // slow body held up every page answer). An upgrade's "content" is
        // the rest of the stream; that connection ends after its answer.
        let mut request = request;
        let upgrade = request.headers().iter().any(|h| {
            h.field.equiv("Connection")
                && h.value
                    .as_str()
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        });
        if self.bounds.is_some() && !upgrade {
            match request.read_content(MAX_CONTENT_LENGTH) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ReadError::Refused(413, "the page takes no content this large"))
                }
                Err(e) if e.kind() == ErrorKind::TimedOut => {
                    return Err(ReadError::Refused(408, "the request content came too slowly"))
                }
                Err(e) if e.kind() == ErrorKind::InvalidInput || e.kind() == ErrorKind::InvalidData => {
                    return Err(ReadError::Refused(400, "malformed chunked content"))
                }
                Err(e) => return Err(ReadError::ReadIoError(e)),
            }
        }

        // return the request
        Ok(request)
    }
}

impl Iterator for ClientConnection {
    type Item = Request;

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    fn next(&mut self) -> Option<Request> {
        use crate::{Response, StatusCode};

        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.no_more_requests {
            return None;
        }

        loop {
            let rq = match self.read() {
                Err(ReadError::Refused(status, why)) => {
                    self.refuse(status, why);
                    return None;
                }
                Err(ReadError::WrongRequestLine) => {
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(400));
                    response
                        .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                        .ok();
                    return None; // we don't know where the next request would start,
                                 // se we have to close
                }

                Err(ReadError::WrongHeader(ver)) => {
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(400));
                    response.raw_print(writer, ver, &[], false, None).ok();
                    return None; // we don't know where the next request would start,
                                 // se we have to close
                }

                Err(ReadError::ReadIoError(ref err)) if err.kind() == ErrorKind::TimedOut => {
                    // request timeout
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(408));
                    response
                        .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                        .ok();
                    return None; // closing the connection
                }

                Err(ReadError::ExpectationFailed(ver)) => {
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(417));
                    response.raw_print(writer, ver, &[], true, None).ok();
                    return None; // TODO: should be recoverable, but needs handling in case of body
                }

                Err(ReadError::ReadIoError(_)) => return None,

                Ok(rq) => rq,
            };

            // checking HTTP version
            if *rq.http_version() > (1, 1) {
                let writer = self.sink.next().unwrap();
                let response = Response::from_string(
                    "This server only supports HTTP versions 1.0 and 1.1".to_owned(),
                )
                .with_status_code(StatusCode(505));
                response
                    .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                    .ok();
                continue;
            }

            // updating the status of the connection
            // PATCH: see `Request::ends_connection`.
            if rq.ends_connection() {
                self.no_more_requests = true;
            }

            // returning the request
            return Some(rq);
        }
    }
}

/// PATCH: httparse's verdict on a (partial) head, as the status to refuse
/// it with.
fn parse_status<'h>(
    head: &'h [u8],
    fields: &mut [httparse::Header<'h>],
) -> Result<httparse::Status<usize>, ReadError> {
    match httparse::Request::new(fields).parse(head) {
        Ok(status) => Ok(status),
        Err(httparse::Error::TooManyHeaders) => {
            Err(ReadError::Refused(431, "too many header lines"))
        }
        Err(httparse::Error::Version) => Err(ReadError::Refused(
            505,
            "this server speaks HTTP/1.0 and HTTP/1.1",
        )),
        Err(_) => Err(ReadError::Refused(400, "malformed request")),
    }
}

/// PATCH: a token character (RFC 9110 section 5.6.2), what a method starts with.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// PATCH: most content a request may announce (`Content-Length`); the page
/// takes none, so this only bounds what is read and dropped. Over it: 413.
pub(crate) const MAX_CONTENT_LENGTH: u64 = 64 * 1024;

/// PATCH: refuse a request whose content length cannot be known for sure
/// (RFC 9112 section 6.3), the shapes of request smuggling: a repeated or
/// non-numeric `Content-Length` (400), one over [`MAX_CONTENT_LENGTH`]
/// (413), `Transfer-Encoding` with `Content-Length` or in HTTP/1.0 (400,
/// section 6.1), or whose final coding is not `chunked` (400); a coding
/// other than `chunked` is not implemented (501). The connection is closed.
fn content_framing(headers: &[httparse::Header<'_>], minor: u8) -> Result<(), ReadError> {
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let lengths: Vec<String> = named("Content-Length").collect();
    let codings: Vec<String> = named("Transfer-Encoding")
        .flat_map(|v| v.split(',').map(|c| c.trim().to_owned()).collect::<Vec<_>>())
        .filter(|c| !c.is_empty())
        .collect();
    let bad = |why| Err(ReadError::Refused(400, why));
    if named("Transfer-Encoding").next().is_some() {
        if minor == 0 {
            return bad("Transfer-Encoding in an HTTP/1.0 request");
        }
        if !lengths.is_empty() {
            return bad("both Content-Length and Transfer-Encoding");
        }
        if codings.last().map(String::as_str) != Some("chunked") {
            return bad("the final transfer coding must be chunked");
        }
        if codings.len() > 1 {
            return Err(ReadError::Refused(501, "only the chunked transfer coding is implemented"));
        }
        return Ok(());
    }
    match lengths.as_slice() {
        [] => Ok(()),
        [one] if !one.is_empty() && one.bytes().all(|b| b.is_ascii_digit()) => {
            match one.parse::<u64>() {
                Ok(n) if n <= MAX_CONTENT_LENGTH => Ok(()),
                _ => Err(ReadError::Refused(413, "the page takes no content this large")),
            }
        }
        [_] => bad("Content-Length is not a number"),
        _ => bad("Content-Length appears more than once"),
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ReadError> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => return Err(ReadError::WrongRequestLine),
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ReadError> {
    let mut parts = line.split(' ');

    let method = parts.next().and_then(|w| w.parse().ok());
    let path = parts.next().map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());

    method
        .and_then(|method| Some((method, path?, version?)))
        .ok_or(ReadError::WrongRequestLine)
}

#[cfg(test)]
mod test {
    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}
