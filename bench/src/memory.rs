//! Machine-wide memory the kernel spends on a server's clients, outside
//! the server's resident set: thread kernel stacks
//! (`KernelStack` in `/proc/meminfo`) and TCP socket buffers (`mem` on the
//! `TCP:` line of `/proc/net/sockstat`, in pages). Both are counters for
//! the whole machine, read by the coordinator before and after a step. Other
//! work on the machine (a compiler's threads) only ever adds to them, so
//! each sample is the smallest of a few reads.

use std::thread;
use std::time::Duration;

/// Reads per sample, 50 ms apart.
const READS: usize = 8;

/// Kernel stacks of every thread on the machine, KiB.
pub fn kernel_stack_kib() -> Option<f64> {
    sample(|| {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix("KernelStack:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// Memory in TCP socket buffers on the machine, KiB (both ends of every
/// loopback connection: the load generator's too).
pub fn tcp_buffers_kib() -> Option<f64> {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as f64;
    sample(|| {
        let sockstat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
        let tcp = sockstat.lines().find_map(|l| l.strip_prefix("TCP:"))?;
        let mut words = tcp.split_whitespace();
        while let Some(w) = words.next() {
            if w == "mem" {
                let pages: f64 = words.next()?.parse().ok()?;
                return Some(pages * page / 1024.0);
            }
        }
        None
    })
}

fn sample(read: impl Fn() -> Option<f64>) -> Option<f64> {
    let mut v = Vec::with_capacity(READS);
    for i in 0..READS {
        if i > 0 {
            thread::sleep(Duration::from_millis(50));
        }
        v.push(read()?);
    }
    Some(v.into_iter().fold(f64::INFINITY, f64::min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_counters_are_readable_here() {
        // Linux only, like the whole benchmark; a kernel without them would
        // make every memory row silently empty.
        assert!(kernel_stack_kib().is_some_and(|k| k > 0.0));
        assert!(tcp_buffers_kib().is_some_and(|k| k >= 0.0));
    }
}
