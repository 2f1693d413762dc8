//! Drives replicas with goose for one scenario: the closed or open (constant-rate) load.

use std::sync::Arc;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::goose::Scenario as GooseScenario;
use goose::test_plan::TestPlan;
use goose::GooseAttack;

use super::http1::Target;
use super::recorder::Recorder;
use super::steps::{transaction, LoadContext};
use crate::scenario::Scenario;

/// Runs `scenario` against `replicas` for `duration` (to the millisecond: a `--duration 1200ms`
/// is 1.2 s of load, not 1 s) and returns the wall time the load ran.
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
    let attack = GooseAttack::initialize_with_config(configuration(scenario, replicas, duration)?)?
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

/// Stops the attack under way (on Ctrl-C: its thread outlives the measurement it served).
pub fn stop() {
    goose::trigger_killswitch("revbench was interrupted");
}

/// Goose's configuration, built in code (it never reads the process arguments).
fn configuration(
    scenario: &Scenario,
    replicas: &[String],
    duration: Duration,
) -> anyhow::Result<GooseConfiguration> {
    let mut config = GooseConfiguration::default();
    config.host = Some(replicas[0].clone());
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
    with_test_plan(config, test_plan(scenario.users, scenario.ramp_up, duration))
}

/// `config` with `plan`: goose keeps the test plan in a crate-private field, but the
/// configuration is serde, so the plan goes in through its serialized form (its text form,
/// `--test-plan`, takes whole seconds only).
fn with_test_plan(
    config: GooseConfiguration,
    plan: TestPlan,
) -> anyhow::Result<GooseConfiguration> {
    let mut value = serde_json::to_value(&config)?;
    value["test_plan"] = serde_json::to_value(&plan)?;
    Ok(serde_json::from_value(value)?)
}

/// Goose's plan in milliseconds (its `run_time` takes whole seconds): start `users` over
/// `ramp_up` ("no ramp" is all within 1 ms), hold them for `duration`, stop at once.
fn test_plan(users: usize, ramp_up: Duration, duration: Duration) -> TestPlan {
    let ms = |d: Duration| d.as_millis().min(usize::MAX as u128) as usize;
    TestPlan {
        steps: vec![(users, ms(ramp_up).max(1)), (users, ms(duration).max(1)), (0, 0)],
        current: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sub-second durations keep their milliseconds (whole seconds used to be all goose took).
    #[test]
    fn plans_keep_milliseconds() {
        let plan = test_plan(4, Duration::ZERO, Duration::from_millis(1700));
        assert_eq!(plan.steps, [(4, 1), (4, 1700), (0, 0)]);
        let ramped = test_plan(8, Duration::from_millis(500), Duration::from_secs(3));
        assert_eq!(ramped.steps, [(8, 500), (8, 3000), (0, 0)]);
        let scenario = Scenario::load("steady").unwrap();
        let config = configuration(&scenario, &["http://h:1".into()], Duration::from_millis(1700));
        let config = serde_json::to_value(config.unwrap()).unwrap();
        assert_eq!(config["test_plan"]["steps"][1], serde_json::json!([scenario.users, 1700]));
    }
}
