//! `revbench compare`'s outputs: text for a terminal, Markdown for a pull request or a
//! GitHub job summary, JSON for tools.

use std::fmt::Write;

use super::{Change, Comparison, Method, Verdict};
use crate::results::Spread;
use crate::stats::{Estimate, CONFIDENCE};

/// `12 metrics with no measurable change, 3 inconclusive`.
fn summary(quiet: &[&Change]) -> String {
    let unclear = quiet.iter().filter(|c| c.verdict == Verdict::Inconclusive).count();
    let unchanged = quiet.len() - unclear;
    match (unchanged, unclear) {
        (n, 0) => format!("{n} metrics with no measurable change"),
        (0, n) => format!("{n} metrics inconclusive (too few pairs or rounds)"),
        (n, u) => format!("{n} metrics with no measurable change, {u} inconclusive"),
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A threshold in percent, as few digits as it needs: `10`, `2.5`.
fn percent(fraction: f64) -> String {
    let p = (fraction * 1e4).round() / 100.0;
    format!("{p}")
}

fn pct(ratio: f64) -> String {
    format!("{:+.1}%", (ratio - 1.0) * 100.0)
}

/// `+12.3% [+8.1%, +15.0%]`, with the interval's coverage when it is below 95%.
fn ratio_cell(e: &Estimate) -> String {
    let mut s = format!("{} [{}, {}]", pct(e.value), pct(e.low), pct(e.high));
    if e.confidence < CONFIDENCE - 1e-9 {
        let _ = write!(s, " ({:.0}% interval)", e.confidence * 100.0);
    }
    s
}

/// Decimals a metric is shown with: CPU per request is a few µs, and its changes fractions
/// of one.
fn decimals(metric: &str) -> usize {
    if metric == super::CPU_METRIC {
        2
    } else {
        0
    }
}

/// `+98 µs [91, 105]`, `+0.43 µs [0.40, 0.47]` or `−1200 req/s [−1500, −900]`.
fn shift_cell(metric: &str, e: &Estimate) -> String {
    let unit = if metric.contains("_us") { "µs" } else { "req/s" };
    let d = decimals(metric);
    format!("{:+.d$} {unit} [{:+.d$}, {:+.d$}]", e.value, e.low, e.high)
}

fn band(metric: &str, s: &Spread) -> String {
    let d = decimals(metric);
    format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max)
}

fn method(m: &Method) -> String {
    match m {
        Method::Paired { pairs } => format!("{pairs} pairs"),
        Method::Unpaired { baseline_rounds, current_rounds } => {
            format!("{baseline_rounds} vs {current_rounds} rounds")
        }
    }
}

/// The verdict, saying why when it is not the test's: the 2× rule, or too few rounds.
fn verdict(c: &Change) -> String {
    if c.gross {
        let factor = c.gross_factor.unwrap_or(super::GROSS_FACTOR);
        format!("{} (every round {factor}× apart)", c.verdict.label())
    } else if c.verdict == Verdict::Inconclusive {
        format!("{} (too few pairs or rounds)", c.verdict.label())
    } else {
        c.verdict.label().to_string()
    }
}

/// `p 0.031 ≤ 0.0050` style: the test's p-value and the Holm level it needed.
fn test_cell(c: &Change) -> String {
    let sign = if c.p_value <= c.level { "≤" } else { ">" };
    format!("{} {sign} {}", super::holm::show_p(c.p_value), super::holm::show_p(c.level))
}

fn row(c: &Change) -> [String; 9] {
    [
        format!("{} / {}", c.scenario, c.store),
        c.metric.clone(),
        band(&c.metric, &c.baseline),
        band(&c.metric, &c.current),
        ratio_cell(&c.ratio),
        shift_cell(&c.metric, &c.shift),
        method(&c.method),
        test_cell(c),
        verdict(c),
    ]
}

fn named(c: &Change) -> String {
    format!(
        "{} {} / {} {} ({})",
        c.metric,
        c.scenario,
        c.store,
        ratio_cell(&c.ratio),
        shift_cell(&c.metric, &c.shift)
    )
}

/// `set 100 µs, delivered 103 µs per check`, or `none`.
/// One side of a knob's line: `unit` names what is delivered ("µs per check", "µs of CPU in
/// every check").
fn knob_side(set: Option<f64>, delivered: Option<f64>, unit: &str) -> String {
    match (set, delivered) {
        (None, None) => "none".to_string(),
        (Some(set), Some(d)) => format!("set {set} µs, delivered {d:.1} {unit}"),
        (Some(set), None) => format!("set {set} µs, delivery not recorded"),
        (None, Some(d)) => format!("not set by this run, its servers delivered {d:.1} {unit}"),
    }
}

impl Comparison {
    /// One line per store and scenario where a run injected a delay or CPU work: what was
    /// asked for and what the servers delivered, to read beside the shift.
    fn delay_lines(&self) -> Vec<String> {
        let knobs = [
            ("injected delay", "µs per check", &self.injected_delays),
            ("injected work", "µs of CPU per check", &self.injected_work),
        ];
        knobs
            .into_iter()
            .flat_map(|(name, unit, lines)| {
                lines.iter().map(move |d| {
                    format!(
                        "{name} {} / {}: baseline {}; current {}",
                        d.scenario,
                        d.store,
                        knob_side(d.baseline_set_us, d.baseline_delivered_us, unit),
                        knob_side(d.current_set_us, d.current_delivered_us, unit)
                    )
                })
            })
            .collect()
    }

    /// When stores went missing from the baseline and others appeared in the current run, they
    /// may be one store under two labels.
    fn label_hint(&self) -> Option<String> {
        let missing = self
            .problems
            .iter()
            .any(|p| p.kind == super::ProblemKind::StoreMissing && p.scenario.is_none());
        (missing && !self.unmatched_stores.is_empty()).then(|| {
            "stores are matched by label (its URL's scheme, host, port, database and \
             parameters, or the name given as name=URL): to compare a store whose URL changed, \
             give it one name in both runs"
                .to_string()
        })
    }

    /// `threshold 10% (1% for server CPU per request), Holm-corrected, 5% family-wise over
    /// 12 calls`.
    fn family(&self) -> String {
        format!(
            "{}, Holm-corrected, {:.0}% family-wise over {} calls",
            self.thresholds(),
            self.alpha * 100.0,
            self.calls
        )
    }

    /// `threshold 10%`, with CPU per request's own where it was compared.
    fn thresholds(&self) -> String {
        let mut s = format!("threshold {}%", percent(self.max_regression));
        if self.changes.iter().any(|c| c.metric == super::CPU_METRIC) {
            let _ =
                write!(s, " ({}% for server CPU per request)", percent(self.max_cpu_regression));
        }
        s
    }

    /// One line per finding, worst first.
    fn headline(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.problems.is_empty() {
            let problems: Vec<String> = self.problems.iter().map(|p| p.to_string()).collect();
            lines.push(format!("FAIL correctness: {}", problems.join("; ")));
        }
        let worse: Vec<String> = self.regressions().map(named).collect();
        if !worse.is_empty() {
            lines.push(format!("FAIL worse: {}", worse.join("; ")));
        }
        let better: Vec<String> = self.improvements().map(named).collect();
        if !better.is_empty() {
            lines.push(format!("better: {}", better.join("; ")));
        }
        let inconclusive = self.inconclusive().count();
        if inconclusive > 0 {
            let advice = self.advice().unwrap_or_default();
            lines.push(format!(
                "INCONCLUSIVE: {inconclusive} of {} metrics could not be called: {advice}",
                self.calls
            ));
        } else if worse.is_empty() && better.is_empty() {
            lines.push(format!(
                "no measurable change beyond {}% ({})",
                percent(self.max_regression),
                self.family()
            ));
        }
        if !(worse.is_empty() && better.is_empty()) || inconclusive > 0 {
            lines.push(format!("calls: {}", self.family()));
        }
        lines
    }

    /// Plain text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let header = [
            "scenario / store",
            "metric",
            "baseline (min–max)",
            "current (min–max)",
            "change [95% interval]",
            "shift [95% interval]",
            "compared",
            "p ≤ Holm level",
            "verdict",
        ];
        let line = |r: &[String]| {
            format!(
                "{:<30} {:<25} {:>22} {:>22}  {:<38} {:<30} {:<16} {:<18} {}\n",
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]
            )
        };
        out.push_str(&line(&header.map(str::to_string)));
        for c in &self.changes {
            out.push_str(&line(&row(c)));
        }
        for store in &self.unmatched_stores {
            let _ = writeln!(out, "not compared: {store} (measured only in the current run)");
        }
        if let Some(hint) = self.label_hint() {
            let _ = writeln!(out, "{hint}");
        }
        for l in self.delay_lines() {
            let _ = writeln!(out, "{l}");
        }
        for l in self.headline() {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out, "rule: {}", self.rule);
        out
    }

    /// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: the verdict first, the
    /// metrics that changed in a table, the unchanged ones folded away.
    pub fn markdown(&self) -> String {
        let mark = match self.exit_code() {
            0 => "✅",
            1 => "❌",
            _ => "❔ inconclusive",
        };
        let mut out = format!("### revbench compare {mark}\n\n");
        for l in self.headline() {
            let _ = writeln!(out, "- {l}");
        }
        out.push('\n');
        let header = "| scenario / store | metric | baseline (min–max) | current (min–max) | \
                      change [95% interval] | shift | compared | p ≤ Holm level | verdict |\n\
                      |---|---|---|---|---|---|---|---|---|\n";
        let table = |changes: Vec<&Change>| {
            let mut t = header.to_string();
            for c in changes {
                let r = row(c);
                let verdict = match c.verdict {
                    Verdict::Worse | Verdict::Inconclusive => format!("**{}**", r[8]),
                    _ => r[8].clone(),
                };
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], verdict
                );
            }
            t
        };
        let (called, quiet): (Vec<&Change>, Vec<&Change>) = self
            .changes
            .iter()
            .partition(|c| matches!(c.verdict, Verdict::Worse | Verdict::Better));
        if !called.is_empty() {
            out.push_str(&table(called));
            out.push('\n');
        }
        if !quiet.is_empty() {
            let _ = write!(
                out,
                "<details><summary>{}</summary>\n\n{}\n</details>\n\n",
                summary(&quiet),
                table(quiet)
            );
        }
        if !self.unmatched_stores.is_empty() {
            let _ = writeln!(
                out,
                "Not compared (measured only in the current run): {}\n",
                self.unmatched_stores.join(", ")
            );
        }
        if let Some(hint) = self.label_hint() {
            let _ = writeln!(out, "{hint}\n");
        }
        for l in self.delay_lines() {
            let _ = writeln!(out, "- {l}");
        }
        let _ = writeln!(out, "Latency in µs. {}. {}", capitalised(&self.family()), self.rule);
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("comparison serializes")
    }
}
