//! The call of each metric: an exact test against the threshold, Holm's step-down over every
//! call of one comparison, the 2× rule for changes too large to need a test, and
//! *inconclusive* when the rounds cannot reach the level at all.
//!
//! Each metric's change is tested both ways against the threshold `t`, on the cost (the
//! metric, inverted for throughput) in log space: *worse* is "the cost ratio exceeds 1 + t",
//! *better* "it is below 1 / (1 + t)". The two-sided p-value (twice the smaller one-sided one)
//! is what Holm orders: sorted ascending, the i-th (from 0) of m is called while p ≤ α/(m − i).
//! With one call this is exactly "the whole 95% interval lies beyond the threshold".

use super::{Better, Change, Verdict};
use crate::results::Spread;
use crate::stats;

/// One metric's test.
pub struct Test {
    pub p_value: f64,
    pub p_floor: f64,
    pub leaning: Verdict,
}

/// The cost's log: higher is worse for both kinds of metric.
fn log_cost(better: Better, value: f64) -> f64 {
    let ln = value.max(1e-9).ln();
    match better {
        Better::Lower => ln,
        Better::Higher => -ln,
    }
}

/// Tests one metric: paired when `pairs` is not empty, rounds against rounds otherwise.
pub fn test(
    better: Better,
    base: &[f64],
    current: &[f64],
    pairs: &[(f64, f64)],
    max_regression: f64,
) -> Option<Test> {
    let bound = (1.0 + max_regression).ln();
    let (worse, improved, floor) = if pairs.is_empty() {
        let b: Vec<f64> = base.iter().map(|&v| log_cost(better, v)).collect();
        let c: Vec<f64> = current.iter().map(|&v| log_cost(better, v)).collect();
        let negate = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
        (
            stats::rank_sum_test_p(&b, &c, bound)?,
            stats::rank_sum_test_p(&negate(&b), &negate(&c), bound)?,
            stats::rank_sum_floor(b.len(), c.len()),
        )
    } else {
        let d: Vec<f64> =
            pairs.iter().map(|&(b, c)| log_cost(better, c) - log_cost(better, b)).collect();
        let negated: Vec<f64> = d.iter().map(|x| -x).collect();
        (
            stats::sign_test_p(&d, bound)?,
            stats::sign_test_p(&negated, bound)?,
            stats::sign_test_floor(d.len()),
        )
    };
    Some(Test {
        p_value: (2.0 * worse.min(improved)).min(1.0),
        p_floor: (2.0 * floor).min(1.0),
        leaning: if worse <= improved { Verdict::Worse } else { Verdict::Better },
    })
}

/// Worse (or better) when every current round lies `factor`× beyond every baseline round
/// (and beyond the threshold): a change that size needs no test, and a 17× slowdown must
/// never pass for want of rounds. The caller picks the factor by the rounds it has
/// ([`super::GROSS_FACTOR`], [`super::GROSS_FACTOR_FEW`]).
pub fn apart(
    better: Better,
    baseline: &Spread,
    current: &Spread,
    factor: f64,
    max_regression: f64,
) -> Option<Verdict> {
    let factor = factor.max(1.0 + max_regression);
    let higher = current.min >= factor * baseline.max && baseline.max > 0.0;
    let lower = current.max * factor <= baseline.min;
    match (better, higher, lower) {
        (Better::Lower, true, _) | (Better::Higher, _, true) => Some(Verdict::Worse),
        (Better::Lower, _, true) | (Better::Higher, true, _) => Some(Verdict::Better),
        _ => None,
    }
}

/// Holm's step-down over every change, then each verdict: called by the test, else by the 2×
/// rule, else inconclusive when even the most extreme rounds could not have reached the level
/// it was tested at, else no measurable change.
pub fn decide(changes: &mut [Change], alpha: f64) {
    let m = changes.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| changes[a].p_value.total_cmp(&changes[b].p_value));
    let mut stopped: Option<f64> = None;
    for (i, &index) in order.iter().enumerate() {
        let c = &mut changes[index];
        let level = stopped.unwrap_or(alpha / (m - i) as f64);
        c.level = level;
        if stopped.is_none() && c.p_value <= level {
            c.verdict = c.leaning;
            continue;
        }
        stopped.get_or_insert(level);
        c.verdict = if let Some(apart) = c.apart {
            c.gross = true;
            apart
        } else if c.p_floor > level {
            Verdict::Inconclusive
        } else {
            Verdict::NoMeasurableChange
        };
    }
}

/// The fewest pairs whose test can reach `level` (two-sided): 2 · 2^−n ≤ level.
pub fn pairs_needed(level: f64) -> usize {
    (1..=64).find(|&n| 2.0 * stats::sign_test_floor(n) <= level).unwrap_or(64)
}

/// The fewest rounds a side whose test can reach `level` (two-sided): 2 / C(2r, r) ≤ level.
pub fn rounds_needed(level: f64) -> usize {
    (1..=64).find(|&r| 2.0 * stats::rank_sum_floor(r, r) <= level).unwrap_or(64)
}

/// A p-value in few characters: `0.031`, `0.00067`.
pub fn show_p(p: f64) -> String {
    if p >= 0.01 || p <= 0.0 {
        return format!("{p:.3}");
    }
    let decimals = (-p.log10()).ceil() as usize + 1;
    format!("{p:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six pairs all beyond the threshold give p = 2/64 (two-sided); with one call that is
    /// called, and the floor is the same number.
    #[test]
    fn six_pairs_beyond_the_threshold() {
        let pairs: Vec<(f64, f64)> = (0..6).map(|i| (100.0 + i as f64, 130.0 + i as f64)).collect();
        let t = test(Better::Lower, &[], &[], &pairs, 0.10).unwrap();
        assert!((t.p_value - 2.0 / 64.0).abs() < 1e-12 && t.leaning == Verdict::Worse);
        assert!((t.p_floor - 2.0 / 64.0).abs() < 1e-12);
        let fewer = test(Better::Higher, &[], &[], &pairs, 0.10).unwrap();
        assert_eq!(fewer.leaning, Verdict::Better, "more requests/s is better");
    }

    /// Needed counts: one call at 5% needs 6 pairs (2/64 ≤ 0.05) or 4 rounds a side
    /// (2/70); 75 calls need 12 pairs (2/4096 ≤ 0.00067) and 7 rounds a side (2/3432).
    #[test]
    fn rounds_and_pairs_needed() {
        assert_eq!(pairs_needed(0.05), 6);
        assert_eq!(rounds_needed(0.05), 4);
        assert_eq!(pairs_needed(0.05 / 75.0), 12);
        assert_eq!(rounds_needed(0.05 / 75.0), 7);
        assert_eq!((show_p(0.05 / 75.0), show_p(0.03125)), ("0.00067".into(), "0.031".into()));
    }

    /// The 2× rule calls only when every round is beyond.
    #[test]
    fn apart_needs_every_round_beyond() {
        let s = |min, max| Spread { median: (min + max) / 2.0, min, max };
        let (base, slow) = (s(70.0, 80.0), s(1100.0, 1300.0));
        assert_eq!(apart(Better::Lower, &base, &slow, 2.0, 0.1), Some(Verdict::Worse));
        assert_eq!(apart(Better::Higher, &slow, &base, 2.0, 0.1), Some(Verdict::Worse));
        assert_eq!(apart(Better::Lower, &slow, &base, 2.0, 0.1), Some(Verdict::Better));
        assert_eq!(apart(Better::Lower, &base, &s(150.0, 1300.0), 2.0, 0.1), None, "1.9×");
        assert_eq!(apart(Better::Lower, &base, &s(200.0, 1300.0), 3.0, 0.1), None, "2.5× of 3×");
        assert_eq!(apart(Better::Lower, &base, &slow, 2.0, 20.0), None, "threshold 2000%");
    }
}
