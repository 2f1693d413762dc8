//! `revbench check`: absolute thresholds (service-level objectives) on one results file, with
//! an exit code for CI, as k6's thresholds: `--threshold 'p99 < 2ms' --threshold 'leak == 0'`.
//!
//! Each threshold is judged on the interval of its metric, never on a point alone: latency and
//! throughput on the median of the rounds with its exact sign-test interval; the leak rate on
//! the Wilson interval of the replays answered, and `leak == 0` (or `<= 0`) on the count
//! observed. A threshold is **crossed** when the whole interval lies on the wrong side (with
//! fewer than 5 rounds the interval is their min–max: every round crossed it), **met** when
//! the whole interval lies on the right side and covers at least 90%, and **inconclusive**
//! otherwise: the interval straddles it, or too few rounds to say it holds.

use serde::Serialize;

use crate::results::{Measurement, RunResults};
use crate::stats::{self, Estimate};

pub mod command;
pub mod file;
mod threshold;

pub use threshold::{parse as threshold_parse, Metric, Op, Threshold};

/// How a threshold fared in one store and scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Crossed,
    Inconclusive,
}

/// One threshold in one store and scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub threshold: String,
    pub store: String,
    pub scenario: String,
    pub value: Estimate,
    pub outcome: Outcome,
}

/// The value of `metric` in `m`, with its interval; `None` when the rounds lack it.
fn estimate(metric: Metric, m: &Measurement) -> Option<Estimate> {
    match metric {
        Metric::Leak => {
            let (leaks, answered) = m
                .rounds
                .iter()
                .fold((0, 0), |(l, a), r| (l + r.replays_accepted, a + r.replays_answered()));
            stats::proportion_interval(leaks, answered)
        }
        _ => {
            let values: Vec<f64> = m.rounds.iter().filter_map(|r| metric.read(r)).collect();
            stats::median_interval(&values)
        }
    }
}

/// Judges `value` against `t`.
fn judge(t: &Threshold, value: &Estimate) -> Outcome {
    // A count of zero observed is exact: `leak == 0` holds for what was replayed.
    if t.metric == Metric::Leak && t.value == 0.0 && matches!(t.op, Op::Eq | Op::Le) {
        return if value.value == 0.0 { Outcome::Met } else { Outcome::Crossed };
    }
    let holds = |x| t.op.holds(x, t.value);
    let all_true = holds(value.low) && holds(value.high);
    let all_false =
        !holds(value.low) && !holds(value.high) && (t.op != Op::Eq || !value.contains(t.value));
    if all_false {
        Outcome::Crossed
    } else if all_true && value.confidence >= crate::compare::MIN_CONFIDENCE {
        Outcome::Met
    } else {
        Outcome::Inconclusive
    }
}

/// A threshold with the store and scenario it applies to (every one when `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped {
    pub threshold: Threshold,
    pub store: Option<String>,
    pub scenario: Option<String>,
}

/// Every threshold against every measurement (of `store` and `scenario` when given).
pub fn check(
    results: &RunResults,
    thresholds: &[Threshold],
    store: Option<&str>,
    scenario: Option<&str>,
) -> Vec<Judgement> {
    let scoped: Vec<Scoped> = thresholds
        .iter()
        .map(|t| Scoped { threshold: t.clone(), store: None, scenario: None })
        .collect();
    check_scoped(results, &scoped, store, scenario)
}

/// Every threshold against every measurement of its own store and scenario, within `store`
/// and `scenario` when given.
pub fn check_scoped(
    results: &RunResults,
    thresholds: &[Scoped],
    store: Option<&str>,
    scenario: Option<&str>,
) -> Vec<Judgement> {
    let mut out = Vec::new();
    for m in &results.measurements {
        if store.is_some_and(|s| s != m.store) || scenario.is_some_and(|s| s != m.scenario) {
            continue;
        }
        let applies = |s: &Scoped| {
            s.store.as_ref().is_none_or(|x| *x == m.store)
                && s.scenario.as_ref().is_none_or(|x| *x == m.scenario)
        };
        for t in thresholds.iter().filter(|s| applies(s)).map(|s| &s.threshold) {
            let Some(value) = estimate(t.metric, m) else { continue };
            out.push(Judgement {
                threshold: t.to_string(),
                store: m.store.clone(),
                scenario: m.scenario.clone(),
                value,
                outcome: judge(t, &value),
            });
        }
    }
    out
}

/// 1 when a threshold is crossed, 3 when one is inconclusive, 0 when every one is met.
pub fn exit_code(judgements: &[Judgement]) -> u8 {
    if judgements.iter().any(|j| j.outcome == Outcome::Crossed) {
        1
    } else if judgements.is_empty() || judgements.iter().any(|j| j.outcome == Outcome::Inconclusive)
    {
        crate::compare::EXIT_INCONCLUSIVE
    } else {
        0
    }
}
