//! `revbench compare`: baseline vs current, noise-aware, with an exit code for CI.
//!
//! A metric counts as a regression only when it got worse by more than the threshold **and**
//! beyond the noise band the rounds show: the current run's best round is worse than the
//! baseline's worst round (the min–max ranges do not overlap). Gates use ratios, never
//! absolute numbers from another machine.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::Serialize;
use thiserror::Error;

use crate::results::{Measurement, RunResults, Spread};

pub mod command;

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// The metrics compared, each read from a measurement's medians.
const METRICS: [(&str, Better); 3] =
    [("requests_per_sec", Better::Higher), ("p50_us", Better::Lower), ("p99_us", Better::Lower)];

fn metric(m: &Measurement, name: &str) -> Option<Spread> {
    let median = m.median.as_ref()?;
    Some(match name {
        "requests_per_sec" => median.requests_per_sec,
        "p50_us" => median.p50_us,
        "p99_us" => median.p99_us,
        _ => return None,
    })
}

/// One metric of one store under one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub store: String,
    pub scenario: String,
    pub metric: String,
    pub better: Better,
    pub baseline: Spread,
    pub current: Spread,
    /// current median / baseline median.
    pub ratio: f64,
    /// How much worse, as a fraction (0.25 = 25% worse); negative when better.
    pub worse_by: f64,
    /// The min–max ranges of the rounds do not overlap.
    pub beyond_noise: bool,
    pub regression: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub max_regression: f64,
    pub changes: Vec<Change>,
    /// Stores measured in only one of the two runs.
    pub unmatched_stores: Vec<String>,
}

/// Inputs that cannot be compared.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompareError {
    #[error(
        "the runs measured different scenarios (baseline: {baseline}; current: {current}); \
         run both with the same --scenario list"
    )]
    DifferentScenarios { baseline: String, current: String },
    #[error("no store was measured in both runs; run both with the same --stores")]
    NoCommonStore,
}

fn scenario_names(r: &RunResults) -> BTreeSet<String> {
    r.config.scenarios.iter().map(|s| s.name.clone()).collect()
}

/// Compares `current` against `baseline`; `max_regression` is a fraction (0.10 = 10%).
pub fn compare(
    baseline: &RunResults,
    current: &RunResults,
    max_regression: f64,
) -> Result<Comparison, CompareError> {
    let (b, c) = (scenario_names(baseline), scenario_names(current));
    if b != c {
        let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        return Err(CompareError::DifferentScenarios { baseline: join(&b), current: join(&c) });
    }
    let mut changes = Vec::new();
    let mut matched = BTreeSet::new();
    let mut unmatched = BTreeSet::new();
    for base in &baseline.measurements {
        let Some(cur) = current
            .measurements
            .iter()
            .find(|m| m.store == base.store && m.scenario == base.scenario)
        else {
            unmatched.insert(base.store.clone());
            continue;
        };
        matched.insert(base.store.clone());
        for (name, better) in METRICS {
            let (Some(bs), Some(cs)) = (metric(base, name), metric(cur, name)) else { continue };
            changes.push(change(&base.store, &base.scenario, name, better, bs, cs, max_regression));
        }
    }
    for m in &current.measurements {
        if !matched.contains(&m.store) {
            unmatched.insert(m.store.clone());
        }
    }
    if matched.is_empty() {
        return Err(CompareError::NoCommonStore);
    }
    unmatched.retain(|s| !matched.contains(s));
    Ok(Comparison { max_regression, changes, unmatched_stores: unmatched.into_iter().collect() })
}

fn change(
    store: &str,
    scenario: &str,
    metric: &str,
    better: Better,
    baseline: Spread,
    current: Spread,
    max_regression: f64,
) -> Change {
    let ratio = if baseline.median > 0.0 { current.median / baseline.median } else { 1.0 };
    let (worse_by, beyond_noise) = match better {
        Better::Lower => (ratio - 1.0, current.min > baseline.max),
        Better::Higher => {
            let worse = if current.median > 0.0 {
                baseline.median / current.median - 1.0
            } else {
                f64::INFINITY
            };
            (worse, current.max < baseline.min)
        }
    };
    Change {
        store: store.to_string(),
        scenario: scenario.to_string(),
        metric: metric.to_string(),
        better,
        baseline,
        current,
        ratio,
        worse_by,
        beyond_noise,
        regression: worse_by > max_regression && beyond_noise,
    }
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.regression)
    }

    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some()
    }

    fn verdict(&self, c: &Change) -> &'static str {
        if c.regression {
            "REGRESSION"
        } else if c.worse_by > self.max_regression {
            "worse, within noise"
        } else if c.worse_by < -self.max_regression && c.beyond_noise {
            "better"
        } else {
            "ok"
        }
    }

    fn rows(&self) -> Vec<[String; 6]> {
        let band = |s: &Spread| format!("{:.1} ({:.1}–{:.1})", s.median, s.min, s.max);
        self.changes
            .iter()
            .map(|c| {
                [
                    format!("{} / {}", c.scenario, c.store),
                    c.metric.clone(),
                    band(&c.baseline),
                    band(&c.current),
                    format!("{:.3}×", c.ratio),
                    self.verdict(c).to_string(),
                ]
            })
            .collect()
    }

    fn headline(&self) -> String {
        let regressions: Vec<String> = self
            .regressions()
            .map(|c| {
                format!("{} {} / {} {:+.1}%", c.metric, c.scenario, c.store, c.worse_by * 100.0)
            })
            .collect();
        if regressions.is_empty() {
            format!(
                "no regression beyond {:.0}% and the rounds' noise band",
                self.max_regression * 100.0
            )
        } else {
            format!("{} regression(s): {}", regressions.len(), regressions.join("; "))
        }
    }

    /// Plain text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<32} {:<17} {:>28} {:>28} {:>9}  verdict",
            "scenario / store", "metric", "baseline (min–max)", "current (min–max)", "ratio"
        );
        for r in self.rows() {
            let _ = writeln!(
                out,
                "{:<32} {:<17} {:>28} {:>28} {:>9}  {}",
                r[0], r[1], r[2], r[3], r[4], r[5]
            );
        }
        for store in &self.unmatched_stores {
            let _ = writeln!(out, "not compared: {store} (measured in only one run)");
        }
        let _ = writeln!(out, "{}", self.headline());
        out
    }

    /// Markdown, ready to paste as a pull-request comment.
    pub fn markdown(&self) -> String {
        let mark = if self.has_regression() { "❌" } else { "✅" };
        let mut out = format!("### revbench compare {mark}\n\n{}\n\n", self.headline());
        out.push_str("| scenario / store | metric | baseline (min–max) | current (min–max) | ratio | verdict |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for r in self.rows() {
            let verdict = if r[5] == "REGRESSION" { format!("**{}**", r[5]) } else { r[5].clone() };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r[0], r[1], r[2], r[3], r[4], verdict
            );
        }
        if !self.unmatched_stores.is_empty() {
            let _ = write!(
                out,
                "\nNot compared (measured in only one run): {}\n",
                self.unmatched_stores.join(", ")
            );
        }
        out.push_str(
            "\nLatency in µs. A regression is worse than the threshold *and* outside the rounds' \
             min–max band.\n",
        );
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("comparison serializes")
    }
}

/// Parses `10%`, `10` (percent) or `0.1` (fraction below 1).
pub fn parse_threshold(raw: &str) -> Result<f64, String> {
    let trimmed = raw.trim();
    let (number, percent) = match trimmed.strip_suffix('%') {
        Some(n) => (n, true),
        None => (trimmed, false),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a percentage; write e.g. 10%"))?;
    let fraction = if percent || value >= 1.0 { value / 100.0 } else { value };
    if !(0.0..10.0).contains(&fraction) {
        return Err(format!("`{raw}` is out of range; use 0% to 1000%"));
    }
    Ok(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thresholds are read as percentages.
    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("10%").unwrap(), 0.10);
        assert_eq!(parse_threshold("25").unwrap(), 0.25);
        assert_eq!(parse_threshold("0.05").unwrap(), 0.05);
        assert!(parse_threshold("ten").is_err());
        assert!(parse_threshold("-5%").is_err());
    }

    /// Regression needs both: beyond threshold and beyond noise; throughput is inverted.
    #[test]
    fn regression_needs_threshold_and_noise() {
        let s = |median, min, max| Spread { median, min, max };
        let slow = change(
            "r",
            "s",
            "p50_us",
            Better::Lower,
            s(100.0, 95.0, 105.0),
            s(200.0, 190.0, 210.0),
            0.1,
        );
        assert!(slow.regression && slow.beyond_noise);
        let noisy = change(
            "r",
            "s",
            "p50_us",
            Better::Lower,
            s(100.0, 60.0, 140.0),
            s(115.0, 80.0, 150.0),
            0.1,
        );
        assert!(!noisy.regression && !noisy.beyond_noise);
        let fewer = change(
            "r",
            "s",
            "requests_per_sec",
            Better::Higher,
            s(1000.0, 990.0, 1010.0),
            s(500.0, 490.0, 510.0),
            0.1,
        );
        assert!(fewer.regression && (fewer.worse_by - 1.0).abs() < 1e-9);
        let more = change(
            "r",
            "s",
            "requests_per_sec",
            Better::Higher,
            s(1000.0, 990.0, 1010.0),
            s(2000.0, 1990.0, 2010.0),
            0.1,
        );
        assert!(!more.regression && more.worse_by < 0.0);
    }
}
