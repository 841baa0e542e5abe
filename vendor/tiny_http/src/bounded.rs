//! PATCH (not in tiny_http 0.12.0): the accept loop of
//! [`Server::from_listener_bounded`](crate::Server::from_listener_bounded):
//! a counted cap on connection threads, 503 past it, and
//! an accept loop that outlives accept errors.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::client::ClientConnection;
use crate::util::{MessagesQueue, RefinedTcpStream};
use crate::{Bounds, Message};

/// After an accept error (EMFILE and the like), pause this long.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Connections being served.
#[derive(Default)]
struct Places {
    taken: Mutex<usize>,
}

/// One place among `max_connections`, given back on drop.
struct Place(Arc<Places>);

impl Drop for Place {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
    }
}

impl Places {
    fn take(self: &Arc<Self>, max: usize) -> Option<Place> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if *taken >= max {
            return None;
        }
        *taken += 1;
        Some(Place(self.clone()))
    }
}

pub(crate) fn accept_loop(
    listener: &TcpListener,
    bounds: &Bounds,
    close: &AtomicBool,
    messages: &Arc<MessagesQueue<Message>>,
) {
    let places = Arc::new(Places::default());
    while !close.load(Ordering::Relaxed) {
        let sock = match listener.accept() {
            Ok((sock, _)) => sock,
            Err(e) => {
                log::warn!("page: accept failed: {e}; pausing");
                thread::sleep(ACCEPT_PAUSE);
                continue;
            }
        };
        if close.load(Ordering::Relaxed) {
            break;
        }
        let _ = sock.set_write_timeout(Some(bounds.head_timeout));
        let Some(place) = places.take(bounds.max_connections) else {
            busy(sock);
            continue;
        };
        let Ok(spare) = sock.try_clone() else {
            busy(sock);
            continue;
        };
        let (read, write) = RefinedTcpStream::new(crate::connection::Connection::from(sock));
        let client = ClientConnection::new_bounded(write, read, Some(bounds.clone()));
        let messages = messages.clone();
        let spawned = thread::Builder::new()
            .name("page-conn".into())
            .spawn(move || {
                let _place = place;
                for rq in client {
                    messages.push(rq.into());
                }
            });
        match spawned {
            Ok(_) => drop(spare),
            Err(_) => busy(spare),
        }
    }
}

/// 503, on a connection we have no place or thread for. The answer is
/// small enough for the socket buffer; what the client already sent is
/// read (without waiting) so that closing does not reset the connection.
fn busy(mut sock: TcpStream) {
    let body = "too many page connections, try again in a moment\n";
    let _ = write!(
        sock,
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.shutdown(Shutdown::Write);
    if sock.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if !matches!(sock.read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
    }
}
