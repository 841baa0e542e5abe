//! A stopped Redis process (SIGSTOP, then SIGCONT 3 s later): a silent
//! peer with its connections up. Noticed within a fraction of a second,
//! healed within a second or two of SIGCONT, consistent (see `faults`).

use testkit::redis::RedisServer;

use crate::faults::survive;

/// SIGCONT when dropped, so a failed test never leaves Redis stopped.
struct Stopped(libc::pid_t);

impl Drop for Stopped {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own redis-server child.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

#[test]
fn a_stopped_redis_is_noticed_healed_and_consistent() {
    survive(
        "SIGSTOP",
        |redis: &mut RedisServer| {
            let pid = libc::pid_t::try_from(redis.pid()).expect("a pid");
            // SAFETY: as in `Stopped`.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
            Stopped(pid)
        },
        |redis, stopped| {
            // Stopped for a while (the members chatted meanwhile).
            std::thread::sleep(std::time::Duration::from_secs(2));
            drop(stopped);
            assert_eq!(redis.command(&["PING"]), "+PONG");
        },
    );
}
