//! What the load steps record: an HDR histogram of every request's latency, statuses and
//! errors by step, and the replays by answer (accepted, refused, unanswered), which give the
//! leak rate. Replays have a histogram of their own whatever their answer, so that no store's
//! latency figures hold requests another store's do not. The same tallies are kept interval
//! by interval too ([`super::timeline`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::forget::LoggedOut;
use super::replay_window::Answer;
use super::timeline::{Tally, TimelineRecorder};
use crate::lock::MutexExt;
use crate::results::{LatencySummary, Timeline, CHECK_REQUEST, RESTARTED, STORE_BACK, STORE_CUT};
use crate::units::Micros;

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

/// Which histogram a sample goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// An expected answer, from its actual send (replays go to [`Recorder::replay_latency`]).
    Service,
    /// An answer with another status than expected (401/503 where 200 was expected, …), from
    /// its actual send: kept apart so failing fast never looks fast.
    Unexpected,
    /// Constant-rate mode: an expected answer from its intended start (corrected for
    /// coordinated omission), without the client's own lateness.
    Corrected,
    /// Constant-rate mode: how late the client sent a request after it could have.
    PacingLateness,
}

/// Shared by every simulated user of one measurement.
#[derive(Default)]
pub struct Recorder {
    // std Mutexes: each critical section is one histogram record or map increment, never
    // held across an await; contention is small next to a request's cost.
    service: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    unexpected: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    corrected: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    lateness: Mutex<BTreeMap<&'static str, Histogram<Micros>>>,
    /// Every replay's latency, whatever its answer.
    replays: Mutex<Option<Histogram<Micros>>>,
    // Keyed without allocating: this runs once per request on the load client's hot path.
    statuses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    replays_accepted: AtomicU64,
    replays_refused: AtomicU64,
    replays_unanswered: AtomicU64,
    kept_copies: Mutex<Vec<String>>,
    /// [`PHASE_NORMAL`], [`PHASE_OUTAGE`] or [`PHASE_RECOVERING`].
    phase: AtomicU8,
    outage: Mutex<OutageLog>,
    /// Set during the warm-up: nothing is recorded until [`Recorder::start_recording`].
    warming_up: AtomicBool,
    /// The same tallies by interval, from [`Recorder::start_recording`].
    timeline: Mutex<TimelineRecorder>,
    /// The logouts sent, warm-up included, when the store is kept across measurements.
    logged_out: LoggedOut,
}

/// Where a measurement is relative to a store outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase(u8);

const PHASE_NORMAL: u8 = 0;
const PHASE_OUTAGE: u8 = 1;
const PHASE_RECOVERING: u8 = 2;

/// What happened while the store was cut off, and how long recovery took.
#[derive(Debug, Clone, Default)]
pub struct OutageLog {
    pub cut_at: Option<Instant>,
    pub restored_at: Option<Instant>,
    /// From the store's return to the first `me` answered 200.
    pub recovered_after: Option<Duration>,
    /// Responses while the store was down, e.g. `"me 503": 812`.
    pub statuses_during: BTreeMap<String, u64>,
    pub replays_accepted_during: u64,
}

/// Everything recorded, read once the measurement is over.
pub struct Recorded {
    pub latency: BTreeMap<String, LatencySummary>,
    pub corrected: BTreeMap<String, LatencySummary>,
    pub all: Option<LatencySummary>,
    pub all_corrected: Option<LatencySummary>,
    pub all_histogram: Histogram<Micros>,
    /// Every answer with an unexpected status, all request kinds together.
    pub all_unexpected: Option<LatencySummary>,
    /// Constant-rate mode: the client's own lateness, all request kinds together.
    pub pacing_lateness: Option<LatencySummary>,
    /// Every replay, whatever its answer.
    pub replay_latency: Option<LatencySummary>,
    /// Requests answered, expected or not, replays included.
    pub requests: u64,
    pub statuses: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub replays_accepted: u64,
    pub replays_refused: u64,
    pub replays_unanswered: u64,
    /// Set when the store was cut off during the measurement.
    pub outage: Option<OutageLog>,
    /// The measurement interval by interval.
    pub timeline: Option<Timeline>,
}

impl Recorder {
    /// A recorder that ignores everything until [`Recorder::start_recording`]: the warm-up
    /// (cold connections, caches, allocator) is load, not measurement.
    pub fn warming_up() -> Self {
        let recorder = Self::default();
        recorder.warming_up.store(true, Ordering::Relaxed);
        recorder
    }

    /// The same recorder with its timeline in intervals of `interval`.
    pub fn with_interval(self, interval: Duration) -> Self {
        *self.timeline.locked() = TimelineRecorder::new(interval);
        self
    }

    /// The same recorder, noting every logout sent (warm-up included) for
    /// [`super::forget::forget_noted`].
    pub fn noting_logouts(mut self) -> Self {
        self.logged_out = LoggedOut::noting();
        self
    }

    /// The logouts sent, as far as this recorder notes them.
    pub fn logged_out(&self) -> &LoggedOut {
        &self.logged_out
    }

    /// Ends the warm-up: from now on everything counts, and the timeline starts.
    pub fn start_recording(&self) {
        self.timeline.locked().start(Instant::now());
        self.warming_up.store(false, Ordering::Relaxed);
    }

    /// Counts `tally` in the timeline's interval of now (read under its lock, so that
    /// tallies arrive in time order).
    fn tally(&self, tally: Tally) {
        let mut timeline = self.timeline.locked();
        timeline.add(Instant::now(), tally);
    }

    /// Marks an instant on the timeline.
    fn mark(&self, what: &str) {
        let mut timeline = self.timeline.locked();
        timeline.event(Instant::now(), what);
    }

    /// The replicas have just been restarted (the restart scenario, after the load).
    pub fn restarted(&self) {
        self.mark(RESTARTED);
    }

    fn recording(&self) -> bool {
        !self.warming_up.load(Ordering::Relaxed)
    }

    /// Records one request of `request` (e.g. `me`, `login`) that took `elapsed`.
    pub fn latency(&self, clock: Clock, request: &'static str, elapsed: Duration) {
        if !self.recording() {
            return;
        }
        // Lateness can be 0 µs; the histogram's lowest value is 1.
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_TRACKABLE);
        let map = match clock {
            Clock::Service => &self.service,
            Clock::Unexpected => &self.unexpected,
            Clock::Corrected => &self.corrected,
            Clock::PacingLateness => &self.lateness,
        };
        map.locked().entry(request).or_insert_with(new_histogram).saturating_record(micros);
        match clock {
            Clock::Service if request == CHECK_REQUEST => self.tally(Tally::Check(elapsed)),
            Clock::Unexpected => self.tally(Tally::Error),
            _ => {}
        }
    }

    /// The phase now; requests take it when they are sent, so one that was already in flight
    /// when the store was cut off does not count as answered during the outage.
    pub fn phase(&self) -> Phase {
        Phase(self.phase.load(Ordering::Relaxed))
    }

    /// Counts a response status for `request` (key `"me 200"`) sent in `sent_in`, and, around
    /// an outage: what was both sent and answered while the store was down (a request that
    /// waited out the outage and was answered after the store returned is not "during"), and
    /// when a `me` was first answered 200 after the store returned.
    pub fn status(&self, sent_in: Phase, request: &'static str, status: u16) {
        if !self.recording() {
            return;
        }
        let now = self.phase.load(Ordering::Relaxed);
        if sent_in.0 == PHASE_OUTAGE && now == PHASE_OUTAGE {
            let mut outage = self.outage.locked();
            *outage.statuses_during.entry(format!("{request} {status}")).or_default() += 1;
        } else if now == PHASE_RECOVERING && request == "me" && status == 200 {
            let mut outage = self.outage.locked();
            if let (None, Some(restored)) = (outage.recovered_after, outage.restored_at) {
                outage.recovered_after = Some(restored.elapsed());
            }
        }
        *self.statuses.locked().entry((request, status)).or_default() += 1;
        self.tally(Tally::Answer);
    }

    /// The store has just been cut off.
    pub fn begin_outage(&self) {
        self.outage.locked().cut_at = Some(Instant::now());
        self.phase.store(PHASE_OUTAGE, Ordering::Relaxed);
        self.mark(STORE_CUT);
    }

    /// The store is reachable again.
    pub fn end_outage(&self) {
        self.outage.locked().restored_at = Some(Instant::now());
        self.phase.store(PHASE_RECOVERING, Ordering::Relaxed);
        self.mark(STORE_BACK);
    }

    /// Counts a request that got no response, by kind (`connect`, `timeout`, `other`).
    pub fn error(&self, request: &'static str, kind: &str) {
        if !self.recording() {
            return;
        }
        *self.errors.locked().entry(format!("{request} {kind}")).or_default() += 1;
        self.tally(Tally::Error);
    }

    /// Counts one replay of a revoked token sent in `sent_in`, by its answer: accepted (a
    /// leak), refused, or unanswered (a 5xx, or no answer: nothing shown either way).
    pub fn replay(&self, sent_in: Phase, answer: Answer) {
        if !self.recording() {
            return;
        }
        let counter = match answer {
            Answer::Accepted => &self.replays_accepted,
            Answer::Refused => &self.replays_refused,
            Answer::Unanswered => &self.replays_unanswered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let during =
            sent_in.0 == PHASE_OUTAGE && self.phase.load(Ordering::Relaxed) == PHASE_OUTAGE;
        if answer == Answer::Accepted && during {
            self.outage.locked().replays_accepted_during += 1;
        }
    }

    /// Records how long one replay took to be answered (or to fail), whatever the answer.
    pub fn replay_latency(&self, elapsed: Duration) {
        if !self.recording() {
            return;
        }
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_TRACKABLE);
        self.replays.locked().get_or_insert_with(new_histogram).saturating_record(micros);
    }

    /// Keeps a revoked token's copy for the replay after a restart (up to [`MAX_KEPT_COPIES`]).
    pub fn keep_copy(&self, token: String) {
        let mut kept = self.kept_copies.locked();
        if kept.len() < MAX_KEPT_COPIES {
            kept.push(token);
        }
    }

    /// Takes the kept copies out.
    pub fn take_copies(&self) -> Vec<String> {
        std::mem::take(&mut *self.kept_copies.locked())
    }

    /// Summarises what was recorded.
    pub fn finish(&self) -> Recorded {
        let summarise = |map: &Mutex<BTreeMap<&'static str, Histogram<Micros>>>| {
            let map = map.locked();
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
        let (_, all_unexpected) = summarise(&self.unexpected);
        let (_, lateness) = summarise(&self.lateness);
        let overall =
            |h: &Histogram<Micros>| (!h.is_empty()).then(|| LatencySummary::from_histogram(h));
        let statuses: BTreeMap<String, u64> = (self.statuses.locked().iter())
            .map(|((request, status), n)| (format!("{request} {status}"), *n))
            .collect();
        Recorded {
            latency,
            corrected,
            all: (!all_histogram.is_empty())
                .then(|| LatencySummary::from_histogram(&all_histogram)),
            all_corrected: (!all_corrected.is_empty())
                .then(|| LatencySummary::from_histogram(&all_corrected)),
            requests: statuses.values().sum(),
            all_unexpected: overall(&all_unexpected),
            pacing_lateness: overall(&lateness),
            replay_latency: self.replays.locked().as_ref().and_then(overall),
            all_histogram,
            statuses,
            errors: self.errors.locked().clone(),
            replays_accepted: self.replays_accepted.load(Ordering::Relaxed),
            replays_refused: self.replays_refused.load(Ordering::Relaxed),
            replays_unanswered: self.replays_unanswered.load(Ordering::Relaxed),
            outage: (self.phase.load(Ordering::Relaxed) != PHASE_NORMAL)
                .then(|| self.outage.locked().clone()),
            timeline: self.timeline.locked().finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Percentiles come from every recorded sample, per request and overall; unexpected
    /// answers are kept out of the expected answers' latency, replays out of both; every
    /// answer counts as a request.
    #[test]
    fn summarises_per_request_and_overall() {
        let recorder = Recorder::default();
        for ms in 1..=100 {
            recorder.latency(Clock::Service, "me", Duration::from_millis(ms));
        }
        recorder.latency(Clock::Service, "login", Duration::from_secs(1));
        recorder.latency(Clock::Unexpected, "me", Duration::from_micros(30));
        recorder.replay_latency(Duration::from_micros(70));
        let now = recorder.phase();
        for _ in 0..100 {
            recorder.status(now, "me", 200);
        }
        recorder.status(now, "login", 200);
        recorder.status(now, "me", 503);
        recorder.status(now, "replay", 503);
        recorder.replay(now, Answer::Accepted);
        recorder.replay(now, Answer::Refused);
        recorder.replay(now, Answer::Unanswered);
        let done = recorder.finish();
        let me = &done.latency["me"];
        assert_eq!(me.count, 100);
        assert!((me.p50_us as i64 - 50_000).abs() <= 50, "{me:?}");
        assert!((me.p99_us as i64 - 99_000).abs() <= 100, "{me:?}");
        assert_eq!(done.requests, 103, "every answer counts, the replay's too");
        let all = done.all.unwrap();
        assert!(all.max_us >= 999_000 && all.count == 101, "{all:?}");
        assert_eq!(done.all_unexpected.unwrap().p50_us, 30, "kept apart from the expected");
        assert_eq!(done.replay_latency.unwrap().p50_us, 70, "replays apart from both");
        assert_eq!(done.statuses["me 200"], 100);
        let replays = (done.replays_accepted, done.replays_refused, done.replays_unanswered);
        assert_eq!(replays, (1, 1, 1));
        assert!(done.all_corrected.is_none());
        assert!(done.outage.is_none());
    }

    /// Nothing from the warm-up counts; everything after it does.
    #[test]
    fn warm_up_is_not_recorded() {
        let recorder = Recorder::warming_up();
        let now = recorder.phase();
        recorder.latency(Clock::Service, "me", Duration::from_millis(50));
        recorder.status(now, "me", 200);
        recorder.replay(now, Answer::Accepted);
        recorder.replay_latency(Duration::from_millis(1));
        recorder.error("me", "timeout");
        recorder.start_recording();
        recorder.latency(Clock::Service, "me", Duration::from_millis(1));
        recorder.status(now, "me", 200);
        let done = recorder.finish();
        assert_eq!((done.requests, done.replays_accepted), (1, 0));
        assert!(done.replay_latency.is_none());
        assert_eq!(done.all.unwrap().max_us, 1000);
        assert_eq!(done.statuses["me 200"], 1);
        assert!(done.errors.is_empty());
    }

    /// Responses during an outage are counted apart; recovery is the first `me` 200 after it.
    #[test]
    fn outage_phases() {
        let recorder = Recorder::default();
        let before = recorder.phase();
        recorder.begin_outage();
        recorder.status(before, "me", 200); // in flight when the store was cut: not "during"
        let down = recorder.phase();
        recorder.status(down, "me", 503);
        recorder.replay(down, Answer::Accepted);
        recorder.status(down, "me", 503);
        recorder.end_outage();
        let back = recorder.phase();
        recorder.status(down, "me", 200); // waited out the outage: answered after it, not during
        recorder.status(back, "me", 200);
        let outage = recorder.finish().outage.unwrap();
        assert_eq!(outage.statuses_during.get("me 503"), Some(&2));
        assert_eq!(outage.statuses_during.get("me 200"), None);
        assert_eq!(outage.replays_accepted_during, 1);
        assert!(outage.recovered_after.unwrap() < Duration::from_secs(1));
    }
}
