//! `revbench compare`: baseline vs current, honest about noise, with an exit code for CI.
//!
//! Latency and throughput are called worse or better only when an exact test says the change
//! lies beyond the threshold, with Holm's family-wise error control over every call of the
//! comparison ([`holm`]), or when every current round lies 2× beyond every baseline round;
//! when the rounds are too few to call anything the verdict is *inconclusive*, never "no
//! change" ([`RULE`]). Correctness fails a comparison whatever the latency says
//! ([`correctness`]). Gates use ratios, never absolute numbers from another machine.

use serde::Serialize;
use thiserror::Error;

use crate::results::{Measurement, RoundResult, RunResults, Spread};
use crate::stats::{self, Estimate};

pub mod correctness;
mod format;
pub mod holm;

pub use correctness::{Problem, ProblemKind};

/// Below this coverage an interval says too little to call anything: 5 pairs (93.8%) or
/// 3 rounds vs 3 rounds (90%) are the least that can be called.
pub const MIN_CONFIDENCE: f64 = 0.899;

/// The default `--max-regression` (fraction).
pub const DEFAULT_THRESHOLD: f64 = 0.10;

/// The default `--max-cpu-regression` (fraction): in 10 paired A/A runs the worse end of
/// server CPU per request's interval stayed below +0% (docs/measurements/ci-gate.md), so 1%
/// leaves a margin, and a threshold this low lets a few percent more CPU be called.
pub const DEFAULT_CPU_THRESHOLD: f64 = 0.01;

/// The largest tolerated worsening, per kind of metric (fractions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Latency and throughput (`--max-regression`).
    pub latency: f64,
    /// Server CPU per request (`--max-cpu-regression`).
    pub cpu: f64,
}

impl Thresholds {
    /// `max_regression` for latency and throughput, the default for CPU per request.
    pub fn latency(max_regression: f64) -> Self {
        Self { latency: max_regression, cpu: DEFAULT_CPU_THRESHOLD }
    }
}

/// The family-wise error rate of one comparison: the chance that any of its calls (worse or
/// better, over every store, scenario and metric) is a false alarm.
pub const FAMILY_ALPHA: f64 = 0.05;

/// A metric whose every current round lies this many times beyond every baseline round (or
/// this fraction of it) is called whatever the number of rounds.
pub const GROSS_FACTOR: f64 = 2.0;

/// Rounds a side the 2× rule needs for every metric.
pub const GROSS_ROUNDS: usize = 3;

/// With fewer rounds a side (but at least this many), the rule calls only the check latency's
/// median, and only at [`GROSS_FACTOR_FEW`]×: two separate 2-round runs of one build on a
/// machine whose load swung (load average 10–24) moved p50 by up to 2.3×, p99 by more than 2×
/// and requests/s by up to 10×, while a 1 ms delay moves a check of 0.1–0.4 ms 3–15×.
pub const GROSS_ROUNDS_FEW: usize = 2;
pub const GROSS_FACTOR_FEW: f64 = 3.0;

/// Exit code of a comparison that could not call what it was asked to (too few rounds or
/// pairs), with no regression and no correctness failure.
pub const EXIT_INCONCLUSIVE: u8 = 3;

/// The rule, as `--help`, the output and `docs/ci.md` state it.
pub const RULE: &str = "A metric is called worse (or better) when an exact test puts its change \
beyond the threshold with Holm's correction: 5% family-wise over every call of the comparison \
(every store, scenario and metric), so gating more metrics does not add false alarms. Paired \
runs (both files from one `revbench run --baseline-binary`): the sign test on the per-pair \
ratios (shown: their median, with the exact 95% sign-test interval). Separate runs: the \
Mann-Whitney test on the rounds (shown: the Hodges-Lehmann ratio, with the exact 95% \
interval). With one call, the test calls a change exactly when the whole 95% interval lies \
beyond the threshold. Server CPU per request (the servers' CPU time over the measured window \
divided by the requests they answered) is held to its own threshold, --max-cpu-regression, in \
the same family. A metric whose every current round lies 2x beyond every baseline round \
(or below half of it), with at least 3 rounds a side, is called whatever the test says; with \
2 rounds a side only the check latency's median is, at 3x. When \
the pairs or rounds are too few for the test to reach its Holm level, the metric is \
\"inconclusive\" (exit 3) and the output says how many rounds would do; otherwise an uncalled \
metric is \"no measurable change\". Latency is the check latency: `GET /api/me` with a live \
token, the same request for every store. Stores are matched by label and scenarios by name and content. \
Correctness fails the comparison whatever the latency: a store measured in the baseline but \
skipped or failing in the current run, a higher leak rate (of answered replays; any leak where \
the baseline let none in or replayed nothing), more store errors, more unanswered replays or \
more unexpected answers.";

pub mod command;

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// What a metric measures: which threshold it is held to, and how steady it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The medians of latency.
    Median,
    /// Requests/s.
    Throughput,
    /// The p99s: what a few slow requests decide.
    Tail,
    /// Server CPU per request, held to `--max-cpu-regression`.
    Cpu,
}

/// A metric compared, read from each round.
struct Metric {
    name: &'static str,
    better: Better,
    kind: Kind,
    read: fn(&RoundResult) -> Option<f64>,
}

/// The name of server CPU per request among the metrics.
pub const CPU_METRIC: &str = "server_cpu_us_per_request";

const METRICS: [Metric; 6] = [
    Metric {
        name: "requests_per_sec",
        better: Better::Higher,
        kind: Kind::Throughput,
        read: |r| Some(r.requests_per_sec),
    },
    // The check latency: the same request for every store, and for one store in both runs.
    Metric {
        name: "p50_us",
        better: Better::Lower,
        kind: Kind::Median,
        read: |r| Some(r.check_latency()?.p50_us as f64),
    },
    Metric {
        name: "p99_us",
        better: Better::Lower,
        kind: Kind::Tail,
        read: |r| Some(r.check_latency()?.p99_us as f64),
    },
    Metric {
        name: "corrected_p50_us",
        better: Better::Lower,
        kind: Kind::Median,
        read: |r| r.corrected_latency.as_ref().map(|l| l.p50_us as f64),
    },
    Metric {
        name: "corrected_p99_us",
        better: Better::Lower,
        kind: Kind::Tail,
        read: |r| r.corrected_latency.as_ref().map(|l| l.p99_us as f64),
    },
    // The servers' CPU over the measured window per request they answered: absent for
    // servers revbench did not start (`--target`).
    Metric {
        name: CPU_METRIC,
        better: Better::Lower,
        kind: Kind::Cpu,
        read: |r| r.server_cpu_us_per_request,
    },
];

impl Metric {
    fn threshold(&self, thresholds: &Thresholds) -> f64 {
        match self.kind {
            Kind::Cpu => thresholds.cpu,
            Kind::Median | Kind::Throughput | Kind::Tail => thresholds.latency,
        }
    }

    /// The factor the 2× rule calls at with `rounds` a side, if it calls at all.
    fn gross_factor(&self, rounds: usize) -> Option<f64> {
        if rounds >= GROSS_ROUNDS {
            Some(GROSS_FACTOR)
        } else if rounds >= GROSS_ROUNDS_FEW && self.kind == Kind::Median {
            Some(GROSS_FACTOR_FEW)
        } else {
            None
        }
    }
}

/// What a metric did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Worse,
    Better,
    NoMeasurableChange,
    /// Too few rounds or pairs for the test to call anything at its level.
    Inconclusive,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Worse => "worse",
            Verdict::Better => "better",
            Verdict::NoMeasurableChange => "no measurable change",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// How the two sides were set against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Method {
    /// Rounds measured back to back, matched by pair number.
    Paired { pairs: usize },
    /// Every baseline round against every current round.
    Unpaired { baseline_rounds: usize, current_rounds: usize },
}

/// One metric of one store under one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub store: String,
    pub scenario: String,
    pub metric: String,
    pub better: Better,
    /// The largest tolerated worsening this metric was held to (fraction).
    pub threshold: f64,
    /// The rounds' median, min and max on each side.
    pub baseline: Spread,
    pub current: Spread,
    pub method: Method,
    /// current / baseline, with its interval.
    pub ratio: Estimate,
    /// current − baseline in the metric's unit, with its interval.
    pub shift: Estimate,
    /// Two-sided p-value of the change lying within the threshold.
    pub p_value: f64,
    /// The smallest p-value these rounds or pairs can give (every one beyond the threshold).
    pub p_floor: f64,
    /// The Holm level this metric was tested at.
    pub level: f64,
    /// Called because every current round lies [`GROSS_FACTOR`]× (with 2 rounds a side,
    /// [`GROSS_FACTOR_FEW`]×) beyond every baseline round.
    pub gross: bool,
    /// The factor the rounds had to lie apart by to be called without a test, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_factor: Option<f64>,
    pub verdict: Verdict,
    /// The way the test leans (worse or better), and the way the rounds lie 2× apart if they do.
    #[serde(skip)]
    leaning: Verdict,
    #[serde(skip)]
    apart: Option<Verdict>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub max_regression: f64,
    /// The threshold of server CPU per request (fraction).
    pub max_cpu_regression: f64,
    /// The family-wise error rate, and the number of calls it covers.
    pub alpha: f64,
    pub calls: usize,
    pub rule: &'static str,
    pub changes: Vec<Change>,
    /// Correctness failures: each one fails the comparison.
    pub problems: Vec<Problem>,
    /// Stores measured only in the current run (nothing to compare them with).
    pub unmatched_stores: Vec<String>,
    /// The delay `--inject-latency` asked for and delivered, where either run had one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected_delays: Vec<Injected>,
    /// The CPU work `--inject-work` asked for and added, where either run had some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected_work: Vec<Injected>,
}

/// A test knob in one store and scenario: what the run asked for (µs, `None` when it did not:
/// a wrapped `--candidate-binary` may still have started its servers with it), and the
/// servers' record of what they delivered per check (median of the rounds), on each side.
#[derive(Debug, Clone, Serialize)]
pub struct Injected {
    pub store: String,
    pub scenario: String,
    pub baseline_set_us: Option<f64>,
    pub baseline_delivered_us: Option<f64>,
    pub current_set_us: Option<f64>,
    pub current_delivered_us: Option<f64>,
}

/// One knob's lines: `set` reads what a run asked for, `delivered` what a round's servers
/// recorded. Listed where either run asked for it or either run's servers recorded it.
fn injected(
    baseline: &RunResults,
    current: &RunResults,
    set: fn(&RunResults) -> Option<f64>,
    delivered: fn(&RoundResult) -> Option<f64>,
) -> Vec<Injected> {
    let median =
        |m: &Measurement| Spread::of(m.rounds.iter().filter_map(delivered)).map(|s| s.median);
    baseline
        .measurements
        .iter()
        .filter_map(|base| {
            let cur = find(current, &base.store, &base.scenario)?;
            let line = Injected {
                store: base.store.clone(),
                scenario: base.scenario.clone(),
                baseline_set_us: set(baseline),
                baseline_delivered_us: median(base),
                current_set_us: set(current),
                current_delivered_us: median(cur),
            };
            let any = [line.baseline_set_us, line.baseline_delivered_us, line.current_set_us]
                .into_iter()
                .chain([line.current_delivered_us])
                .any(|v| v.is_some());
            any.then_some(line)
        })
        .collect()
}

fn injected_delays(baseline: &RunResults, current: &RunResults) -> Vec<Injected> {
    let set = |r: &RunResults| r.config.injected_latency_us.map(|us| us as f64);
    injected(baseline, current, set, RoundResult::injected_delay_us)
}

fn injected_work(baseline: &RunResults, current: &RunResults) -> Vec<Injected> {
    let set = |r: &RunResults| r.config.injected_work_ns.map(|ns| ns as f64 / 1e3);
    injected(baseline, current, set, RoundResult::injected_work_us)
}

/// Inputs that cannot be compared.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompareError {
    #[error(
        "the runs measured different scenarios (baseline: {baseline}; current: {current}); \
         run both with the same --scenario list"
    )]
    DifferentScenarios { baseline: String, current: String },
    #[error("no store was measured in the baseline; re-run it with stores that answer")]
    NoCommonStore,
    #[error(
        "scenario `{name}` is not the same in both runs ({what}); run both with the same \
         scenario file and --segment"
    )]
    DifferentScenario { name: String, what: String },
}

fn scenario_names(r: &RunResults) -> std::collections::BTreeSet<String> {
    r.config.scenarios.iter().map(|s| s.name.clone()).collect()
}

/// Both files are the two sides of one paired run.
fn paired(baseline: &RunResults, current: &RunResults) -> bool {
    match (&baseline.config.paired, &current.config.paired) {
        (Some(b), Some(c)) => b.run_id == c.run_id,
        _ => false,
    }
}

/// Compares `current` against `baseline`; `max_regression` is a fraction (0.10 = 10%), CPU
/// per request held to [`DEFAULT_CPU_THRESHOLD`].
pub fn compare(
    baseline: &RunResults,
    current: &RunResults,
    max_regression: f64,
) -> Result<Comparison, CompareError> {
    compare_with(baseline, current, Thresholds::latency(max_regression))
}

/// Compares `current` against `baseline` with a threshold per kind of metric.
pub fn compare_with(
    baseline: &RunResults,
    current: &RunResults,
    thresholds: Thresholds,
) -> Result<Comparison, CompareError> {
    let (b, c) = (scenario_names(baseline), scenario_names(current));
    if b != c {
        let join = |s: &std::collections::BTreeSet<String>| {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        };
        return Err(CompareError::DifferentScenarios { baseline: join(&b), current: join(&c) });
    }
    same_scenarios(baseline, current)?;
    if baseline.measurements.iter().all(|m| m.rounds.is_empty()) {
        return Err(CompareError::NoCommonStore);
    }
    let pair_rounds = paired(baseline, current);
    let mut changes = Vec::new();
    for base in &baseline.measurements {
        let Some(cur) = find(current, &base.store, &base.scenario) else { continue };
        for metric in &METRICS {
            changes.extend(change(base, cur, metric, pair_rounds, metric.threshold(&thresholds)));
        }
    }
    let mut unmatched: Vec<String> = current
        .measurements
        .iter()
        .filter(|m| !baseline.measurements.iter().any(|b| b.store == m.store))
        .map(|m| m.store.clone())
        .collect();
    unmatched.dedup();
    holm::decide(&mut changes, FAMILY_ALPHA);
    Ok(Comparison {
        max_regression: thresholds.latency,
        max_cpu_regression: thresholds.cpu,
        alpha: FAMILY_ALPHA,
        calls: changes.len(),
        rule: RULE,
        changes,
        problems: correctness::problems(baseline, current),
        unmatched_stores: unmatched,
        injected_delays: injected_delays(baseline, current),
        injected_work: injected_work(baseline, current),
    })
}

/// Scenarios of one name must be one workload: what they ask of the servers, key by key
/// (their descriptions may differ).
fn same_scenarios(baseline: &RunResults, current: &RunResults) -> Result<(), CompareError> {
    for b in &baseline.config.scenarios {
        let Some(c) = current.config.scenarios.iter().find(|c| c.name == b.name) else { continue };
        let keys = |s: &crate::scenario::Scenario| {
            let mut value = serde_json::to_value(s).expect("a scenario serializes");
            if let Some(map) = value.as_object_mut() {
                map.remove("description");
            }
            value
        };
        let (bk, ck) = (keys(b), keys(c));
        if bk != ck {
            let differ: Vec<String> = bk
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(key, value)| ck.get(key.as_str()) != Some(*value))
                .map(|(key, value)| {
                    let now = ck.get(key.as_str()).cloned().unwrap_or_default();
                    format!("{key}: {value} vs {now}")
                })
                .collect();
            return Err(CompareError::DifferentScenario {
                name: b.name.clone(),
                what: differ.join("; "),
            });
        }
    }
    Ok(())
}

fn find<'a>(results: &'a RunResults, store: &str, scenario: &str) -> Option<&'a Measurement> {
    results.measurements.iter().find(|m| m.store == store && m.scenario == scenario)
}

/// The change of one metric; `None` when either side lacks it.
fn change(
    base: &Measurement,
    cur: &Measurement,
    metric: &Metric,
    pair_rounds: bool,
    max_regression: f64,
) -> Option<Change> {
    let values = |m: &Measurement| m.rounds.iter().filter_map(metric.read).collect::<Vec<f64>>();
    let (b, c) = (values(base), values(cur));
    let (baseline, current) = (Spread::of(b.iter().copied())?, Spread::of(c.iter().copied())?);
    let pairs: Vec<(f64, f64)> = if pair_rounds {
        base.rounds
            .iter()
            .filter_map(|br| {
                let cr = cur.rounds.iter().find(|cr| cr.pair.is_some() && cr.pair == br.pair)?;
                Some(((metric.read)(br)?, (metric.read)(cr)?))
            })
            .collect()
    } else {
        Vec::new()
    };
    let (method, ratio, shift) = if pairs.is_empty() {
        (
            Method::Unpaired { baseline_rounds: b.len(), current_rounds: c.len() },
            stats::ratio_interval(&b, &c)?,
            stats::shift_interval(&b, &c)?,
        )
    } else {
        (
            Method::Paired { pairs: pairs.len() },
            stats::paired_ratio_interval(&pairs)?,
            stats::paired_shift_interval(&pairs)?,
        )
    };
    let test = holm::test(metric.better, &b, &c, &pairs, max_regression)?;
    let gross_factor = metric.gross_factor(b.len().min(c.len()));
    Some(Change {
        store: base.store.clone(),
        scenario: base.scenario.clone(),
        metric: metric.name.to_string(),
        better: metric.better,
        threshold: max_regression,
        baseline,
        current,
        method,
        ratio,
        shift,
        p_value: test.p_value,
        p_floor: test.p_floor,
        level: FAMILY_ALPHA,
        gross: false,
        verdict: Verdict::NoMeasurableChange,
        leaning: test.leaning,
        gross_factor,
        apart: gross_factor
            .and_then(|f| holm::apart(metric.better, &baseline, &current, f, max_regression)),
    })
}

impl Change {
    /// How much worse as a fraction of the baseline (negative when better), from the ratio.
    pub fn worse_by(&self) -> f64 {
        match self.better {
            Better::Lower => self.ratio.value - 1.0,
            Better::Higher => 1.0 / self.ratio.value.max(1e-12) - 1.0,
        }
    }
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.verdict == Verdict::Worse)
    }

    pub fn improvements(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.verdict == Verdict::Better)
    }

    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// Exit 1 in CI: a metric got worse, or something went wrong.
    pub fn fails(&self) -> bool {
        self.has_regression() || !self.problems.is_empty()
    }

    /// The metrics that could not be called for lack of rounds or pairs.
    pub fn inconclusive(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.verdict == Verdict::Inconclusive)
    }

    /// The exit code for CI: 1 on a regression or a correctness failure (whatever else), 3
    /// when a metric could not be called, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.fails() {
            1
        } else if self.inconclusive().next().is_some() {
            EXIT_INCONCLUSIVE
        } else {
            0
        }
    }

    /// How many rounds or pairs would let every call reach its level, when some could not.
    pub fn advice(&self) -> Option<String> {
        self.inconclusive().next()?;
        let level = self.alpha / self.calls.max(1) as f64;
        Some(format!(
            "too few rounds to call every metric at {:.0}% family-wise over {} calls (Holm: the \
             first call needs p ≤ {}); use --rounds ≥ {} in both runs, or a paired run \
             (`revbench run --baseline-binary BASE`) with --rounds ≥ {}",
            self.alpha * 100.0,
            self.calls,
            holm::show_p(level),
            holm::rounds_needed(level),
            holm::pairs_needed(level)
        ))
    }
}

/// Parses a percentage, `10%` or `10`, as a fraction (0.10). A bare number between 0 and 1
/// is refused: `0.5` could mean 50% (a fraction) or 0.5%, and the two readings differ a
/// hundredfold.
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
    if !percent && value > 0.0 && value < 1.0 {
        return Err(format!(
            "`{raw}` is ambiguous: write {}% for a fraction of {raw}, or {raw}% for {raw} percent",
            (value * 1e6).round() / 1e4
        ));
    }
    let fraction = value / 100.0;
    if !(0.0..10.0).contains(&fraction) {
        return Err(format!("`{raw}` is out of range; use 0% to 1000%"));
    }
    Ok(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thresholds are read as percentages, with or without `%`: `1` is 1%, as `1%` is; a bare
    /// number below 1, which could be a fraction or a percentage, is refused (it was read as
    /// a fraction, so `0.99` meant 99% while `1` meant 1%).
    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("10%").unwrap(), 0.10);
        assert_eq!(parse_threshold("25").unwrap(), 0.25);
        assert_eq!(parse_threshold("1").unwrap(), 0.01);
        assert_eq!(parse_threshold("0.5%").unwrap(), 0.005);
        assert_eq!(parse_threshold("0").unwrap(), 0.0);
        let ambiguous = parse_threshold("0.99").unwrap_err();
        assert!(ambiguous.contains("99%") && ambiguous.contains("0.99%"), "{ambiguous}");
        assert!(parse_threshold("ten").is_err());
        assert!(parse_threshold("-5%").is_err());
    }
}
