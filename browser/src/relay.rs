//! A small TCP relay the test puts between the browser and the server: it
//! forwards bytes both ways untouched, and can cut every connection without
//! a close frame (as a Wi-Fi blip does), turn new connections away for a
//! while, and route by request path as a one-origin reverse proxy does
//! (`/ws...` to the chat port, everything else to the page port).
//!
//! Runs an `accept` thread and two copying threads per connection; all end
//! when the relay is dropped.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use super::{TestServer, PAGE_WAIT};

/// Relays in front of both of `server`'s ports, on another loopback address
/// (127.0.0.2) with the same port numbers: a page opened through the page
/// relay is on "the page port" and connects to "the chat port" as usual,
/// through the chat relay, which a test can then cut. Returns (chat, page).
pub fn in_front_of(server: &TestServer) -> (Relay, Relay) {
    let other = std::net::IpAddr::from([127, 0, 0, 2]);
    let relay =
        |addr: SocketAddr| Relay::start(SocketAddr::new(other, addr.port()), Route::To(addr));
    (relay(server.chat_addr()), relay(server.page_addr()))
}

/// Where the relay sends a connection.
#[derive(Clone, Copy, Debug)]
pub enum Route {
    /// Everything to one address.
    To(SocketAddr),
    /// As a reverse proxy with the chat under `/ws/`: request targets
    /// starting with `/ws` to `chat`, the rest to `page`.
    Proxy { chat: SocketAddr, page: SocketAddr },
}

pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    refusing: AtomicBool,
    /// Both ends of every connection relayed so far (to cut them).
    live: Mutex<Vec<TcpStream>>,
    /// The request target of each connection, in order of arrival.
    targets: Mutex<Vec<String>>,
}

impl Relay {
    /// Listen on `listen` (port 0 for any) and relay by `route`.
    pub fn start(listen: SocketAddr, route: Route) -> Relay {
        Relay::serve(TcpListener::bind(listen).expect("bind the relay"), route)
    }

    /// Relay what arrives on `listener` (bound beforehand when the server
    /// must know the relay's address first).
    pub fn serve(listener: TcpListener, route: Route) -> Relay {
        let addr = listener.local_addr().expect("relay address");
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("relay-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if shared.stop.load(Ordering::Acquire) {
                            break;
                        }
                        match stream {
                            // Turned away: closed at once, as a dead network
                            // would leave the browser with nothing.
                            Ok(_) if shared.refusing.load(Ordering::Acquire) => {}
                            Ok(stream) => {
                                if let Err(e) = relay(stream, route, &shared) {
                                    println!("relay: {e}");
                                }
                            }
                            Err(e) => println!("relay: accept: {e}"),
                        }
                    }
                })
                .expect("start the relay thread")
        };
        Relay {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// End every relayed connection now, with no close frame either way
    /// (each side sees its TCP connection end); returns how many there were.
    pub fn cut(&self) -> usize {
        let mut live = self
            .shared
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for stream in live.iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let n = live.len() / 2;
        live.clear();
        n
    }

    /// While `on`, new connections are closed as soon as they arrive.
    pub fn refuse(&self, on: bool) {
        self.shared.refusing.store(on, Ordering::Release);
    }

    /// The request target (path and query) of each connection so far.
    pub fn targets(&self) -> Vec<String> {
        self.shared
            .targets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.cut();
        // Wake the accept thread so that it sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, PAGE_WAIT);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Read the request's first line, pick the target, connect, and copy both
/// ways on two threads.
fn relay(mut client: TcpStream, route: Route, shared: &Shared) -> io::Result<()> {
    client.set_read_timeout(Some(PAGE_WAIT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = client.read(&mut buf)?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(()); // no request line: nothing to relay
        }
        head.extend_from_slice(&buf[..n]);
    }
    client.set_read_timeout(None)?;
    let line = String::from_utf8_lossy(&head);
    let target = line.split(' ').nth(1).unwrap_or("").to_owned();
    let to = match route {
        Route::To(addr) => addr,
        Route::Proxy { chat, .. } if target.starts_with("/ws") => chat,
        Route::Proxy { page, .. } => page,
    };
    shared
        .targets
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(target);
    let mut server = TcpStream::connect_timeout(&to, PAGE_WAIT)?;
    server.write_all(&head)?;
    {
        let mut live = shared.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.push(client.try_clone()?);
        live.push(server.try_clone()?);
    }
    for (mut from, mut to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        thread::Builder::new()
            .name("relay-copy".into())
            .spawn(move || {
                let _ = io::copy(&mut from, &mut to);
                // One side ended: end both, as a relay that lost a leg does.
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
            })?;
    }
    Ok(())
}
