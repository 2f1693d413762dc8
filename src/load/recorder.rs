//! What the load steps record: an HDR histogram of every request's latency, statuses and
//! errors by step, and the replay counts that give the leak rate.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::results::LatencySummary;

/// Microseconds, the unit of every latency histogram.
pub type Micros = u64;

/// Longest latency a histogram can hold; longer ones are clamped to it.
const MAX_TRACKABLE: Micros = 60_000_000;
/// HDR precision: three significant figures (0.1% value error).
const SIGNIFICANT_FIGURES: u8 = 3;
/// Most copies kept for the replay after a restart (bounds memory and the replay phase).
pub const MAX_KEPT_COPIES: usize = 2000;

fn new_histogram() -> Histogram<Micros> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE, SIGNIFICANT_FIGURES)
        .expect("constant bounds are valid")
}

/// Which latency a sample is: from the actual send (`Service`) or from the intended start in
/// constant-rate mode (`Response`, corrected for coordinated omission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Service,
    Corrected,
}

/// Shared by every simulated user of one measurement.
#[derive(Default)]
pub struct Recorder {
    // std Mutexes: each critical section is one histogram record or map increment, never
    // held across an await; contention is small next to a request's cost.
    service: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    corrected: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    statuses: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    replays_attempted: AtomicU64,
    replays_accepted: AtomicU64,
    kept_copies: Mutex<Vec<String>>,
}

/// Everything recorded, read once the measurement is over.
pub struct Recorded {
    pub latency: BTreeMap<String, LatencySummary>,
    pub corrected: BTreeMap<String, LatencySummary>,
    pub all: Option<LatencySummary>,
    pub all_corrected: Option<LatencySummary>,
    pub all_histogram: Histogram<Micros>,
    pub requests: u64,
    pub statuses: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub replays_attempted: u64,
    pub replays_accepted: u64,
}

impl Recorder {
    /// Records one request of `request` (e.g. `me`, `login`) that took `elapsed`.
    pub fn latency(&self, clock: Clock, request: &'static str, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_TRACKABLE);
        let map = match clock {
            Clock::Service => &self.service,
            Clock::Corrected => &self.corrected,
        };
        let mut map = map.lock().expect("recorder lock");
        map.entry(request).or_insert_with(new_histogram).saturating_record(micros);
    }

    /// Counts a response status for `request` (key `"me 200"`).
    pub fn status(&self, request: &'static str, status: u16) {
        *self
            .statuses
            .lock()
            .expect("recorder lock")
            .entry(format!("{request} {status}"))
            .or_default() += 1;
    }

    /// Counts a request that got no response, by kind (`connect`, `timeout`, `other`).
    pub fn error(&self, request: &'static str, kind: &str) {
        *self
            .errors
            .lock()
            .expect("recorder lock")
            .entry(format!("{request} {kind}"))
            .or_default() += 1;
    }

    /// Counts one replay of a revoked token; `accepted` means the server let it in (a leak).
    pub fn replay(&self, accepted: bool) {
        self.replays_attempted.fetch_add(1, Ordering::Relaxed);
        if accepted {
            self.replays_accepted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Keeps a revoked token's copy for the replay after a restart (up to [`MAX_KEPT_COPIES`]).
    pub fn keep_copy(&self, token: String) {
        let mut kept = self.kept_copies.lock().expect("recorder lock");
        if kept.len() < MAX_KEPT_COPIES {
            kept.push(token);
        }
    }

    /// Takes the kept copies out.
    pub fn take_copies(&self) -> Vec<String> {
        std::mem::take(&mut *self.kept_copies.lock().expect("recorder lock"))
    }

    /// Summarises what was recorded.
    pub fn finish(&self) -> Recorded {
        let summarise = |map: &Mutex<BTreeMap<&'static str, Histogram<Micros>>>| {
            let map = map.lock().expect("recorder lock");
            let mut all = new_histogram();
            let mut by_request = BTreeMap::new();
            for (name, histogram) in map.iter() {
                all.add(histogram).expect("same bounds");
                by_request.insert(name.to_string(), LatencySummary::from_histogram(histogram));
            }
            (by_request, all)
        };
        let (latency, all_histogram) = summarise(&self.service);
        let (corrected, all_corrected) = summarise(&self.corrected);
        Recorded {
            latency,
            corrected,
            all: (!all_histogram.is_empty())
                .then(|| LatencySummary::from_histogram(&all_histogram)),
            all_corrected: (!all_corrected.is_empty())
                .then(|| LatencySummary::from_histogram(&all_corrected)),
            requests: all_histogram.len(),
            all_histogram,
            statuses: self.statuses.lock().expect("recorder lock").clone(),
            errors: self.errors.lock().expect("recorder lock").clone(),
            replays_attempted: self.replays_attempted.load(Ordering::Relaxed),
            replays_accepted: self.replays_accepted.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Percentiles come from every recorded sample, per request and overall.
    #[test]
    fn summarises_per_request_and_overall() {
        let recorder = Recorder::default();
        for ms in 1..=100 {
            recorder.latency(Clock::Service, "me", Duration::from_millis(ms));
        }
        recorder.latency(Clock::Service, "login", Duration::from_secs(1));
        recorder.status("me", 200);
        recorder.status("me", 200);
        recorder.replay(true);
        recorder.replay(false);
        let done = recorder.finish();
        let me = &done.latency["me"];
        assert_eq!(me.count, 100);
        assert!((me.p50_us as i64 - 50_000).abs() <= 50, "{me:?}");
        assert!((me.p99_us as i64 - 99_000).abs() <= 100, "{me:?}");
        assert_eq!(done.requests, 101);
        assert!(done.all.unwrap().max_us >= 999_000);
        assert_eq!(done.statuses["me 200"], 2);
        assert_eq!((done.replays_attempted, done.replays_accepted), (2, 1));
        assert!(done.all_corrected.is_none());
    }
}
