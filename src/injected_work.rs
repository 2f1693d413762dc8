//! The test knob `--inject-work D`: a fixed amount of CPU work added to every check, so a test
//! can prove the gate sees a known rise in server CPU per request.
//!
//! The work is a loop of a cheap deterministic hash (each step depends on the last, and
//! [`std::hint::black_box`] keeps the compiler from folding it), a fixed number of steps per
//! check. `D` is CPU time: at start the loop is timed on this thread's CPU clock, which a
//! descheduled thread does not advance, and the fastest of several trials sets the number of
//! steps that take `D` on this machine. From then on every check runs that many steps, so
//! the work is the same in every request: `--inject-work 430ns` adds 5% to a server that
//! spends 8.6 µs of CPU per request.

use std::hint::black_box;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Steps per calibration trial: long enough for the thread clock (ns) to time it well,
/// short enough that a trial often runs without being interrupted.
const TRIAL_STEPS: u64 = 20_000;

/// Trials timed at start; the fastest one sets the rate (the others were interrupted or ran
/// on a cold cache).
const TRIALS: usize = 30;

/// CPU work of a known size, run before every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedWork {
    /// The CPU time asked for per check.
    pub target: Duration,
    /// Steps of the hash loop that take `target` on this machine.
    pub steps: u64,
}

impl InjectedWork {
    /// Times the loop on this thread and sets the steps that take `target`.
    pub fn calibrate(target: Duration) -> Self {
        let ns_per_step = (0..TRIALS)
            .map(|_| {
                let started = thread_cpu_ns();
                spin(TRIAL_STEPS);
                thread_cpu_ns().saturating_sub(started) as f64 / TRIAL_STEPS as f64
            })
            .filter(|ns| *ns > 0.0)
            .fold(f64::INFINITY, f64::min);
        let steps = if ns_per_step.is_finite() {
            (target.as_nanos() as f64 / ns_per_step).round() as u64
        } else {
            0
        };
        Self { target, steps }
    }

    /// Runs the work once (a check's share).
    pub fn run(&self) {
        spin(self.steps);
    }

    /// The record after `checks` checks, each of which ran the work once.
    pub fn counts(&self, checks: u64) -> WorkCounts {
        let target_ns = self.target.as_nanos() as u64;
        WorkCounts { target_ns, count: checks, sum_ns: checks.saturating_mul(target_ns) }
    }
}

/// The work added so far, as `/stats` reports it: so a run records the work its servers did
/// even when they were started with it by a wrapper it knows nothing of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCounts {
    /// The CPU time asked for per check, ns.
    pub target_ns: u64,
    /// Checks that ran the work, and the CPU time asked for over them (ns): the mean over
    /// any window is a difference of two readings.
    pub count: u64,
    pub sum_ns: u64,
}

/// `steps` rounds of a multiply-rotate-xor hash, each depending on the one before.
pub fn spin(steps: u64) -> u64 {
    let mut x = black_box(0x9e37_79b9_7f4a_7c15_u64);
    for i in 0..steps {
        x = (x.wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(31) ^ i).wrapping_add(1);
    }
    black_box(x)
}

/// This thread's CPU time (ns), which does not advance while the thread is descheduled.
fn thread_cpu_ns() -> u64 {
    // SAFETY: clock_gettime writes into the zeroed timespec we pass and has no other effects.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calibrated work takes about the CPU time asked for: 200 checks of 50 µs take
    /// 10 ms of this thread's CPU, within 10 ms to 30 ms (the fastest trial set the rate, so
    /// interruptions and a slower core only make it longer); none asked for, none done.
    #[test]
    fn delivers_the_cpu_time_asked_for() {
        let work = InjectedWork::calibrate(Duration::from_micros(50));
        assert!(work.steps > 0, "{work:?}");
        let started = thread_cpu_ns();
        for _ in 0..200 {
            work.run();
        }
        let took = Duration::from_nanos(thread_cpu_ns() - started);
        assert!(took >= Duration::from_millis(9), "{took:?} for {work:?}");
        assert!(took < Duration::from_millis(30), "{took:?} for {work:?}");
        assert_eq!(InjectedWork::calibrate(Duration::ZERO).steps, 0);
    }
}
