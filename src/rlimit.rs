//! The operating system's limits on how many clients we can hold: file
//! descriptors (one per client), threads (two per client) and memory maps
//! (two per thread stack). Read at start so `--max-clients` is honest.

use std::fs;

/// File descriptors the process keeps for itself (listeners, page
/// connections, logs) before counting clients.
const RESERVED_FDS: u64 = 256;

/// Raise the soft open-file limit to the hard limit; return the new soft
/// limit (or the old one if it could not be raised).
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    lim.rlim_cur
}

/// The most clients `fd_limit` descriptors allow.
pub fn clients_for_fds(fd_limit: u64) -> usize {
    fd_limit.saturating_sub(RESERVED_FDS) as usize
}

fn read_sysctl(name: &str) -> Option<u64> {
    fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Warnings for the limits other than file descriptors that `clients`
/// would exceed (each client costs two threads and two stacks).
pub fn thread_limit_warnings(clients: usize) -> Vec<String> {
    let threads = 2 * clients as u64 + 64;
    let mut warnings = Vec::new();
    for (name, need) in [
        ("kernel/pid_max", threads),
        ("kernel/threads-max", threads),
        ("vm/max_map_count", 2 * threads),
    ] {
        if let Some(have) = read_sysctl(name) {
            if have < need {
                warnings.push(format!(
                    "{} is {have}, but {clients} clients need about {need}; raise it with sysctl",
                    name.replace('/', ".")
                ));
            }
        }
    }
    warnings
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
}
