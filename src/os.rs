//! The operating-system edge: the one non-blocking send, the listeners
//! (dual stack on `::`), and the limits
//! (file descriptors, threads, memory maps) that bound how many clients we
//! can hold. Everything here goes through `socket2` and `rlimit`, so none
//! of it calls the C library by hand (`libc` only names the send flags).
//!
//! The send runs on the room thread (and on readers, for their pongs and
//! close frames); the limits are read once, at start-up, by `server.rs`.

use std::fs;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// As much of `buf` as the socket takes now, without blocking (0 if it takes
/// nothing). The socket stays in blocking mode for the reader and the
/// writer, so non-blocking is asked per call (`MSG_DONTWAIT`); and a closed
/// peer gives `EPIPE`, not a signal (`MSG_NOSIGNAL`).
///
/// # Errors
/// Any error of `send(2)` but `EAGAIN` and `EINTR`: the connection is gone.
pub fn send_now(socket: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    let socket = SockRef::from(socket);
    loop {
        match socket.send_with_flags(buf, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) {
            Ok(sent) => return Ok(sent),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Pending connections the kernel holds per listener before refusing more
/// (std's own `TcpListener::bind` uses 128; a classroom arrives at once).
const BACKLOG: i32 = 1024;

/// A listening TCP socket on `addr`, with `SO_REUSEADDR` as std sets it;
/// on `::`, dual stack (`IPV6_V6ONLY` off), whatever the system default.
///
/// # Errors
/// The OS error of `socket`, `bind` or `listen`.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std does: a restarted server may bind while old connections linger.
    socket.set_reuse_address(true)?;
    if matches!(addr.ip(), IpAddr::V6(v6) if v6.is_unspecified()) {
        socket.set_only_v6(false)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Whether `listener` takes IPv4 connections: bound to an IPv4 address, or
/// to an IPv6 one without `IPV6_V6ONLY` (dual stack).
pub fn serves_ipv4(listener: &TcpListener) -> bool {
    match listener.local_addr() {
        Ok(addr) if addr.is_ipv4() => true,
        Ok(_) => SockRef::from(listener).only_v6().is_ok_and(|only| !only),
        Err(_) => false,
    }
}

/// File descriptors the process keeps for itself (listeners, page
/// connections, logs) before counting clients.
const RESERVED_FDS: u64 = 256;
/// The soft open-file limit assumed when it cannot be read.
const FALLBACK_FDS: u64 = 1024;

/// Raise the soft open-file limit to the hard limit; return the new soft
/// limit (or the old one if it could not be raised).
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(_) => rlimit::Resource::NOFILE.get_soft().unwrap_or(FALLBACK_FDS),
    }
}

/// The most clients `fd_limit` descriptors allow.
pub fn clients_for_fds(fd_limit: u64) -> usize {
    usize::try_from(fd_limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX)
}

fn read_sysctl(name: &str) -> Option<u64> {
    fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Threads each client costs: its reader. (A writer runs only while a
/// client is behind; the caller reserves room for the most that may run.)
const THREADS_PER_CLIENT: u64 = 1;
/// Memory maps each thread costs: its stack and the stack's guard page, and
/// the signal stack Rust gives every thread, with its own guard page.
const MAPS_PER_THREAD: u64 = 4;
/// Threads and maps the process needs besides its clients' readers and
/// writers: its own threads and their maps.
const RESERVED_THREADS: u64 = 256;
const RESERVED_MAPS: u64 = 1024;

/// The most clients the thread limits (`kernel.pid_max` and
/// `kernel.threads-max`, counted machine-wide, so less the threads already
/// running) and the memory-map limit (`vm.max_map_count`, per process)
/// allow, with the limit that binds. Past these, starting a thread fails,
/// and Rust aborts the whole process when it cannot map a new thread's
/// signal stack: better to answer 503. `writers`: the most writer threads
/// that may run besides (reserved).
pub fn clients_for_threads(writers: usize) -> Option<(usize, String)> {
    let writers = writers as u64;
    let running = fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().nth(3)?.split('/').nth(1)?.parse().ok())
        .unwrap_or(0u64);
    let mut tightest: Option<(usize, String)> = None;
    for (name, per_client, reserve) in [
        (
            "kernel/pid_max",
            THREADS_PER_CLIENT,
            running + RESERVED_THREADS + writers,
        ),
        (
            "kernel/threads-max",
            THREADS_PER_CLIENT,
            running + RESERVED_THREADS + writers,
        ),
        (
            "vm/max_map_count",
            THREADS_PER_CLIENT * MAPS_PER_THREAD,
            RESERVED_MAPS + writers * MAPS_PER_THREAD,
        ),
    ] {
        let Some(limit) = read_sysctl(name) else {
            continue;
        };
        let clients = (limit.saturating_sub(reserve) / per_client) as usize;
        if tightest.as_ref().is_none_or(|(c, _)| clients < *c) {
            tightest = Some((clients, format!("sysctl {}", name.replace('/', "."))));
        }
    }
    tightest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_limit_is_at_least_what_we_had() {
        let before = raise_fd_limit();
        assert!(raise_fd_limit() >= before);
        assert_eq!(clients_for_fds(1256), 1000);
        assert_eq!(clients_for_fds(10), 0);
    }

    #[test]
    fn thread_limits_allow_some_clients_here() {
        // This machine (and CI) can hold a few thousand clients.
        let (clients, _) = clients_for_threads(1024).expect("Linux /proc");
        assert!(clients > 1000, "{clients}");
    }
}
