//! The load over time: the recorder's tallies interval by interval (see
//! [`Timeline`](crate::results::Timeline)). Only the current interval keeps a histogram: an
//! interval is summarised as soon as a later one begins, so memory grows by four numbers per
//! interval, never by a histogram.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::results::{Timeline, TimelineEvent, Values};
use crate::units::Micros;

/// The interval of a measured window of up to [`FINE_UP_TO`]: fine enough that a 1 s
/// `--quick` measurement still draws a line of ten points.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// Longer windows get longer intervals, so that no timeline has more than
/// [`MAX_INTERVALS`] of them.
pub const FINE_UP_TO: Duration = Duration::from_secs(60);
const MAX_INTERVALS: u64 = 600;

/// Longest latency the interval histogram holds; longer ones are clamped to it.
const MAX_TRACKABLE: Micros = 60_000_000;

/// The interval for a measured window of `duration`: [`INTERVAL`], or a whole multiple of it
/// that keeps the window within [`MAX_INTERVALS`] intervals.
pub fn interval_for(duration: Duration) -> Duration {
    let step = INTERVAL.as_millis() as u64;
    let wanted = (duration.as_millis() as u64).div_ceil(MAX_INTERVALS);
    Duration::from_millis(wanted.div_ceil(step).max(1) * step)
}

/// Tallies by interval, from `origin` (the start of the measured window).
pub struct TimelineRecorder {
    interval: Duration,
    origin: Option<Instant>,
    requests: Vec<u64>,
    errors: Vec<u64>,
    p50: Vec<Option<u64>>,
    p99: Vec<Option<u64>>,
    /// The check latencies of the last interval in `requests` (the current one).
    checks: Histogram<u64>,
    events: Vec<TimelineEvent>,
}

/// What one tally adds to its interval.
#[derive(Debug, Clone, Copy)]
pub enum Tally {
    /// A request answered, whatever the answer.
    Answer,
    /// An answer not as expected, or a request without an answer.
    Error,
    /// A check answered 200, and how long it took.
    Check(Duration),
}

impl Default for TimelineRecorder {
    fn default() -> Self {
        Self::new(INTERVAL)
    }
}

impl TimelineRecorder {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_millis(1)),
            origin: None,
            requests: Vec::new(),
            errors: Vec::new(),
            p50: Vec::new(),
            p99: Vec::new(),
            checks: Histogram::new_with_bounds(1, MAX_TRACKABLE, 3).expect("constant bounds"),
            events: Vec::new(),
        }
    }

    /// The window starts now: everything before is forgotten.
    pub fn start(&mut self, now: Instant) {
        *self = Self { origin: Some(now), ..Self::new(self.interval) };
    }

    /// Counts `tally` at `now` (the window starts at the first tally if it was not started).
    pub fn add(&mut self, now: Instant, tally: Tally) {
        let i = self.interval_at(now);
        match tally {
            Tally::Answer => self.requests[i] += 1,
            Tally::Error => self.errors[i] += 1,
            Tally::Check(elapsed) => {
                let micros = (elapsed.as_micros() as u64).clamp(1, MAX_TRACKABLE);
                self.checks.saturating_record(micros);
            }
        }
    }

    /// Marks an instant (`store cut off`, …) at `now`.
    pub fn event(&mut self, now: Instant, what: &str) {
        let origin = *self.origin.get_or_insert(now);
        let at_ms = now.saturating_duration_since(origin).as_millis() as u64;
        self.events.push(TimelineEvent { at_ms, what: what.to_string() });
    }

    /// The index of the interval `now` falls in, with every interval up to it opened (the
    /// ones before summarised). Tallies arrive under the recorder's lock, so `now` never goes
    /// back; one that would (a clock read before the lock) counts in the current interval.
    fn interval_at(&mut self, now: Instant) -> usize {
        let origin = *self.origin.get_or_insert(now);
        let elapsed = now.saturating_duration_since(origin);
        let index = (elapsed.as_nanos() / self.interval.as_nanos()) as usize;
        while self.requests.len() <= index {
            if !self.requests.is_empty() {
                self.close_current();
            }
            self.requests.push(0);
            self.errors.push(0);
        }
        self.requests.len() - 1
    }

    /// Summarises the current interval's check latencies and empties its histogram.
    fn close_current(&mut self) {
        let (p50, p99) = if self.checks.is_empty() {
            (None, None)
        } else {
            (Some(self.checks.value_at_quantile(0.50)), Some(self.checks.value_at_quantile(0.99)))
        };
        self.p50.push(p50);
        self.p99.push(p99);
        self.checks.reset();
    }

    /// The timeline so far (`None` when nothing was tallied).
    pub fn finish(&mut self) -> Option<Timeline> {
        if self.requests.is_empty() && self.events.is_empty() {
            return None;
        }
        let mut p50 = self.p50.clone();
        let mut p99 = self.p99.clone();
        if !self.requests.is_empty() {
            let q = |q: f64| (!self.checks.is_empty()).then(|| self.checks.value_at_quantile(q));
            p50.push(q(0.50));
            p99.push(q(0.99));
        }
        let values = |v: &[u64]| Values(v.iter().map(|n| Some(*n)).collect());
        Some(Timeline {
            interval_ms: self.interval.as_millis() as u64,
            requests: values(&self.requests),
            errors: values(&self.errors),
            check_p50_us: Values(p50),
            check_p99_us: Values(p99),
            events: self.events.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Each tally lands in the interval of its instant; intervals without any stay at zero;
    /// each interval's percentiles are its own checks'; events keep their instant.
    #[test]
    fn tallies_by_interval() {
        let mut t = TimelineRecorder::new(100 * MS);
        let origin = Instant::now();
        t.start(origin);
        for ms in 1..=100 {
            t.add(origin + 10 * MS, Tally::Answer);
            t.add(origin + 10 * MS, Tally::Check(ms * Duration::from_micros(10)));
        }
        t.event(origin + 150 * MS, "store cut off");
        t.add(origin + 250 * MS, Tally::Answer);
        t.add(origin + 250 * MS, Tally::Error);
        t.add(origin + 320 * MS, Tally::Check(5 * MS));
        let timeline = t.finish().unwrap();
        assert_eq!(timeline.interval_ms, 100);
        assert_eq!(timeline.requests.0, [Some(100), Some(0), Some(1), Some(0)]);
        assert_eq!(timeline.errors.0, [Some(0), Some(0), Some(1), Some(0)]);
        let p50 = timeline.check_p50_us.0;
        assert!(p50[0].is_some_and(|us| (500..=501).contains(&us)), "{p50:?}");
        assert_eq!(&p50[1..3], [None, None]);
        assert!(p50[3].is_some_and(|us| (4995..=5005).contains(&us)), "{p50:?}");
        assert!(timeline.check_p99_us.get(0).is_some_and(|us| (990..=991).contains(&us)));
        assert_eq!(timeline.events, [TimelineEvent { at_ms: 150, what: "store cut off".into() }]);
    }

    /// Starting the window forgets what came before (the warm-up).
    #[test]
    fn start_forgets_the_warm_up() {
        let mut t = TimelineRecorder::new(100 * MS);
        let before = Instant::now();
        t.add(before, Tally::Answer);
        t.start(before + 500 * MS);
        t.add(before + 520 * MS, Tally::Answer);
        assert_eq!(t.finish().unwrap().requests.0, [Some(1)]);
        assert!(TimelineRecorder::new(100 * MS).finish().is_none());
    }

    /// 100 ms up to a minute; longer windows stay within 600 intervals, in whole 100 ms.
    #[test]
    fn interval_grows_with_the_window() {
        assert_eq!(interval_for(Duration::from_secs(1)), 100 * MS);
        assert_eq!(interval_for(FINE_UP_TO), 100 * MS);
        assert_eq!(interval_for(Duration::from_secs(61)), 200 * MS);
        assert_eq!(interval_for(Duration::from_secs(600)), 1000 * MS);
        assert_eq!(interval_for(Duration::ZERO), 100 * MS);
    }
}
