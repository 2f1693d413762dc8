//! `revbench sweep`'s order of work: for each value of the axis, bring every store to it,
//! then measure them all in interleaved rounds, as `revbench run` does; the results file is
//! rewritten after every measurement, so a crash loses nothing.
//!
//! Every store is measured in a namespace of the sweep's own, removed at the end, on failure
//! and on Ctrl-C. A store that cannot reach a value is recorded as stopped there, with the
//! reason, and the sweep goes on with the others.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::axis::{Axis, AxisKind};
use super::failing::failing_at;
use super::fill::{
    available_memory, beyond_memory, grow_shared, server_fill, FillRules, SharedTally,
};
use super::fill_time::{beyond_fill_time, trusted_rate};
use super::kept;
use super::point::scenario_at;
use super::store_rtt::{self, DelayedStore};
use crate::harness::output::{http_client, shared_secret};
use crate::harness::{probe, Output, ReplicaSpec, Target};
use crate::interrupt::Interrupt;
use crate::results::sweep::{
    load_average, StoppedStore, SweepConfig, SweepPoint, SweepResults, SWEEP_KIND,
};
use crate::results::{MeasurementFailure, ResultsHeader, RoundResult};
use crate::run::measure::{measure, Position, Servers, StoreState, Timing};
use crate::run::scheduler::record;
use crate::scenario::Scenario;
use crate::units::short_count;

/// How long killed replicas get to stop writing before an interrupted sweep removes its
/// namespaces.
const INTERRUPT_GRACE: Duration = Duration::from_millis(300);

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub axis: Axis,
    pub scenario: Scenario,
    pub stores: Vec<String>,
    pub rounds: usize,
    /// Measured time per store, point and round.
    pub duration: Duration,
    pub warmup: Duration,
    pub out_dir: PathBuf,
    /// The `revbench` executable that serves replicas.
    pub server_exe: PathBuf,
    pub progress: bool,
    /// `--max-fill-time`: the longest one fill may be projected to take.
    pub max_fill_time: Duration,
}

/// Runs the sweep and returns its results (also in `out_dir/results.json`).
pub async fn run(options: SweepOptions) -> anyhow::Result<SweepResults> {
    let mut interrupt = Interrupt::listen().context("cannot listen for Ctrl-C")?;
    let output = Output::create(&options.out_dir)?;
    let (targets, stores) = probe(&options.stores, "sweep").await;
    let mut results = SweepResults {
        header: ResultsHeader::start(),
        kind: SWEEP_KIND.to_string(),
        config: SweepConfig {
            axis: options.axis.name.clone(),
            values: options.axis.values.clone(),
            scenario: options.scenario.clone(),
            rounds: options.rounds,
            warmup_secs: options.warmup.as_secs_f64(),
            duration_secs: options.duration.as_secs_f64(),
            placement: "unpinned".to_string(),
        },
        stores,
        points: Vec::new(),
        stopped: Vec::new(),
        load_at_start: load_average(),
        load_at_end: None,
    };
    output.write(|path| results.write(path))?;
    for skipped in results.stores.iter().filter(|s| s.reason.is_some()) {
        eprintln!("skipped {}: {}", skipped.url, skipped.reason.as_deref().unwrap_or(""));
    }
    let measured = tokio::select! {
        measured = sweep_all(&options, &output, &targets, &mut results) => measured,
        () = interrupt.recv() => {
            crate::run::attack::stop();
            tokio::time::sleep(INTERRUPT_GRACE).await;
            Err(anyhow::anyhow!("interrupted; results so far are in {}", output.results.display()))
        }
    };
    for target in targets {
        let name = target.name.clone();
        if options.progress && target.handle().capabilities().shared {
            // Ten million keys take minutes to leave a Redis Cluster: say what is going on.
            eprintln!("removing the sweep's namespace in {name}");
        }
        if let Err(e) = target.remove().await {
            eprintln!("warning: could not remove the sweep's namespace in {name}: {e}");
        }
    }
    measured?;
    results.header.finish();
    results.load_at_end = load_average();
    output.write(|path| results.write(path))?;
    Ok(results)
}

/// One store's place in the sweep.
struct Column<'a> {
    target: &'a Target,
    /// Shared stores: what the sweep put in so far. `None` for in-process stores.
    shared: Option<SharedTally>,
    /// Set once the store could not reach a value.
    stopped: bool,
    /// The largest value it was measured at.
    reached: Option<u64>,
    /// In-process stores: resident bytes per entry at the last point, to plan the next.
    bytes_per_entry: Option<f64>,
    /// In-process stores: entries/s of the last server fill large enough to project from.
    fill_rate: Option<f64>,
    /// `store-rtt` points: the path through the delaying forwarder, for this point.
    delayed: Option<DelayedStore>,
    /// `revoked` sweeps: why the store is not taken to the next size, when it failed most
    /// of its requests at this one.
    failing: Option<String>,
}

impl Column<'_> {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn remembers(&self) -> bool {
        self.target.handle().capabilities().remembers
    }
}

/// Every point, every store, interleaved rounds.
async fn sweep_all(
    options: &SweepOptions,
    output: &Output,
    targets: &[Target],
    results: &mut SweepResults,
) -> anyhow::Result<()> {
    let mut columns = Vec::new();
    for target in targets {
        let handle = target.handle();
        handle.clear().await.with_context(|| format!("cannot clear {}", target.name))?;
        let shared = handle.capabilities().shared.then_some(SharedTally::default());
        columns.push(Column {
            target,
            shared,
            stopped: false,
            reached: None,
            bytes_per_entry: None,
            fill_rate: None,
            delayed: None,
            failing: None,
        });
    }
    for column in &mut columns {
        if let Some(tally) = &mut column.shared {
            tally.bytes_empty = column.target.handle().stats().await.ok().and_then(|s| s.bytes);
        }
    }
    let mut sweep = Sweep {
        options,
        output,
        http: http_client()?,
        secret: shared_secret(),
        admin_token: shared_secret(),
        sequence: 0,
    };
    let kind = options.axis.kind();
    for &value in &options.axis.values {
        let scenario = scenario_at(kind, &options.scenario, value).map_err(anyhow::Error::msg)?;
        results.points.push(SweepPoint {
            value,
            fills: Vec::new(),
            measurements: Vec::new(),
            failures: Vec::new(),
            store_rtt: Vec::new(),
        });
        for column in columns.iter_mut().filter(|c| !c.stopped) {
            if let Some(reason) = column.failing.take() {
                stop(column, value, reason, results);
                continue;
            }
            match kind {
                AxisKind::Revoked => sweep.bring_to(column, value, &scenario, results).await?,
                AxisKind::StoreRtt => sweep.delay(column, value, results).await?,
                _ => {}
            }
        }
        for round in 1..=options.rounds {
            let count = columns.len();
            for offset in 0..count {
                // Rotated each round, so no store always goes first.
                let column = &mut columns[(offset + round - 1) % count];
                if !column.stopped {
                    sweep.measure(column, value, &scenario, round, results).await?;
                }
            }
        }
        for column in &mut columns {
            // The point's forwarders close with it.
            column.delayed = None;
            if kind == AxisKind::Revoked && !column.stopped {
                let point = last_point(results);
                let measured = point.measurements.iter().find(|m| m.store == column.name());
                column.failing = measured.and_then(|m| failing_at(&kind.show(value), &m.rounds));
            }
        }
    }
    Ok(())
}

/// What every measurement of a sweep shares.
struct Sweep<'a> {
    options: &'a SweepOptions,
    output: &'a Output,
    http: reqwest::Client,
    secret: String,
    /// One admin token for every replica's `/stats`.
    admin_token: String,
    sequence: usize,
}

impl Sweep<'_> {
    /// Grows a shared store to `value`, or checks an in-process one can be filled to it (its
    /// servers fill it at start); stops the store, with the reason, when it cannot.
    async fn bring_to(
        &self,
        column: &mut Column<'_>,
        value: u64,
        scenario: &Scenario,
        results: &mut SweepResults,
    ) -> anyhow::Result<()> {
        let name = column.name().to_string();
        let progress = self.options.progress;
        let remembers = column.remembers();
        match &mut column.shared {
            // Keeps no token ids (a per-user cut-off, refresh families): a fill would write
            // nothing and record a rate of nothing; it is emptied before each measurement.
            Some(_) if !remembers => {}
            Some(tally) => {
                if progress && value > tally.entries {
                    eprintln!("filling {name} to {} entries", short_count(value));
                }
                let rules = FillRules {
                    token_ttl: scenario.token_ttl,
                    progress,
                    max_time: self.options.max_fill_time,
                };
                match grow_shared(&name, column.target.handle(), tally, value, rules).await {
                    Ok(fill) => {
                        if progress && fill.added > 0 {
                            eprintln!(
                                "  {name}: {} entries added in {:.1} s",
                                short_count(fill.added),
                                fill.fill_secs
                            );
                        }
                        last_point(results).fills.push(fill);
                    }
                    Err(reason) => stop(column, value, reason, results),
                }
            }
            None => {
                if let Some(reason) = self.beyond_in_process(column, value, scenario) {
                    stop(column, value, reason, results);
                }
            }
        }
        self.output.write(|path| results.write(path))
    }

    /// Why an in-process store's servers cannot fill themselves to `value`, if they cannot:
    /// the memory it would take, or the time, both from what its servers reported at the
    /// previous point.
    fn beyond_in_process(
        &self,
        column: &Column<'_>,
        value: u64,
        scenario: &Scenario,
    ) -> Option<String> {
        let servers = scenario.replicas;
        let memory = column
            .bytes_per_entry
            .zip(available_memory())
            .and_then(|(per_entry, available)| beyond_memory(value, per_entry, servers, available));
        let max = self.options.max_fill_time;
        memory.or_else(|| {
            let reason = beyond_fill_time(value, Duration::ZERO, column.fill_rate?, max)?;
            Some(format!(
                "{reason} (its server's fill rate at the previous point; each server fills \
                 itself before it listens, every round)"
            ))
        })
    }

    /// Puts the point's round trip in front of a shared store and records what it adds; an
    /// in-process store has no store to reach and is measured as it is.
    async fn delay(
        &self,
        column: &mut Column<'_>,
        value: u64,
        results: &mut SweepResults,
    ) -> anyhow::Result<()> {
        if column.shared.is_none() {
            return Ok(());
        }
        let (name, url) = (column.name().to_string(), column.target.url.clone());
        let round_trip = Duration::from_micros(value);
        match store_rtt::delay(&name, &url, column.target.handle(), round_trip).await {
            Ok(delayed) => {
                if self.options.progress {
                    let m = &delayed.measured;
                    eprintln!(
                        "  {name}: ping {:.0} µs straight, {:.0} µs through the forwarder \
                         ({:.0} µs added, {} asked)",
                        m.direct_us.median,
                        m.through_us.median,
                        m.measured_added_us,
                        AxisKind::StoreRtt.show(value)
                    );
                }
                last_point(results).store_rtt.push(delayed.measured.clone());
                column.delayed = Some(delayed);
            }
            Err(reason) => stop(column, value, reason, results),
        }
        self.output.write(|path| results.write(path))
    }

    /// One round of one store at `value`; a failure stops the store there, with the reason.
    async fn measure(
        &mut self,
        column: &mut Column<'_>,
        value: u64,
        scenario: &Scenario,
        round: usize,
        results: &mut SweepResults,
    ) -> anyhow::Result<()> {
        self.sequence += 1;
        let name = column.name().to_string();
        let kind = self.options.axis.kind();
        if self.options.progress {
            eprintln!(
                "[{} = {}] round {round}/{} · {name}{}",
                self.options.axis.name,
                kind.show(value),
                self.options.rounds,
                if kind == AxisKind::Revoked
                    && column.shared.is_none()
                    && column.remembers()
                    && value > 0
                {
                    " (its server fills itself)"
                } else {
                    ""
                }
            );
        }
        let spec = ReplicaSpec {
            exe: self.options.server_exe.clone(),
            store_url: column.delayed.as_ref().map_or(&column.target.url, |d| &d.url).clone(),
            token_ttl: scenario.token_ttl,
            jwt_secret: self.secret.clone(),
            admin_token: self.admin_token.clone(),
            inject_latency: None,
            inject_work: None,
            fail_open: false,
            cpus: None,
        };
        // A store that keeps nothing (`none:`) has nothing to fill: it is the baseline. A
        // shared store that keeps no token ids (per-user cut-offs, refresh families) got
        // nothing from the fill: all it holds is its load's, emptied before each measurement.
        // Along any other axis every measurement starts from an empty store, as in `revbench
        // run`.
        let store = match (kind, &column.shared, column.remembers()) {
            (AxisKind::Revoked, Some(_), true) => StoreState::Kept,
            (AxisKind::Revoked, None, true) => StoreState::FilledAtStart(value),
            (AxisKind::Revoked, None, false) => StoreState::FilledAtStart(0),
            _ => StoreState::Cleared,
        };
        let servers = Servers::Start { target: column.target, spec: &spec, store };
        let timing = Timing { duration: self.options.duration, warmup: self.options.warmup };
        let at = Position { round, sequence: self.sequence };
        match measure(&self.http, servers, scenario, timing, at).await {
            Ok(mut result) => {
                let forgotten = match (&mut result.load_forgotten, &column.shared) {
                    (Some(forgotten), Some(tally)) => {
                        kept::count_after(column.target.handle(), tally.entries, forgotten).await;
                        Some(forgotten.clone())
                    }
                    _ => None,
                };
                self.keep(column, value, scenario, result, results);
                if let Some(forgotten) = forgotten {
                    kept::report(&name, &forgotten, self.options.progress);
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                last_point(results).failures.push(MeasurementFailure {
                    store: name,
                    scenario: scenario.name.clone(),
                    round,
                    pair: None,
                    error: error.clone(),
                });
                stop(column, value, error, results);
            }
        }
        self.output.write(|path| results.write(path))
    }

    /// Files a round under its point; the first round of an in-process store gives the
    /// point's fill.
    fn keep(
        &self,
        column: &mut Column<'_>,
        value: u64,
        scenario: &Scenario,
        result: RoundResult,
        results: &mut SweepResults,
    ) {
        let name = column.name().to_string();
        if self.options.progress {
            let check = result.check_latency();
            let ms =
                |us: Option<u64>| us.map_or("-".to_string(), |u| format!("{:.3}", u as f64 / 1e3));
            eprintln!(
                "  {name}: {:.0} req/s, check p50 {} ms, p99 {} ms",
                result.requests_per_sec,
                ms(check.map(|c| c.p50_us)),
                ms(check.map(|c| c.p99_us))
            );
        }
        let point = last_point(results);
        if let Some(fill) = &result.server_prefill {
            if !point.fills.iter().any(|f| f.store == name) {
                let fill = server_fill(&name, fill);
                column.bytes_per_entry = fill.bytes_per_entry.or(column.bytes_per_entry);
                column.fill_rate = trusted_rate(fill.added, fill.fill_secs).or(column.fill_rate);
                point.fills.push(fill);
            }
        }
        record(&mut point.measurements, &name, &scenario.name, result);
        column.reached = Some(value);
    }
}

fn last_point(results: &mut SweepResults) -> &mut SweepPoint {
    results.points.last_mut().expect("a point is under way")
}

/// Records that `column` could not reach `value`, and why; it is not measured again.
fn stop(column: &mut Column<'_>, value: u64, reason: String, results: &mut SweepResults) {
    eprintln!("stopped {} at {}: {reason}", column.name(), short_count(value));
    column.stopped = true;
    results.stopped.push(StoppedStore {
        store: column.name().to_string(),
        at: value,
        reached: column.reached,
        reason,
    });
}
