//! Correctness in a verdict: what fails a comparison whatever the latency says. A store that
//! stops revoking or fails fast answers *faster*; these checks make sure it never passes.

use serde::Serialize;

use crate::results::answers;
use crate::results::{Measurement, RunResults, StoreStatus};
use crate::stats;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Measured in the baseline, skipped or absent in the current run.
    StoreMissing,
    /// The measurement failed in the current run (e.g. its servers did not start).
    MeasurementFailed,
    /// More replays of revoked tokens let in (of the replays answered).
    LeakRate,
    /// More checks the store could not answer (from the servers' `/stats`).
    StoreErrors,
    /// More replays not answered properly (5xx, no answer): a store that cannot say whether
    /// a copy is revoked protects nobody, however fast it fails.
    UnansweredReplays,
    /// More answers other than the expected status (e.g. 503 to `GET /api/me`) or no answer.
    UnexpectedAnswers,
}

impl ProblemKind {
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::StoreMissing => "store missing",
            ProblemKind::MeasurementFailed => "measurement failed",
            ProblemKind::LeakRate => "leak rate",
            ProblemKind::StoreErrors => "store errors",
            ProblemKind::UnansweredReplays => "unanswered replays",
            ProblemKind::UnexpectedAnswers => "unexpected answers",
        }
    }
}

/// One correctness failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub store: String,
    /// `None` when it concerns the store as a whole.
    pub scenario: Option<String>,
    /// What the baseline showed, and the current run.
    pub baseline: String,
    pub current: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match &self.scenario {
            Some(scenario) => format!("{scenario} / {}", self.store),
            None => self.store.clone(),
        };
        write!(f, "{} {place}: {} → {}", self.kind.label(), self.baseline, self.current)
    }
}

/// Store errors and unexpected answers fail only when their rate at least doubles and the 95%
/// intervals do not overlap: an outage scenario has some on both sides, in numbers that follow
/// its timing, and a loaded machine times out a request now and then (measured: 1 store error
/// in 21,339 requests where the baseline had 0 of 32,858 — not a finding).
const RATE_FACTOR: f64 = 2.0;

/// A replay let in where the baseline let none in (or replayed nothing) always fails: a store
/// that revokes lets no copy through, so one leak is a bug, not noise.
const LEAK_FACTOR: f64 = 1.0;

/// Counts (events, trials) over a measurement's rounds, e.g. (replays accepted, attempted).
type Counter = fn(&Measurement) -> (u64, u64);

/// Every correctness failure of `current` against `baseline`.
pub fn problems(baseline: &RunResults, current: &RunResults) -> Vec<Problem> {
    let mut out = missing_stores(baseline, current);
    for base in baseline.measurements.iter().filter(|m| !m.rounds.is_empty()) {
        if out.iter().any(|p| p.store == base.store && p.scenario.is_none()) {
            continue;
        }
        let problem = |kind, baseline: String, current: String| Problem {
            kind,
            store: base.store.clone(),
            scenario: Some(base.scenario.clone()),
            baseline,
            current,
        };
        let failed =
            current.failures.iter().find(|f| f.store == base.store && f.scenario == base.scenario);
        if let Some(failure) = failed {
            out.push(problem(
                ProblemKind::MeasurementFailed,
                format!("measured in {} rounds", base.rounds.len()),
                format!("failed in round {}: {}", failure.round, failure.error),
            ));
        }
        let cur = current
            .measurements
            .iter()
            .find(|m| m.store == base.store && m.scenario == base.scenario && !m.rounds.is_empty());
        let Some(cur) = cur else {
            if failed.is_none() {
                out.push(problem(
                    ProblemKind::StoreMissing,
                    "measured".into(),
                    "not measured".into(),
                ));
            }
            continue;
        };
        let checks: [(ProblemKind, Counter, f64, &str); 4] = [
            (ProblemKind::LeakRate, leaks, LEAK_FACTOR, "answered replays"),
            (ProblemKind::StoreErrors, store_errors, RATE_FACTOR, "requests"),
            (ProblemKind::UnansweredReplays, unanswered_replays, RATE_FACTOR, "replays"),
            (ProblemKind::UnexpectedAnswers, unexpected_answers, RATE_FACTOR, "requests"),
        ];
        for (kind, count, factor, of) in checks {
            let (b, c) = (count(base), count(cur));
            if got_worse(b, c, factor) {
                out.push(problem(kind, show(b, of), show(c, of)));
            }
        }
    }
    out
}

/// `3.1% (12/384 replays)`.
fn show((hits, trials): (u64, u64), of: &str) -> String {
    let pct = if trials > 0 { 100.0 * hits as f64 / trials as f64 } else { 0.0 };
    format!("{pct:.1}% ({hits}/{trials} {of})")
}

/// Stores the baseline measured that the current run skipped or did not ask for.
fn missing_stores(baseline: &RunResults, current: &RunResults) -> Vec<Problem> {
    let measured = |r: &RunResults, store: &str| {
        r.measurements.iter().any(|m| m.store == store && !m.rounds.is_empty())
    };
    baseline
        .stores
        .iter()
        .filter(|s| s.status == StoreStatus::Measured && measured(baseline, &s.name))
        .filter_map(|s| {
            let now = match current.stores.iter().find(|c| c.name == s.name) {
                None => "not in this run's --stores".to_string(),
                Some(c) if c.status != StoreStatus::Measured => {
                    format!("skipped: {}", c.reason.as_deref().unwrap_or("no reason given"))
                }
                Some(_) => return None,
            };
            Some(Problem {
                kind: ProblemKind::StoreMissing,
                store: s.name.clone(),
                scenario: None,
                baseline: "measured".into(),
                current: now,
            })
        })
        .collect()
}

/// (accepted, answered): a replay that got no proper answer is neither.
fn leaks(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(l, a), r| (l + r.replays_accepted, a + r.replays_answered()))
}

/// (unanswered, attempted).
fn unanswered_replays(m: &Measurement) -> (u64, u64) {
    m.rounds
        .iter()
        .fold((0, 0), |(u, a), r| (u + r.replays_unanswered.unwrap_or(0), a + r.replays_attempted))
}

fn store_errors(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(e, n), r| (e + r.store_errors, n + r.requests))
}

/// Answers with another status than expected, and requests without an answer; what was
/// answered while the store was deliberately cut off is the scenario, not a failure.
fn unexpected_answers(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(u, n), r| {
        let during = r.outage.as_ref().map(|o| answers::unexpected(&o.statuses_during));
        let unexpected = answers::unexpected(&r.statuses).saturating_sub(during.unwrap_or(0))
            + r.errors.values().sum::<u64>();
        (u + unexpected, n + r.requests + r.errors.values().sum::<u64>())
    })
}

/// `current` is worse: for leaks, any where the baseline had none or replayed nothing;
/// otherwise its rate is `factor` times the baseline's or more with the two 95% (Wilson)
/// intervals apart.
fn got_worse(baseline: (u64, u64), current: (u64, u64), factor: f64) -> bool {
    if current.0 == 0 || current.1 == 0 {
        return false;
    }
    if baseline.0 == 0 && factor == LEAK_FACTOR {
        return true;
    }
    if baseline.1 == 0 {
        return false;
    }
    let (Some(b), Some(c)) = (
        stats::proportion_interval(baseline.0, baseline.1),
        stats::proportion_interval(current.0, current.1),
    ) else {
        return false;
    };
    c.low > b.high && c.value >= factor * b.value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leak where there was none is worse; otherwise the rate must rise beyond both
    /// intervals (and by the factor).
    #[test]
    fn worse_rates() {
        assert!(got_worse((0, 1000), (1, 1000), LEAK_FACTOR), "one leak where none was");
        assert!(got_worse((0, 0), (3, 40), LEAK_FACTOR), "a leak where nothing was replayed");
        assert!(!got_worse((0, 0), (3, 40), RATE_FACTOR), "no baseline rate to compare with");
        assert!(!got_worse((0, 32_858), (1, 21_339), RATE_FACTOR), "one timeout is noise");
        assert!(got_worse((0, 32_858), (40, 21_339), RATE_FACTOR));
        assert!(!got_worse((0, 1000), (0, 1000), 2.0));
        assert!(!got_worse((100, 10_000), (110, 10_000), 2.0), "noise");
        assert!(got_worse((100, 10_000), (300, 10_000), 2.0));
        assert!(!got_worse((100, 10_000), (180, 10_000), 2.0), "below the factor");
        assert!(got_worse((400, 1000), (700, 1000), 1.0));
        assert!(!got_worse((1000, 1000), (1000, 1000), 1.0));
    }
}
