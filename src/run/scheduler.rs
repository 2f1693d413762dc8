//! `revbench run`'s scheduler: which measurement comes next (interleaved rounds), and the
//! results file rewritten after each one, so a crash loses nothing.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::measure::{measure, Position, Servers, Timing};
use super::options::{PairedResults, RunOptions, BASE_FILE, CANDIDATE_FILE};
use super::progress::Progress;
use crate::harness::output::{http_client, shared_secret};
use crate::harness::pinning;
use crate::harness::{probe, remote, Deployment, Output, ReplicaSpec, Target};
use crate::interrupt::Interrupt;
use crate::results::{
    Measurement, MeasurementFailure, NotApplicable, PairedRun, ResultsHeader, RoundResult,
    RunConfig, RunResults, StoreStatus,
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
    let subjects = if options.targets.is_empty() {
        None
    } else {
        Some(remote::connect(&http_client()?, &options.targets).await?)
    };
    let output = Output::create(&options.out_dir)?;
    let placement = place_processes(options.pin)?;
    let (subjects, stores) = match subjects {
        None => {
            let (targets, stores) = probe(&options.stores, "run").await;
            (Subjects::Stores(targets), stores)
        }
        Some(deployment) => {
            let stores = vec![deployment.record()];
            (Subjects::Remote(deployment), stores)
        }
    };
    let mut header = ResultsHeader::start();
    if let Subjects::Remote(deployment) = &subjects {
        header.environment.targets = deployment.shown_urls();
    }
    let results = RunResults {
        header,
        config: RunConfig {
            scenarios: options.scenarios.clone(),
            rounds: options.rounds,
            quick: options.quick,
            injected_latency_us: options.inject_latency.map(|d| d.as_micros() as u64),
            placement: placement.description.clone(),
            warmup_secs: Some(options.warmup.as_secs_f64()),
            paired: None,
        },
        stores,
        measurements: Vec::new(),
        not_applicable: Vec::new(),
        failures: Vec::new(),
    };
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
    let mut sides = match &baseline {
        None => vec![side(&options.server_exe, None, None)],
        Some(base) => vec![
            side(base, Some("base"), Some(BASE_FILE)),
            side(&options.server_exe, Some("candidate"), Some(CANDIDATE_FILE)),
        ],
    };
    let measured = tokio::select! {
        measured = measure_all(options, &placement, &subjects, &mut sides) => measured,
        () = interrupt.recv() => {
            // The measurement was dropped, killing its replicas; stop the load and let them
            // die before cleaning.
            super::attack::stop();
            tokio::time::sleep(INTERRUPT_GRACE).await;
            Err(anyhow::anyhow!("interrupted; results so far are in {}", output.dir.display()))
        }
    };
    let targets = match subjects {
        Subjects::Stores(targets) => targets,
        Subjects::Remote(_) => Vec::new(),
    };
    for target in targets {
        let name = target.name.clone();
        if let Err(e) = target.remove().await {
            eprintln!("warning: could not remove the run's namespace in {name}: {e}");
        }
    }
    measured?;
    for side in &mut sides {
        side.results.header.finish();
        side.write()?;
    }
    Ok(sides)
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
    let http = http_client()?;
    let secret = shared_secret();
    let count = subjects.len();
    let total = options.rounds * count * options.scenarios.len() * sides.len();
    let progress = Progress::start(
        options.progress,
        total,
        count,
        options.scenarios.len(),
        options.rounds,
        mean_duration(options) + options.warmup,
    );
    let paired = sides.len() > 1;
    let mut sequence = 0;
    for round in 1..=options.rounds {
        for t in 0..count {
            let subject = subjects.get((t + round - 1) % count);
            let name = subject.name();
            for scenario in &options.scenarios {
                if let Some(reason) = subject.not_applicable(scenario) {
                    for side in sides.iter_mut() {
                        side.results.not_applicable.push(NotApplicable {
                            store: name.to_string(),
                            scenario: scenario.name.clone(),
                            reason: reason.clone(),
                        });
                        side.results.not_applicable.dedup();
                        progress.passed_over();
                    }
                    continue;
                }
                // ABBA: which side goes first alternates, so order effects cancel.
                let mut order: Vec<usize> = (0..sides.len()).collect();
                if round % 2 == 0 {
                    order.reverse();
                }
                for index in order {
                    let side = &mut sides[index];
                    sequence += 1;
                    let shown = match side.label() {
                        Some(label) => format!("{name} ({label})"),
                        None => name.to_string(),
                    };
                    progress.now_measuring(round, options.rounds, &shown, &scenario.name);
                    let spec = |target: &Target| ReplicaSpec {
                        exe: side.exe.clone(),
                        store_url: target.url.clone(),
                        token_ttl: scenario.token_ttl,
                        jwt_secret: secret.clone(),
                        inject_latency: options.inject_latency,
                        fail_open: false,
                        cpus: placement.server_cpus.clone(),
                    };
                    let timing = Timing {
                        duration: options.duration.unwrap_or(scenario.duration),
                        warmup: options.warmup,
                    };
                    let at = Position { round, sequence };
                    let measured = match subject {
                        Subject::Store(target) => {
                            let spec = spec(target);
                            let servers = Servers::Start { target, spec: &spec };
                            measure(&http, servers, scenario, timing, at).await
                        }
                        Subject::Remote(deployment) => {
                            let servers = Servers::Remote(deployment.servers_for(scenario));
                            measure(&http, servers, scenario, timing, at).await
                        }
                    }
                    .with_context(|| format!("{name} under {}", scenario.name));
                    match measured {
                        Ok(mut result) => {
                            result.pair = paired.then_some(round);
                            progress.measured(sequence, &shown, &scenario.name, &result);
                            record(&mut side.results, name, &scenario.name, result);
                        }
                        Err(e) if paired => {
                            let error = format!("{e:#}");
                            progress.failed(sequence, &shown, &scenario.name, &error);
                            side.results.failures.push(MeasurementFailure {
                                store: name.to_string(),
                                scenario: scenario.name.clone(),
                                round,
                                pair: Some(round),
                                error,
                            });
                        }
                        Err(e) => return Err(e),
                    }
                    side.write()?;
                    progress.advance();
                }
            }
        }
    }
    progress.finish();
    Ok(())
}

/// What a run measures: the stores it serves with replicas it starts, or one deployment
/// already running elsewhere (`--target`).
enum Subjects {
    Stores(Vec<Target>),
    Remote(Deployment),
}

/// One of [`Subjects`]: a column of the run.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Store(&'a Target),
    Remote(&'a Deployment),
}

impl Subjects {
    fn len(&self) -> usize {
        match self {
            Subjects::Stores(targets) => targets.len(),
            Subjects::Remote(_) => 1,
        }
    }

    fn get(&self, index: usize) -> Subject<'_> {
        match self {
            Subjects::Stores(targets) => Subject::Store(&targets[index]),
            Subjects::Remote(deployment) => Subject::Remote(deployment),
        }
    }
}

impl Subject<'_> {
    /// The store's short name, as the results name it.
    fn name(&self) -> &str {
        match self {
            Subject::Store(target) => &target.name,
            Subject::Remote(deployment) => &deployment.store,
        }
    }

    /// Why `scenario` cannot be measured here, if it cannot.
    fn not_applicable(&self, scenario: &Scenario) -> Option<String> {
        match self {
            Subject::Store(target) => (scenario.outage.is_some()
                && !target.handle().capabilities().shared)
                .then(|| "an in-process store cannot be cut off from its server".to_string()),
            Subject::Remote(deployment) => deployment.not_applicable(scenario),
        }
    }
}

fn mean_duration(options: &RunOptions) -> Duration {
    options.scenarios.iter().map(|s| options.duration.unwrap_or(s.duration)).sum::<Duration>()
        / options.scenarios.len().max(1) as u32
}

fn record(results: &mut RunResults, store: &str, scenario: &str, round: RoundResult) {
    let index = results
        .measurements
        .iter()
        .position(|m| m.store == store && m.scenario == scenario)
        .unwrap_or_else(|| {
            results.measurements.push(Measurement {
                store: store.to_string(),
                scenario: scenario.to_string(),
                rounds: Vec::new(),
                median: None,
            });
            results.measurements.len() - 1
        });
    let measurement = &mut results.measurements[index];
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
