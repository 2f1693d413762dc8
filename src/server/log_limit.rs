//! Log lines any client can cause (an invalid token at `/revoke`, a store failing under
//! load), limited per second so that no client can flood the log. Every event is still
//! counted (`/stats`); only the lines are limited.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::time::now_secs;

/// Lines of one kind per second; past that, a count of the lines left out follows.
pub struct RateLimitedLog {
    kind: &'static str,
    per_second: u64,
    /// The second the current window started.
    window: AtomicU64,
    printed: AtomicU64,
    left_out: AtomicU64,
}

impl RateLimitedLog {
    pub const fn new(kind: &'static str, per_second: u64) -> Self {
        Self {
            kind,
            per_second,
            window: AtomicU64::new(0),
            printed: AtomicU64::new(0),
            left_out: AtomicU64::new(0),
        }
    }

    /// Prints `line()` to stderr unless this second's lines are used up; returns whether it
    /// printed. The line is only built when printed.
    pub fn log(&self, line: impl FnOnce() -> String) -> bool {
        self.log_at(now_secs(), line)
    }

    fn log_at(&self, now: u64, line: impl FnOnce() -> String) -> bool {
        let window = self.window.load(Ordering::Relaxed);
        // One caller wins the swap to the new second, resets the window and reports the rest.
        if now != window
            && self
                .window
                .compare_exchange(window, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.printed.store(0, Ordering::Relaxed);
            let left_out = self.left_out.swap(0, Ordering::Relaxed);
            if left_out > 0 {
                eprintln!("{}: {left_out} more in the last second, not logged", self.kind);
            }
        }
        if self.printed.fetch_add(1, Ordering::Relaxed) < self.per_second {
            eprintln!("{}", line());
            true
        } else {
            self.left_out.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At most `per_second` lines a second, whatever the rate of events; a new second allows
    /// more.
    #[test]
    fn limits_lines_per_second() {
        let log = RateLimitedLog::new("test", 3);
        let printed = (0..1000).filter(|_| log.log_at(100, || "line".into())).count();
        assert_eq!(printed, 3);
        assert_eq!(log.left_out.load(Ordering::Relaxed), 997);
        assert!(log.log_at(101, || "line".into()));
        assert_eq!(log.left_out.load(Ordering::Relaxed), 0);
    }
}
