//! A chat server started in-process on loopback port 0, and the
//! configurations the tests start it with.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use chat_server::{Config, Limits, Server};

use crate::client::{joined, TestClient};
use crate::redis::RedisServer;
use crate::WAIT;

/// A [`Server`] running in this process (both listeners on loopback),
/// stopped when dropped: every client gets close 1001 and every server
/// thread is joined.
pub struct TestServer {
    /// The running server; `None` once [`TestServer::shutdown`] ran.
    pub server: Option<Server>,
}

impl TestServer {
    /// Where WebSocket clients connect. Panics after a shutdown.
    pub fn chat_addr(&self) -> SocketAddr {
        self.running().chat_addr()
    }

    /// Where the page (and `/healthz`, `/metrics`) is served. Panics after
    /// a shutdown.
    pub fn page_addr(&self) -> SocketAddr {
        self.running().page_addr()
    }

    /// The page's URL for room `room` (`""` for the main room).
    pub fn page_url(&self, room: &str) -> String {
        format!("http://{}/{room}", self.page_addr())
    }

    /// The teacher key (what a teacher sends as a Bearer token). Panics
    /// after a shutdown.
    pub fn teacher_key(&self) -> String {
        self.running().teacher_key().to_owned()
    }

    /// Clients connected right now (past the handshake).
    pub fn clients(&self) -> usize {
        self.running().clients()
    }

    fn running(&self) -> &Server {
        self.server.as_ref().expect("the server was shut down")
    }

    /// Stop now (every client gets 1001), joining every thread. Does
    /// nothing the second time.
    pub fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The default configuration, but no rate limit: tests send faster than a
/// person types. A test that checks the rate limit sets its own.
pub fn test_config() -> Config {
    Config {
        limits: Limits {
            rate_per_second: 0.0,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// A server on `127.0.0.1:0` with [`test_config`].
pub fn start_server() -> TestServer {
    start_server_with(test_config())
}

/// [`start_server`] with the test limits changed by `edit`.
pub fn start_server_with_limits(edit: impl FnOnce(&mut Limits)) -> TestServer {
    let mut config = test_config();
    edit(&mut config.limits);
    start_server_with(config)
}

/// A server on `127.0.0.1:0` (both ports) with `config`. Panics if it
/// cannot bind or start.
pub fn start_server_with(config: Config) -> TestServer {
    let chat = TcpListener::bind("127.0.0.1:0").expect("bind chat listener");
    let page = TcpListener::bind("127.0.0.1:0").expect("bind page listener");
    start_on_listeners(chat, page, config)
}

/// A server on listeners the test bound itself. Panics if it cannot start.
pub fn start_on_listeners(chat: TcpListener, page: TcpListener, config: Config) -> TestServer {
    let server = Server::start(chat, page, &config).expect("start server");
    TestServer {
        server: Some(server),
    }
}

/// A server with [`test_config`] on these exact addresses (an open page
/// knows only them), retrying each bind for at most [`WAIT`] while the old
/// sockets let go; panics after that.
pub fn start_on(chat: SocketAddr, page: SocketAddr) -> TestServer {
    let bind = |addr: SocketAddr| {
        let mut listener = None;
        let free = crate::wait_until(WAIT, || {
            listener = TcpListener::bind(addr).ok();
            listener.is_some()
        });
        assert!(free, "{addr} not free again within {WAIT:?}");
        listener.expect("bound")
    };
    start_on_listeners(bind(chat), bind(page), test_config())
}

/// An instance sharing its rooms with others through the Redis at `url`,
/// with this lease (`--redis-lease`).
pub fn start_instance(url: &str, lease: Duration) -> TestServer {
    start_server_with(Config {
        redis: Some(url.to_owned()),
        redis_lease: lease,
        ..test_config()
    })
}

/// Two instances sharing `redis` (the default 15 s lease), a client on
/// each (Ann on the first, Bob on the second); Ann has seen Bob arrive.
pub fn two_instances(redis: &RedisServer) -> (TestServer, TestServer, TestClient, TestClient) {
    let lease = Duration::from_secs(15);
    let a = start_instance(&redis.url(), lease);
    let b = start_instance(&redis.url(), lease);
    let mut ann = TestClient::connect(a.chat_addr());
    let bob = TestClient::connect(b.chat_addr());
    ann.recv_until(&joined(&bob.nick));
    (a, b, ann, bob)
}
