//! The test knob `--inject-latency D`: a wait of D before every revocation check, and the
//! record of what each wait actually took, so the delay delivered is measured, not assumed.
//!
//! A sleep wakes late by the time the kernel, the reactor and the scheduler take (a few µs
//! on an idle core, hundreds on a loaded one). Each [`InjectedDelay`] learns, from its own
//! waits only, how early to arm its timer so that the **median wait it delivers is D**: one
//! step earlier after a wait longer than D, one step later after a shorter one (a stochastic
//! median). Nothing is shared between delays or with other sleepers in the process, so the
//! delay delivered does not depend on who else slept before; and every wait is recorded
//! (count, sum, and a histogram), which `/stats` reports and each round's results keep.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How far one wait moves the arming lead (ns).
const STEP_NS: u64 = 1_000;

/// Histogram buckets: 1 µs wide to 200 µs, 10 µs to 2 ms, 1 ms to 20 ms, then one more.
const FINE: u64 = 200;
const MEDIUM: u64 = 180;
const COARSE: u64 = 18;
const BUCKETS: usize = (FINE + MEDIUM + COARSE + 1) as usize;

/// The bucket of a wait of `us` µs.
fn bucket(us: u64) -> usize {
    let index = if us < FINE {
        us
    } else if us < 2_000 {
        FINE + (us - FINE) / 10
    } else if us < 20_000 {
        FINE + MEDIUM + (us - 2_000) / 1_000
    } else {
        FINE + MEDIUM + COARSE
    };
    index as usize
}

/// The range `[low, high)` of bucket `i`, µs.
fn bucket_range(i: usize) -> (f64, f64) {
    let i = i as u64;
    let (low, width) = if i < FINE {
        (i, 1)
    } else if i < FINE + MEDIUM {
        (FINE + (i - FINE) * 10, 10)
    } else if i < FINE + MEDIUM + COARSE {
        (2_000 + (i - FINE - MEDIUM) * 1_000, 1_000)
    } else {
        (20_000, 0)
    };
    (low as f64, (low + width) as f64)
}

/// A delay added to every check, with the record of what it delivered.
pub struct InjectedDelay {
    target: Duration,
    /// How long before the target the timer is armed (ns), learnt from this delay's waits.
    lead_ns: AtomicU64,
    count: AtomicU64,
    sum_ns: AtomicU64,
    buckets: Box<[AtomicU64]>,
}

/// What the waits delivered so far, as `/stats` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelayCounts {
    /// The delay asked for, µs.
    pub target_us: f64,
    /// Waits so far, and their total (ns): the mean over any window is a difference of two
    /// readings.
    pub count: u64,
    pub sum_ns: u64,
    /// Percentiles of every wait so far (µs, within a bucket: 1 µs to 200 µs, 10 µs to 2 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<f64>,
    /// The lead the timer is armed with now, µs.
    pub lead_us: f64,
}

impl InjectedDelay {
    pub fn new(target: Duration) -> Self {
        Self {
            target,
            lead_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn target(&self) -> Duration {
        self.target
    }

    /// Waits about the target (its median is the target once learnt), and records the wait.
    pub async fn wait(&self) {
        let started = Instant::now();
        let lead = Duration::from_nanos(self.lead_ns.load(Ordering::Relaxed));
        let armed = self.target.saturating_sub(lead);
        crate::precise_sleep::sleep_until(started + armed).await;
        let took = started.elapsed();
        self.learn(took);
        self.record(took);
    }

    /// One step toward the lead that makes the median wait the target; the lead never exceeds
    /// the target (a wait armed at once that still takes longer cannot be helped).
    fn learn(&self, took: Duration) {
        let target = self.target.as_nanos() as u64;
        let _ = self.lead_ns.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |lead| {
            Some(if took > self.target {
                (lead + STEP_NS).min(target)
            } else if took < self.target {
                lead.saturating_sub(STEP_NS)
            } else {
                lead
            })
        });
    }

    fn record(&self, took: Duration) {
        let ns = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.buckets[bucket(ns / 1_000)].fetch_add(1, Ordering::Relaxed);
    }

    /// The record so far.
    pub fn counts(&self) -> DelayCounts {
        let buckets: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let total: u64 = buckets.iter().sum();
        let percentile = |q: f64| -> Option<f64> {
            if total == 0 {
                return None;
            }
            let rank = q * total as f64;
            let mut below = 0u64;
            for (i, &n) in buckets.iter().enumerate() {
                if n > 0 && (below + n) as f64 >= rank {
                    let (low, high) = bucket_range(i);
                    let within = ((rank - below as f64) / n as f64).clamp(0.0, 1.0);
                    return Some(low + within * (high - low));
                }
                below += n;
            }
            None
        };
        DelayCounts {
            target_us: self.target.as_secs_f64() * 1e6,
            count: self.count.load(Ordering::Relaxed),
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
            p50_us: percentile(0.5),
            p90_us: percentile(0.9),
            p99_us: percentile(0.99),
            lead_us: self.lead_ns.load(Ordering::Relaxed) as f64 / 1e3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets cover every wait once, in order, and their ranges hold their values.
    #[test]
    fn buckets_hold_their_values() {
        for us in [0, 1, 25, 199, 200, 209, 210, 1_999, 2_000, 19_999, 20_000, 1_000_000] {
            let (low, high) = bucket_range(bucket(us));
            let last = bucket(us) == BUCKETS - 1;
            assert!(low <= us as f64 && (last || (us as f64) < high), "{us}: {low}–{high}");
        }
        assert_eq!(bucket(1_000_000), BUCKETS - 1);
        assert!((1..BUCKETS).all(|i| bucket_range(i - 1).0 < bucket_range(i).0));
    }

    /// Waits longer than the target move the lead up a step each, shorter ones down, never
    /// past the target or below zero; the record counts every wait.
    #[test]
    fn the_lead_follows_this_delays_waits_only() {
        let delay = InjectedDelay::new(Duration::from_micros(25));
        for _ in 0..10 {
            delay.learn(Duration::from_micros(40));
        }
        assert_eq!(delay.lead_ns.load(Ordering::Relaxed), 10 * STEP_NS);
        for _ in 0..100 {
            delay.learn(Duration::from_micros(400));
        }
        assert_eq!(delay.lead_ns.load(Ordering::Relaxed), 25_000, "never past the target");
        for _ in 0..100 {
            delay.learn(Duration::from_micros(10));
        }
        assert_eq!(delay.lead_ns.load(Ordering::Relaxed), 0);
        let other = InjectedDelay::new(Duration::from_micros(25));
        assert_eq!(other.lead_ns.load(Ordering::Relaxed), 0, "nothing shared");
        for us in [20, 24, 25, 26, 30] {
            delay.record(Duration::from_micros(us));
        }
        let counts = delay.counts();
        assert_eq!((counts.count, counts.sum_ns), (5, 125_000));
        let p50 = counts.p50_us.unwrap();
        assert!((25.0..26.0).contains(&p50), "{p50}");
    }

    /// Once learnt, a 100 µs delay's median wait is 100 µs ± 15% (each wait measured from the
    /// call to the resumption), and the record says so.
    #[tokio::test(flavor = "current_thread")]
    async fn delivers_its_target() {
        let delay = InjectedDelay::new(Duration::from_micros(100));
        for _ in 0..300 {
            delay.wait().await;
        }
        let before = delay.counts();
        let mut took = Vec::new();
        for _ in 0..200 {
            let started = std::time::Instant::now();
            delay.wait().await;
            took.push(started.elapsed());
        }
        took.sort();
        let median = took[100];
        let after = delay.counts();
        let mean_us = (after.sum_ns - before.sum_ns) as f64 / 1e3 / 200.0;
        println!(
            "100 µs delay: median {median:?}, recorded mean {mean_us:.1} µs, lead {} µs",
            after.lead_us
        );
        let (low, high) = (Duration::from_micros(85), Duration::from_micros(115));
        assert!(low <= median && median <= high, "median {median:?}");
        assert_eq!(after.count - before.count, 200);
    }
}
