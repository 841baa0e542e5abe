//! One connection to Redis, with its timeouts and our scripts loaded; and
//! the backoff between attempts when Redis is away. Used by every cluster
//! thread, each with its own connection (a blocking connection serves one
//! thread at a time).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError, RedisResult, ServerError, Value};

use super::scripts::{Script, ALL};

/// How long opening a connection (TCP, TLS, `HELLO`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command (or pipeline) may wait for its answer before the
/// connection is taken for dead. Far above a round trip (well under a
/// millisecond on a LAN); short enough that a room waiting on a claim is
/// not held up long when Redis stalls.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// First wait before reconnecting; doubled after each failure...
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// ...up to this.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// A sleeping thread looks at its stop flag this often.
const STOP_POLL: Duration = Duration::from_millis(100);

/// A refusal in Redis's own words, `CODE detail` (`NOPERM this user has
/// no permissions to run the 'evalsha' command`, `OOM command not allowed
/// when used memory > 'maxmemory'.`).
pub fn refusal(e: &ServerError) -> String {
    match e.details() {
        Some(detail) => format!("{} {detail}", e.code()),
        None => e.code().to_owned(),
    }
}

/// If `e` is Redis refusing a command (it answered with an error, not a
/// lost connection), the refusal in its words.
pub fn refused(e: &RedisError) -> Option<String> {
    let errors = e.clone().into_server_errors()?;
    errors.first().map(|(_, e)| refusal(e))
}

/// Where Redis is, parsed once from `--redis`.
#[derive(Clone)]
pub struct Endpoint {
    client: Client,
    /// `host:port` (and `tls`), for logs: never the password.
    shown: String,
}

impl Endpoint {
    /// Parse a `redis://HOST:PORT/DB` or `rediss://` (TLS) URL.
    ///
    /// # Errors
    /// A one-line message if the URL is not one the redis crate accepts.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        if url.starts_with("rediss:") {
            // rustls wants one process-wide crypto provider; a second
            // install (another Endpoint) is refused harmlessly.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = Client::open(url).map_err(|e| format!("bad --redis URL: {e}"))?;
        let info = client.get_connection_info();
        let tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
        let shown = format!("{}{}", info.addr(), if tls { " (TLS)" } else { "" });
        Ok(Endpoint { client, shown })
    }

    /// Open a connection with [`CONNECT_TIMEOUT`] and [`COMMAND_TIMEOUT`],
    /// and load the scripts. Blocks for at most about three timeouts.
    pub fn connect(&self) -> RedisResult<Conn> {
        let con = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        con.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        let mut conn = Conn {
            con,
            shas: Vec::new(),
        };
        let mut load = redis::pipe();
        for source in ALL {
            load.cmd("SCRIPT").arg("LOAD").arg(source);
        }
        conn.shas = load.query(&mut conn.con)?;
        Ok(conn)
    }

    /// A connection for `SUBSCRIBE` mode: no scripts, and a short read
    /// timeout so the subscriber looks at its stop flag between messages.
    pub fn connect_subscriber(&self, poll: Duration) -> RedisResult<Connection> {
        let con = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        con.set_read_timeout(Some(poll))?;
        Ok(con)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// A connection with the scripts' hashes.
pub struct Conn {
    pub con: Connection,
    shas: Vec<String>,
}

impl Conn {
    /// Add a call of `script` to `pipe`.
    pub fn call<'p>(
        &self,
        pipe: &'p mut redis::Pipeline,
        script: Script,
    ) -> &'p mut redis::Pipeline {
        pipe.cmd("EVALSHA").arg(&self.shas[script as usize])
    }

    /// Run one script now: one round trip.
    pub fn run(&mut self, script: Script, keys: &[&str], args: &[&str]) -> RedisResult<Value> {
        let mut pipe = redis::pipe();
        self.call(&mut pipe, script)
            .arg(keys.len())
            .arg(keys)
            .arg(args);
        let mut values: Vec<Value> = pipe.query(&mut self.con)?;
        Ok(values.pop().unwrap_or(Value::Nil))
    }
}

/// A connection made again when it fails, no more often than its
/// [`Backoff`] allows. Owned by one thread (the publisher, the lease).
pub struct Reconnecting<'a> {
    endpoint: &'a Endpoint,
    conn: Option<Conn>,
    backoff: Backoff,
}

impl<'a> Reconnecting<'a> {
    /// Start with `conn` (made at start-up) if any.
    pub fn new(endpoint: &'a Endpoint, conn: Option<Conn>) -> Reconnecting<'a> {
        Reconnecting {
            endpoint,
            conn,
            backoff: Backoff::default(),
        }
    }

    /// Run `f` on the connection, connecting first if none is open and
    /// the backoff allows, or at once if `now` (Redis is known to be back:
    /// waiting would send this thread's work elsewhere). A connection that fails other than by a
    /// timeout is replaced once and `f` run again: one gone stale during
    /// an outage fails at its first write, before Redis ran anything. (A
    /// timeout may have run: never retried, so never run twice.)
    ///
    /// # Errors
    /// No connection (waiting out the backoff, or Redis unreachable), or
    /// `f` failed twice; the connection is then dropped and the backoff
    /// grows.
    pub fn run<T>(
        &mut self,
        now: bool,
        mut f: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> RedisResult<T> {
        let fresh = self.conn.is_none();
        if fresh && (now || self.backoff.ready()) {
            self.conn = Some(
                self.endpoint
                    .connect()
                    .inspect_err(|_| self.backoff.failed())?,
            );
        }
        let Some(conn) = self.conn.as_mut() else {
            let waiting =
                std::io::Error::new(std::io::ErrorKind::NotConnected, "waiting to reconnect");
            return Err(waiting.into());
        };
        let mut result = f(conn);
        if !fresh && result.as_ref().is_err_and(|e| !e.is_timeout()) {
            if let Ok(new) = self.endpoint.connect() {
                *conn = new;
                result = f(conn);
            }
        }
        match &result {
            Ok(_) => self.backoff.succeeded(),
            Err(_) => {
                self.conn = None;
                self.backoff.failed();
            }
        }
        result
    }
}

/// Waits between reconnection attempts: 100 ms, doubling to 1 s (so Redis
/// is back within about a second of answering again); reset
/// once connected.
pub struct Backoff {
    next: Duration,
    /// No attempt before this.
    not_before: Instant,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            next: BACKOFF_FIRST,
            not_before: Instant::now(),
        }
    }
}

impl Backoff {
    /// A failed attempt: the next one waits longer.
    pub fn failed(&mut self) {
        self.not_before = Instant::now() + self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
    }

    /// Connected: the next failure starts over from the first wait.
    pub fn succeeded(&mut self) {
        *self = Backoff::default();
    }

    /// Whether an attempt may be made now (for a thread that must not sleep).
    pub fn ready(&self) -> bool {
        Instant::now() >= self.not_before
    }

    /// Sleep until the next attempt is due. Returns false if `stop` was
    /// set meanwhile.
    pub fn wait(&self, stop: &AtomicBool) -> bool {
        sleep_unless(
            stop,
            self.not_before.saturating_duration_since(Instant::now()),
        )
    }
}

/// Sleep for `how_long`, looking at `stop` every [`STOP_POLL`]. Returns
/// false if `stop` was set.
pub fn sleep_unless(stop: &AtomicBool, how_long: Duration) -> bool {
    let until = Instant::now() + how_long;
    loop {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(STOP_POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets() {
        let mut b = Backoff::default();
        assert!(b.ready());
        let mut waits = Vec::new();
        for _ in 0..8 {
            waits.push(b.next);
            b.failed();
        }
        assert_eq!(
            waits[..3],
            [BACKOFF_FIRST, BACKOFF_FIRST * 2, BACKOFF_FIRST * 4]
        );
        assert_eq!(b.next, BACKOFF_MAX);
        assert!(!b.ready());
        b.succeeded();
        assert!(b.ready());
        assert_eq!(b.next, BACKOFF_FIRST);
    }

    #[test]
    fn urls_are_checked_and_shown_without_secrets() {
        let e = Endpoint::parse("redis://:hunter2@127.0.0.1:6390/").unwrap();
        assert_eq!(e.to_string(), "127.0.0.1:6390");
        let e = Endpoint::parse("rediss://localhost:6390/").unwrap();
        assert_eq!(e.to_string(), "localhost:6390 (TLS)");
        assert!(Endpoint::parse("http://x/").is_err());
        assert!(Endpoint::parse("not a url").is_err());
    }
}
