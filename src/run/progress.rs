//! What `revbench run` shows while it works: an estimate up front, a bar on a terminal, and
//! one line per measurement.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::results::RoundResult;

/// The run's progress display.
pub struct Progress {
    bar: ProgressBar,
    /// Print per-measurement lines (when asked, even without a terminal).
    lines: bool,
    total: usize,
}

impl Progress {
    /// `enabled` false shows nothing at all. `per_measurement` is the mean load time.
    pub fn start(
        enabled: bool,
        total: usize,
        stores: usize,
        scenarios: usize,
        rounds: usize,
        per_measurement: Duration,
    ) -> Self {
        if !enabled {
            return Self { bar: ProgressBar::hidden(), lines: false, total };
        }
        eprintln!(
            "measuring {stores} stores × {scenarios} scenarios × {rounds} rounds ≈ {} s of load",
            per_measurement.as_secs() * total as u64
        );
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} {msg} · {elapsed} elapsed, ~{eta} left",
            )
            .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Self { bar, lines: true, total }
    }

    /// What is being measured now.
    pub fn now_measuring(&self, round: usize, rounds: usize, store: &str, scenario: &str) {
        self.bar.set_message(format!("round {round}/{rounds} · {store} · {scenario}"));
    }

    /// One measurement finished.
    pub fn measured(&self, sequence: usize, store: &str, scenario: &str, r: &RoundResult) {
        self.print(line(sequence, self.total, store, scenario, r));
    }

    /// One measurement failed (a paired run records it and goes on).
    pub fn failed(&self, sequence: usize, store: &str, scenario: &str, error: &str) {
        self.print(format!("[{sequence}/{}] {store} {scenario} failed: {error}", self.total));
    }

    /// A line above the bar (or on stderr without one), when lines were asked for.
    fn print(&self, line: String) {
        if !self.lines {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// A pair that was passed over (not applicable).
    pub fn passed_over(&self) {
        self.bar.inc(1);
    }

    /// Advances after a measurement.
    pub fn advance(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn line(sequence: usize, total: usize, store: &str, scenario: &str, r: &RoundResult) -> String {
    let leak = r.leak_rate.map(|l| {
        format!(", leaked {:.0}% of {} answered replays", l * 100.0, r.replays_answered())
    });
    let unanswered =
        r.replays_unanswered.filter(|n| *n > 0).map(|n| format!(", {n} replays unanswered"));
    // The check latency when there is one: the figure stores are compared on.
    let (label, latency) = match r.check_latency() {
        Some(check) => ("check ", check),
        None => ("", &r.latency),
    };
    format!(
        "[{sequence}/{total}] round {} {store:<8} {scenario:<14} {:>8.0} req/s  {label}p50 {:.3} ms  p99 {:.3} ms{}{}",
        r.round,
        r.requests_per_sec,
        latency.p50_us as f64 / 1000.0,
        latency.p99_us as f64 / 1000.0,
        leak.unwrap_or_default(),
        unanswered.unwrap_or_default()
    )
}
