//! The page server (the seed's `client-server`): tiny_http serves
//! `web/index.html`, embedded in the binary, at `/`.
//!
//! Runs on one supervisor thread, `page`, which answers requests and restarts
//! tiny_http whenever its accept thread ends. Two tiny_http gaps are closed
//! here:
//! - it has no socket timeouts, so a slow or idle connection could hold a
//!   thread forever. Linux copies a listening socket's `SO_RCVTIMEO` and
//!   `SO_SNDTIMEO` to each accepted socket, so we set them on the listener
//!   and every page connection inherits them.
//! - its accept thread ends on any accept error (tiny-http issue 283), and
//!   with a receive timeout on the listener an idle `accept` is one of those.
//!   So the supervisor treats an error from `recv` as "the accept thread has
//!   ended" and starts a new tiny_http on the same listener. Connections that
//!   arrive meanwhile wait in the listener's backlog; none is lost.
//!   Connections the old tiny_http accepted live on (keep-alive) and put
//!   their next requests in the old one's queue, so the supervisor keeps
//!   polling retired instances until they have been quiet for two page
//!   timeouts, by when each of their connections has timed out.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Request, Response, StatusCode};

/// The page, with `{{WS_PORT}}` and `{{MAX_MESSAGE_BYTES}}` to fill in.
const INDEX_HTML: &str = include_str!("../web/index.html");
/// How often the supervisor looks at its stop flag while no request comes.
const POLL: Duration = Duration::from_millis(200);
/// Pause before restarting after a real accept error (EMFILE and the like),
/// so a persistent error does not spin.
const RESTART_PAUSE: Duration = Duration::from_millis(100);

/// The running page server. Stops on [`PageServer::stop`] or drop.
pub struct PageServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The page as served: the chat's port and message limit filled in, so the
/// page needs no request of its own to find the chat.
pub fn render(ws_port: u16, max_message_bytes: usize) -> String {
    INDEX_HTML
        .replace("{{WS_PORT}}", &ws_port.to_string())
        .replace("{{MAX_MESSAGE_BYTES}}", &max_message_bytes.to_string())
}

impl PageServer {
    /// Serve the page on `listener` from a new `page` thread.
    pub fn start(listener: TcpListener, html: String, timeout: Duration) -> io::Result<PageServer> {
        set_inherited_timeouts(&listener, timeout)?;
        let page = Arc::new(Page { html });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("page".into())
                .spawn(move || supervise(&listener, &page, timeout, &stop))?
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

/// The `page` thread: run tiny_http on the listener, and run it again each
/// time its accept thread ends, until told to stop.
fn supervise(listener: &TcpListener, page: &Page, timeout: Duration, stop: &AtomicBool) {
    // Instances whose accept thread has ended, with when each last brought
    // a request. Dropping one at once would lose (answer 500, late) the
    // next request on each of its keep-alive connections.
    let mut retired: Vec<(tiny_http::Server, Instant)> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        let server = match listener
            .try_clone()
            .map_err(|e| e.to_string())
            .and_then(|l| tiny_http::Server::from_listener(l, None).map_err(|e| e.to_string()))
        {
            Ok(server) => server,
            Err(e) => {
                log::error!("page: could not start serving: {e}; retrying");
                thread::sleep(RESTART_PAUSE);
                serve_retired(&mut retired, page, timeout);
                continue;
            }
        };
        let mut heard = Instant::now();
        while !stop.load(Ordering::Acquire) {
            let received = server.recv_timeout(POLL);
            serve_retired(&mut retired, page, timeout);
            match received {
                Ok(Some(request)) => {
                    heard = Instant::now();
                    page.answer(request);
                }
                // An idle accept thread reports its timeout after one page
                // timeout; silence for three means it died without a word
                // (tiny_http's accept thread panics if it cannot start a
                // connection thread).
                Ok(None) if heard.elapsed() > timeout * 3 => {
                    log::warn!("page: the accept thread went silent; starting a new one");
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    // The accept thread has ended; its error says why.
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) {
                        log::trace!("page: no connection for a while, renewing the accept thread");
                    } else {
                        log::warn!("page: accept failed: {e}; restarting");
                        thread::sleep(RESTART_PAUSE);
                    }
                    break;
                }
            }
        }
        retired.push((server, Instant::now()));
    }
    log::debug!("page: stopped");
}

/// Answer what retired instances' connections still bring, and let go of
/// those quiet for two page timeouts (their connections have all timed out).
fn serve_retired(retired: &mut Vec<(tiny_http::Server, Instant)>, page: &Page, timeout: Duration) {
    for (server, last) in retired.iter_mut() {
        while let Ok(Some(request)) = server.try_recv() {
            *last = Instant::now();
            page.answer(request);
        }
    }
    retired.retain(|(_, last)| last.elapsed() < timeout * 2);
}

struct Page {
    html: String,
}

impl Page {
    fn answer(&self, request: Request) {
        let path = request.url().split(['?', '#']).next().unwrap_or("");
        let response = match (path, request.method()) {
            ("/" | "/index.html", Method::Get | Method::Head) => {
                Response::from_string(self.html.clone())
                    .with_header(header("Content-Type", "text/html; charset=utf-8"))
                    .with_header(header("Cache-Control", "no-cache"))
                    .with_header(header("X-Content-Type-Options", "nosniff"))
                    .with_header(header("Referrer-Policy", "no-referrer"))
            }
            ("/" | "/index.html", _) => {
                text(405, "method not allowed\n").with_header(header("Allow", "GET, HEAD"))
            }
            _ => text(404, "not found\n"),
        };
        crate::metrics::page_request(response.status_code().0);
        log::debug!(
            "page: {} {} -> {}",
            request.method(),
            request.url(),
            response.status_code().0
        );
        if let Err(e) = request.respond(response) {
            log::debug!("page: could not answer: {e}");
        }
    }
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

/// Set `SO_RCVTIMEO` and `SO_SNDTIMEO` on the listener: accepted sockets
/// inherit them (Linux), and tiny_http has no timeouts of its own.
fn set_inherited_timeouts(listener: &TcpListener, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    for option in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: the fd is a live socket owned by `listener`; we pass a
        // pointer to a timeval and its exact size.
        let rc = unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_gets_the_port_and_opens_a_websocket() {
        let html = render(4242, 1234);
        assert!(!html.contains("{{"));
        assert!(html.contains("content=\"4242\""));
        assert!(html.contains("content=\"1234\""));
        assert!(html.contains("WebSocket"));
    }
}
