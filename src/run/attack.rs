//! Drives replicas with goose for one scenario: the closed or open (constant-rate) load.

use std::sync::Arc;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::goose::Scenario as GooseScenario;
use goose::GooseAttack;

use super::http1::Target;
use super::recorder::Recorder;
use super::steps::{transaction, LoadContext};
use crate::scenario::Scenario;

/// Runs `scenario` against `replicas` for `duration` (whole seconds, at least 1) and returns
/// the wall time the load ran.
pub async fn drive(
    scenario: &Scenario,
    replicas: &[String],
    recorder: Arc<Recorder>,
    duration: Duration,
) -> anyhow::Result<Duration> {
    let per_user_interval =
        scenario.rate.map(|rate| Duration::from_secs_f64(scenario.users as f64 / rate));
    let targets = replicas.iter().map(|base| Target::new(base)).collect::<Result<_, _>>()?;
    let ctx = Arc::new(LoadContext {
        recorder,
        replicas: targets,
        per_user_interval,
        users: scenario.users,
    });
    let mut goose_scenario = GooseScenario::new(&scenario.name);
    for step in scenario.steps.iter().filter(|s| s.weight > 0) {
        goose_scenario = goose_scenario
            .register_transaction(transaction(step.kind, ctx.clone()).set_weight(step.weight)?);
    }
    let attack = GooseAttack::initialize_with_config(configuration(scenario, replicas, duration))?
        .register_scenario(goose_scenario);
    // The load client gets a single-threaded runtime on its own OS thread: a multi-threaded
    // client spends much of its CPU switching between its own workers, CPU the server under
    // test loses when the two share a small machine.
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("revbench-load".into()).spawn(move || {
        let outcome = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| {
                runtime.block_on(async {
                    let started = tokio::time::Instant::now();
                    attack.execute().await?;
                    Ok(started.elapsed())
                })
            });
        let _ = done.send(outcome);
    })?;
    finished.await.map_err(|_| anyhow::anyhow!("the load thread panicked"))?
}

/// Goose's configuration, built in code (it never reads the process arguments).
/// Stops the attack under way (on Ctrl-C: its thread outlives the measurement it served).
pub fn stop() {
    goose::trigger_killswitch("revbench was interrupted");
}

fn configuration(
    scenario: &Scenario,
    replicas: &[String],
    duration: Duration,
) -> GooseConfiguration {
    let ramp_secs = scenario.ramp_up.as_secs_f64();
    // Goose starts users at `increase_rate` per second; "no ramp" means all within ~1 ms.
    let increase_rate = if ramp_secs > 0.0 {
        scenario.users as f64 / ramp_secs
    } else {
        scenario.users as f64 * 1000.0
    };
    let mut config = GooseConfiguration::default();
    config.host = Some(replicas[0].clone());
    config.users = Some(scenario.users);
    config.increase_rate = Some(format!("{increase_rate}"));
    config.run_time = Some(format!("{}s", duration.as_secs().max(1)));
    // Every request is timed by revbench's own HDR recorder; goose's aggregation would
    // only add client CPU on a machine the server shares.
    config.no_metrics = true;
    config.no_transaction_metrics = true;
    config.no_scenario_metrics = true;
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.no_telnet = true;
    config.quiet = 1;
    config.timeout = Some("10".to_string());
    config
}
