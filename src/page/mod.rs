//! The page server (the seed's `client-server`): tiny_http serves
//! `web/index.html`, embedded in the binary, at `/` and at each room's
//! `/NAME` (the page reads its room from its own path), and, for a room,
//! `/NAME/transcript.EXT` (`transcript`) and `/NAME/qr.svg` (`qr`).
//!
//! tiny_http 0.12.0 has no bound on a request head's size or time and
//! starts a thread for every connection; this crate uses a patched copy
//! (`vendor/tiny_http`, what differs in its `PATCHES.md`) whose
//! `from_listener_bounded` reads each head within [`MAX_HEAD_BYTES`] and
//! the page timeout, and serves at most `--page-connections` connections at
//! once, one thread each (`page-conn`); past that a connection gets 503
//! with `Retry-After: 1` at once (a wait would hold up the accept loop, and
//! with it every connection behind). Heads it refuses (414, 431,
//! 400, 505, 408) it answers itself. One `page` thread takes the parsed
//! requests from tiny_http's queue and answers them here.

use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, StatusCode};

use crossbeam_channel::Sender;

use crate::http::head::{is_path_or_absolute, is_valid_host, MAX_FIELDS, MAX_HEAD_BYTES};

pub mod qr;
pub mod transcript;

use crate::broadcaster::Input;
use crate::health;
use crate::metrics;
use crate::protocol::log_safe;
use crate::room::path::RoomName;
use qr::Qr;
use transcript::Transcripts;

/// The page, with the placeholders its opening comment lists to fill in.
const INDEX_HTML: &str = include_str!("../../web/index.html");
/// How often the page thread looks at its stop flag while no request comes.
const POLL: Duration = Duration::from_millis(200);

/// The running page server. Stops on [`PageServer::stop`] or drop.
pub struct PageServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The page as served: the chat's port, the page's own port, the message
/// limit and the public URL (`""` when not set) filled in, so the page needs
/// no request of its own to find the chat (a page opened on another port
/// than `page_port` is behind a proxy).
pub fn render(ws_port: u16, page_port: u16, max_message_bytes: usize, public_url: &str) -> String {
    INDEX_HTML
        .replace("{{WS_PORT}}", &ws_port.to_string())
        .replace("{{PAGE_PORT}}", &page_port.to_string())
        .replace("{{MAX_MESSAGE_BYTES}}", &max_message_bytes.to_string())
        .replace("{{PUBLIC_URL}}", &attribute_text(public_url))
}

/// `text` safe inside a double-quoted HTML attribute.
fn attribute_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl PageServer {
    /// Serve the page on `listener` from a new `page` thread: each request
    /// head read within `head_timeout` (`--page-timeout`), at most
    /// `connections` at once (`--page-connections`), with `/healthz`
    /// asking `room` whether it answers.
    ///
    /// # Errors
    /// The page thread or tiny_http's accept thread could not be started.
    pub fn start(
        listener: TcpListener,
        html: String,
        head_timeout: Duration,
        connections: usize,
        room: Sender<Input>,
        transcripts: Transcripts,
        qr: Qr,
    ) -> io::Result<PageServer> {
        let server = tiny_http::Server::from_listener_bounded(
            listener,
            tiny_http::Bounds {
                max_head_bytes: MAX_HEAD_BYTES,
                max_headers: MAX_FIELDS,
                head_timeout,
                max_connections: connections,
            },
        )?;
        let page = Page::new(html, room, transcripts, qr);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("page".into())
                .spawn(move || serve(&server, &page, &stop))?
        };
        Ok(PageServer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stop serving and join the thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("page: thread panicked");
            }
        }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `page` thread: answer what tiny_http parsed, until told to stop.
/// Dropping `server` at the end stops its accept thread.
fn serve(server: &tiny_http::Server, page: &Page, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        match server.recv_timeout(POLL) {
            Ok(Some(request)) => page.answer(request),
            Ok(None) => {}
            Err(e) => log::warn!("page: {e}"),
        }
    }
    log::debug!("page: stopped");
}

struct Page {
    html: String,
    /// For `/healthz`'s ping; received by the room thread.
    room: Sender<Input>,
    /// The page's entity tag (RFC 9110 section 8.8.3), a hash of its bytes:
    /// a browser revalidating (`Cache-Control: no-cache`) gets 304.
    etag: String,
    /// The transcript routes' database and key.
    transcripts: Transcripts,
    /// The QR route's public URL and key.
    qr: Qr,
}

impl Page {
    fn new(html: String, room: Sender<Input>, transcripts: Transcripts, qr: Qr) -> Page {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        html.hash(&mut hasher);
        let etag = format!("\"{:016x}\"", hasher.finish());
        Page {
            html,
            room,
            etag,
            transcripts,
            qr,
        }
    }

    /// The status a precondition of a GET or HEAD of the page calls for
    /// (RFC 9110 section 13.2.2): 412 when `If-Match` names neither `*` nor
    /// our tag (strong comparison), 304 when `If-None-Match` names `*` or
    /// our tag (weak comparison); `None`: serve the page. Dates
    /// (`If-Modified-Since`, `If-Unmodified-Since`) are ignored: the page
    /// has no modification date (section 13.1.3). `Range` is ignored too
    /// (section 14.2 allows it): the page is small.
    fn precondition(&self, request: &Request) -> Option<u16> {
        let tags = |name: &'static str| {
            let mut lines = request
                .headers()
                .iter()
                .filter(move |h| h.field.equiv(name))
                .peekable();
            lines.peek()?;
            let tags: Vec<String> = lines
                .flat_map(|h| h.value.as_str().split(','))
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            Some(tags)
        };
        if let Some(tags) = tags("If-Match") {
            if !tags.iter().any(|t| t == "*" || *t == self.etag) {
                return Some(412);
            }
        }
        let weak = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_owned();
        if let Some(tags) = tags("If-None-Match") {
            if tags.iter().any(|t| t == "*" || weak(t) == self.etag) {
                return Some(304);
            }
        }
        None
    }

    fn answer(&self, request: Request) {
        if request.method() == &Method::Get {
            if let Some((room, format)) = transcript::route(path(request.url())) {
                return transcript::answer(request, room, format, &self.transcripts);
            }
            if let Some(room) = qr::route(path(request.url())) {
                return qr::answer(request, room, &self.qr);
            }
        }
        let response = self.response(&request);
        metrics::page_request(response.status_code().0);
        // The method and target are the client's bytes (`log_safe`).
        log::debug!(
            "page: {} {} -> {}",
            log_safe(&request.method().to_string()),
            log_safe(request.url()),
            response.status_code().0
        );
        if let Err(e) = request.respond(response) {
            log::debug!("page: could not answer: {e}");
        }
    }

    /// The answer to one parsed request (RFC 9110: 400 for a missing or
    /// repeated Host in HTTP/1.1, 404 with no resource, 405 with `Allow`
    /// for a known method the page does not take, 501 for an unknown one).
    fn response(&self, request: &Request) -> Response<io::Cursor<Vec<u8>>> {
        let hosts = request
            .headers()
            .iter()
            .filter(|h| h.field.equiv("Host"))
            .count();
        if hosts > 1 || (hosts == 0 && request.http_version() == &tiny_http::HTTPVersion(1, 1)) {
            return text(400, "an HTTP/1.1 request needs exactly one Host\n");
        }
        let host = request.headers().iter().find(|h| h.field.equiv("Host"));
        if host.is_some_and(|h| !is_valid_host(h.value.as_str())) {
            return text(400, "invalid Host\n");
        }
        let options_star = request.method() == &Method::Options && request.url() == "*";
        if !is_path_or_absolute(request.url()) && !options_star {
            return text(400, "the request target must be a path\n");
        }
        let path = path(request.url());
        let get = matches!(request.method(), Method::Get | Method::Head);
        // The operators' paths (`/healthz`, `/metrics`), before any page.
        if let Some(answer) = get.then(|| health::answer(path, &self.room)).flatten() {
            return Response::from_string(answer.body)
                .with_status_code(StatusCode(answer.status))
                .with_header(header("Content-Type", answer.content_type))
                .with_header(header("Cache-Control", "no-store"));
        }
        let page = matches!(path, "/" | "/index.html") || is_room_path(path);
        match request.method() {
            Method::Get | Method::Head if page => {
                let response = match self.precondition(request) {
                    Some(412) => return text(412, "precondition failed\n"),
                    // A 304 carries the fields a 200 would (section 15.4.5),
                    // its length included (section 8.6), and no content.
                    Some(status) => Response::new(
                        StatusCode(status),
                        Vec::new(),
                        io::Cursor::new(Vec::new()),
                        Some(self.html.len()),
                        None,
                    ),
                    None => Response::from_string(self.html.clone())
                        .with_header(header("Content-Type", "text/html; charset=utf-8")),
                };
                let etag = Header::from_bytes("ETag", self.etag.as_bytes());
                // The page's length, never chunks (tiny_http chunks bodies
                // over 32 KiB, and the page is over that).
                response
                    .with_chunked_threshold(usize::MAX)
                    .with_header(etag.expect("a hex tag is a valid header"))
                    .with_header(header("Cache-Control", "no-cache"))
                    .with_header(header("X-Content-Type-Options", "nosniff"))
                    .with_header(header("Referrer-Policy", "no-referrer"))
            }
            Method::NonStandard(_) => text(501, "method not implemented\n"),
            _ if page => {
                text(405, "method not allowed\n").with_header(header("Allow", "GET, HEAD"))
            }
            _ => text(404, "not found\n"),
        }
    }
}

/// The path of a request target: origin-form (`/a?b`) or absolute-form
/// (`http://host/a?b`, which RFC 9112 section 3.2.2 says a server accepts).
fn path(target: &str) -> &str {
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    target.split(['?', '#']).next().unwrap_or("")
}

/// `/NAME`, NAME a room name by the chat's own rule: the page
/// for that room.
fn is_room_path(path: &str) -> bool {
    path.strip_prefix('/').and_then(RoomName::parse).is_some()
}

fn text(status: u16, body: &str) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(StatusCode(status))
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn header(name: &'static str, value: &'static str) -> Header {
    // Both strings are constants above, valid ASCII header text.
    Header::from_bytes(name, value).expect("constant header is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_either_form_give_the_path() {
        assert_eq!(path("/?a=b"), "/");
        assert_eq!(path("/index.html#x"), "/index.html");
        assert_eq!(path("http://chat.example"), "/");
        assert_eq!(path("http://chat.example:8080/index.html?x"), "/index.html");
    }

    #[test]
    fn the_page_gets_the_port_and_opens_a_websocket() {
        let html = render(4242, 8181, 1234, "https://chat.example.org/?a=1&b=\"2\"");
        assert!(!html.contains("{{"));
        assert!(html.contains("name=\"chat-ws-port\" content=\"4242\""));
        assert!(html.contains("name=\"chat-page-port\" content=\"8181\""));
        assert!(html.contains("name=\"chat-max-message-bytes\" content=\"1234\""));
        assert!(html.contains(
            "name=\"chat-public-url\" content=\"https://chat.example.org/?a=1&amp;b=&quot;2&quot;\""
        ));
        assert!(render(1, 2, 3, "").contains("name=\"chat-public-url\" content=\"\""));
        assert!(html.contains("WebSocket"));
    }
}
