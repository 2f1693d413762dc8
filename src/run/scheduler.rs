//! `revbench run`'s scheduler: which measurement comes next (interleaved rounds), and the
//! results file rewritten after each one, so a crash loses nothing.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::measure::{measure, Position, Servers, StoreState, Timing};
use super::options::{PairedResults, RunOptions, BASE_FILE, CANDIDATE_FILE};
use super::progress::Progress;
use super::subjects::{Subject, Subjects};
use crate::harness::output::{http_client, shared_secret};
use crate::harness::pinning;
use crate::harness::{remote, Deployment, Output, ReplicaSpec, Target};
use crate::interrupt::Interrupt;
use crate::results::{
    Measurement, MeasurementFailure, NotApplicable, PairedRun, ResultsHeader, RoundResult,
    RunConfig, RunResults, StoreRecord, StoreStatus,
};
use crate::scenario::Scenario;

/// How long killed replicas get to stop writing before an interrupted run removes its
/// namespaces.
const INTERRUPT_GRACE: Duration = Duration::from_millis(300);

/// One side of a run: whose servers, and where its results go.
struct Side {
    exe: PathBuf,
    results: RunResults,
    output: Output,
}

impl Side {
    fn write(&self) -> anyhow::Result<()> {
        self.output.write(|path| self.results.write(path))
    }

    /// `base` or `candidate` in a paired run.
    fn label(&self) -> Option<&str> {
        self.results.config.paired.as_ref().map(|p| p.side.as_str())
    }
}

/// Runs everything and returns the results (also written to `out_dir/results.json`). Every
/// store is measured in a namespace of its own, removed at the end, on failure and on Ctrl-C
/// (SIGINT) or SIGTERM: a run leaves no key, table or database behind.
pub async fn run(options: RunOptions) -> anyhow::Result<RunResults> {
    let mut sides = run_sides(&options, None).await?;
    Ok(sides.pop().expect("one side").results)
}

/// A paired run: every store and scenario measured with the base build's servers and with
/// this build's, back to back, in ABBA order (base then candidate in odd rounds, candidate
/// then base in even ones), by the same load client; `base.json` and `candidate.json` keep
/// every pair. A measurement that fails on one side is recorded in that side's `failures` and
/// the run goes on, so `compare` can name it.
pub async fn run_paired(options: RunOptions) -> anyhow::Result<PairedResults> {
    let baseline = options.baseline_exe.clone().context("a paired run needs --baseline-binary")?;
    let mut sides = run_sides(&options, Some(baseline)).await?;
    let candidate = sides.pop().expect("two sides").results;
    let base = sides.pop().expect("two sides").results;
    Ok(PairedResults { base, candidate })
}

async fn run_sides(options: &RunOptions, baseline: Option<PathBuf>) -> anyhow::Result<Vec<Side>> {
    // Before any load starts, so the signal reaches us and not goose (see `Interrupt`).
    let mut interrupt = Interrupt::listen().context("cannot listen for Ctrl-C")?;
    let deployment = connect_targets(&options.targets, options.admin_token.as_deref()).await?;
    let output = Output::create(&options.out_dir)?;
    let placement = place_processes(options.pin)?;
    let (subjects, stores) = Subjects::open(&options.stores, deployment).await;
    let results = empty_results(options, &subjects, stores, &placement);
    let mut sides = make_sides(options, baseline.as_ref(), &results, &output);
    let measured = tokio::select! {
        measured = measure_all(options, &placement, &subjects, &mut sides) => measured,
        () = interrupt.recv() => interrupted(&output).await,
    };
    subjects.remove_namespaces().await;
    measured?;
    for side in &mut sides {
        side.results.header.finish();
        side.write()?;
    }
    Ok(sides)
}

/// The deployment `--target` names, checked; `None` when the run starts its own servers.
async fn connect_targets(
    targets: &[String],
    admin_token: Option<&str>,
) -> anyhow::Result<Option<Deployment>> {
    if targets.is_empty() {
        return Ok(None);
    }
    Ok(Some(remote::connect(&http_client()?, targets, admin_token).await?))
}

/// The results before any measurement: what the run was asked, where, and its stores.
fn empty_results(
    options: &RunOptions,
    subjects: &Subjects,
    stores: Vec<StoreRecord>,
    placement: &Placement,
) -> RunResults {
    let mut header = ResultsHeader::start();
    if let Subjects::Remote(deployment) = subjects {
        header.environment.targets = deployment.shown_urls();
    }
    RunResults {
        header,
        config: RunConfig {
            scenarios: options.scenarios.clone(),
            rounds: options.rounds,
            quick: options.quick,
            injected_latency_us: options.inject_latency.map(|d| d.as_micros() as u64),
            injected_work_ns: options.inject_work.map(|d| d.as_nanos() as u64),
            placement: placement.description.clone(),
            warmup_secs: Some(options.warmup.as_secs_f64()),
            paired: None,
        },
        stores,
        measurements: Vec::new(),
        not_applicable: Vec::new(),
        failures: Vec::new(),
    }
}

/// One side serving with this build, or, in a paired run, the base side (`baseline`) and the
/// candidate, each labelled with the run's id and writing a results file of its own.
fn make_sides(
    options: &RunOptions,
    baseline: Option<&PathBuf>,
    results: &RunResults,
    output: &Output,
) -> Vec<Side> {
    let run_id = crate::jti::Jti::random().to_string();
    let side = |exe: &PathBuf, label: Option<&str>, file: Option<&str>| {
        let mut results = results.clone();
        results.config.paired = label.map(|side| PairedRun {
            run_id: run_id.clone(),
            side: side.to_string(),
            server_exe: exe.display().to_string(),
        });
        let mut output = output.clone();
        if let Some(file) = file {
            output.results = output.dir.join(file);
        }
        Side { exe: exe.clone(), results, output }
    };
    match baseline {
        None => vec![side(&options.server_exe, None, None)],
        Some(base) => vec![
            side(base, Some("base"), Some(BASE_FILE)),
            side(&options.server_exe, Some("candidate"), Some(CANDIDATE_FILE)),
        ],
    }
}

/// On Ctrl-C or SIGTERM: the measurement was dropped, killing its replicas; stop the load and
/// let them die before the namespaces are removed.
async fn interrupted(output: &Output) -> anyhow::Result<()> {
    super::attack::stop();
    tokio::time::sleep(INTERRUPT_GRACE).await;
    Err(anyhow::anyhow!("interrupted; results so far are in {}", output.dir.display()))
}

/// Every round, store and scenario, interleaved: round 1 visits every store, then round 2 does
/// again, so drift on the machine hits every store alike; the store order rotates each round
/// so no store always goes first (or right after the same neighbour). In a paired run each
/// store and scenario is measured on both sides back to back, the first side alternating.
async fn measure_all(
    options: &RunOptions,
    placement: &Placement,
    subjects: &Subjects,
    sides: &mut [Side],
) -> anyhow::Result<()> {
    for side in sides.iter() {
        side.write()?;
    }
    for skipped in sides[0].results.stores.iter().filter(|s| s.status == StoreStatus::Skipped) {
        eprintln!("skipped {}: {}", skipped.url, skipped.reason.as_deref().unwrap_or(""));
    }
    let mut scheduler = Scheduler::start(options, placement, subjects.count(), sides.len())?;
    for round in 1..=options.rounds {
        for subject in subjects.rotated(round) {
            for scenario in &options.scenarios {
                let visit = Visit { round, subject, scenario };
                scheduler.visit(&visit, sides).await?;
            }
        }
    }
    scheduler.progress.finish();
    Ok(())
}

/// One store under one scenario in one round.
struct Visit<'a> {
    round: usize,
    subject: Subject<'a>,
    scenario: &'a Scenario,
}

impl Visit<'_> {
    fn store(&self) -> &str {
        self.subject.name()
    }
}

/// What every measurement of a run shares, and how far the run has got.
struct Scheduler<'a> {
    options: &'a RunOptions,
    placement: &'a Placement,
    http: reqwest::Client,
    /// One JWT secret for every replica of the run.
    secret: String,
    /// One admin token for every replica's `/stats`.
    admin_token: String,
    progress: Progress,
    paired: bool,
    /// Measurements started so far.
    sequence: usize,
}

impl<'a> Scheduler<'a> {
    /// Shows the estimate (when progress is on) for `subjects` × scenarios × rounds × `sides`.
    fn start(
        options: &'a RunOptions,
        placement: &'a Placement,
        subjects: usize,
        sides: usize,
    ) -> anyhow::Result<Self> {
        let http = http_client()?;
        let secret = shared_secret();
        let total = options.rounds * subjects * options.scenarios.len() * sides;
        let progress = Progress::start(
            options.progress,
            total,
            subjects,
            options.scenarios.len(),
            options.rounds,
            mean_duration(options) + options.warmup,
        );
        let admin_token = shared_secret();
        Ok(Self {
            options,
            placement,
            http,
            secret,
            admin_token,
            progress,
            paired: sides > 1,
            sequence: 0,
        })
    }

    /// Measures `visit` on every side, or records on each why it cannot be measured.
    async fn visit(&mut self, visit: &Visit<'_>, sides: &mut [Side]) -> anyhow::Result<()> {
        if let Some(reason) = visit.subject.not_applicable(visit.scenario) {
            let pair = NotApplicable {
                store: visit.store().to_string(),
                scenario: visit.scenario.name.clone(),
                reason,
            };
            for side in sides.iter_mut() {
                // Once per pair, not once per round.
                if !side.results.not_applicable.contains(&pair) {
                    side.results.not_applicable.push(pair.clone());
                }
                self.progress.passed_over();
            }
            return Ok(());
        }
        // ABBA: which side goes first alternates, so order effects cancel.
        let mut order: Vec<usize> = (0..sides.len()).collect();
        if visit.round % 2 == 0 {
            order.reverse();
        }
        for index in order {
            self.measure_side(visit, &mut sides[index]).await?;
        }
        Ok(())
    }

    /// One measurement on one side, kept in its results, which are rewritten at once.
    async fn measure_side(&mut self, visit: &Visit<'_>, side: &mut Side) -> anyhow::Result<()> {
        self.sequence += 1;
        let (name, scenario) = (visit.store(), &visit.scenario.name);
        let shown = match side.label() {
            Some(label) => format!("{name} ({label})"),
            None => name.to_string(),
        };
        self.progress.now_measuring(visit.round, self.options.rounds, &shown, scenario);
        let measured =
            self.measure(visit, side).await.with_context(|| format!("{name} under {scenario}"));
        self.keep(visit, &shown, measured, side)?;
        side.write()?;
        self.progress.advance();
        Ok(())
    }

    /// Measures `visit` with `side`'s servers: replicas started from its executable, or the
    /// deployment's servers.
    async fn measure(&self, visit: &Visit<'_>, side: &Side) -> anyhow::Result<RoundResult> {
        let scenario = visit.scenario;
        let timing = Timing {
            duration: self.options.duration.unwrap_or(scenario.duration),
            warmup: self.options.warmup,
        };
        let at = Position { round: visit.round, sequence: self.sequence };
        match visit.subject {
            Subject::Store(target) => {
                let spec = self.replica_spec(side, target, scenario);
                let servers = Servers::Start { target, spec: &spec, store: StoreState::Cleared };
                measure(&self.http, servers, scenario, timing, at).await
            }
            Subject::Remote(deployment) => {
                let servers = Servers::Remote {
                    urls: deployment.servers_for(scenario),
                    admin_token: deployment.admin_token.as_deref(),
                };
                measure(&self.http, servers, scenario, timing, at).await
            }
        }
    }

    /// How `side`'s replicas serve `target` under `scenario`.
    fn replica_spec(&self, side: &Side, target: &Target, scenario: &Scenario) -> ReplicaSpec {
        ReplicaSpec {
            exe: side.exe.clone(),
            store_url: target.url.clone(),
            token_ttl: scenario.token_ttl,
            jwt_secret: self.secret.clone(),
            inject_latency: self.options.inject_latency,
            inject_work: self.options.inject_work,
            fail_open: false,
            cpus: self.placement.server_cpus.clone(),
            admin_token: self.admin_token.clone(),
        }
    }

    /// Keeps a result in `side`'s results. A failure stops a single run; a paired run records
    /// it in that side's `failures` and goes on, so `compare` can name it.
    fn keep(
        &self,
        visit: &Visit<'_>,
        shown: &str,
        measured: anyhow::Result<RoundResult>,
        side: &mut Side,
    ) -> anyhow::Result<()> {
        let (round, scenario) = (visit.round, &visit.scenario.name);
        match measured {
            Ok(mut result) => {
                result.pair = self.paired.then_some(round);
                self.progress.measured(self.sequence, shown, scenario, &result);
                record(&mut side.results.measurements, visit.store(), scenario, result);
            }
            Err(e) if self.paired => {
                let error = format!("{e:#}");
                self.progress.failed(self.sequence, shown, scenario, &error);
                side.results.failures.push(MeasurementFailure {
                    store: visit.store().to_string(),
                    scenario: scenario.clone(),
                    round,
                    pair: Some(round),
                    error,
                });
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

fn mean_duration(options: &RunOptions) -> Duration {
    options.scenarios.iter().map(|s| options.duration.unwrap_or(s.duration)).sum::<Duration>()
        / options.scenarios.len().max(1) as u32
}

/// Adds `round` to the measurement of `store` under `scenario` in `measurements` (a new one
/// if it is the first) and updates its medians.
pub fn record(
    measurements: &mut Vec<Measurement>,
    store: &str,
    scenario: &str,
    round: RoundResult,
) {
    let index = measurements
        .iter()
        .position(|m| m.store == store && m.scenario == scenario)
        .unwrap_or_else(|| {
            measurements.push(Measurement {
                store: store.to_string(),
                scenario: scenario.to_string(),
                rounds: Vec::new(),
                median: None,
            });
            measurements.len() - 1
        });
    let measurement = &mut measurements[index];
    measurement.rounds.push(round);
    measurement.update_median();
}

/// Where servers and client run.
struct Placement {
    server_cpus: Option<Vec<usize>>,
    description: String,
}

fn place_processes(pin: bool) -> anyhow::Result<Placement> {
    if !pin {
        return Ok(Placement { server_cpus: None, description: "unpinned".to_string() });
    }
    let (server, client) =
        pinning::split_cpus().context("--pin needs at least two CPUs; run without --pin")?;
    pinning::pin_this_process(&client).context("cannot pin the load client (--pin)")?;
    Ok(Placement {
        description: format!("servers on cpus {server:?}, load client on cpus {client:?}"),
        server_cpus: Some(server),
    })
}
