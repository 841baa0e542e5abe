//! Start-up errors. Per-connection failures never come here: they are logged
//! and end only that client.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why the server could not start.
#[derive(Debug)]
pub enum Error {
    /// A listener could not be bound (port in use, no permission, not an
    /// address of this machine). The message says which flag to change.
    Bind {
        what: &'static str,
        /// The flag that chose the port, e.g. `--ws-port`.
        flag: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    /// A bound listener could not be set up (address, options, clone).
    Listener {
        what: &'static str,
        source: io::Error,
    },
    /// A setting is not valid (e.g. an `--allow-origin` that is not an origin).
    Config(String),
    /// A thread could not be started.
    Spawn {
        what: &'static str,
        source: io::Error,
    },
    /// `--redis` was given and Redis could not be reached (or the URL is
    /// bad): the instance does not start alone when asked to join others.
    Redis { addr: String, reason: String },
    /// Redis answered but refused what the instance needs (an ACL without
    /// `psubscribe` or `evalsha`, ...): `reason` in Redis's words, which
    /// name the missing permission.
    RedisRefused { addr: String, reason: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind {
                what,
                flag,
                addr,
                source,
            } => {
                write!(f, "could not bind {what} listener on {addr}: {source}")?;
                match crate::startup::hint(source, *addr, flag) {
                    Some(hint) => write!(f, "; {hint}"),
                    None => Ok(()),
                }
            }
            Error::Listener { what, source } => {
                write!(f, "could not set up the {what} listener: {source}")
            }
            Error::Config(why) => write!(f, "{why}"),
            Error::Spawn { what, source } => {
                write!(f, "could not start the {what} thread: {source}")
            }
            Error::Redis { addr, reason } => {
                write!(f, "could not reach Redis at {addr}: {reason}")
            }
            Error::RedisRefused { addr, reason } => {
                write!(f, "Redis at {addr} refused this instance: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. }
            | Error::Listener { source, .. }
            | Error::Spawn { source, .. } => Some(source),
            Error::Redis { .. } | Error::RedisRefused { .. } => None,
            Error::Config(_) => None,
        }
    }
}
