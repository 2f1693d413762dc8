//! The decision view: per topology and strategy, what it costs against `none:` and what it
//! buys (the replay window, the leak rate), from the run's numbers only.

use super::replay::window_ms;
use super::tables::Table;
use crate::results::{Measurement, RunResults};
use crate::scenario::Scenario;

/// The topology a scenario measures, as the decision view names it.
fn topology(scenario: &Scenario) -> String {
    let replicas = match scenario.replicas {
        1 => String::new(),
        n => format!(", {n} replicas"),
    };
    if scenario.outage.is_some() {
        format!("store down{replicas}")
    } else if scenario.restart_then_replay {
        format!("after a restart{replicas}")
    } else if scenario.replicas > 1 {
        format!("{} replicas", scenario.replicas)
    } else {
        "one server".to_string()
    }
}

/// What a strategy needs to run, from its name.
fn needs(store: &str) -> &'static str {
    match store {
        "redis" | "hybrid" | "cutoff-redis" => "Redis",
        "postgres" => "PostgreSQL",
        "mongodb" => "MongoDB",
        _ => "nothing (in-process)",
    }
}

/// `+0.123` ms (or `-0.010`) against `none:`'s median in the same scenario.
fn added(
    m: &Measurement,
    none: Option<&Measurement>,
    pick: fn(&Measurement) -> Option<f64>,
) -> String {
    match (pick(m), none.and_then(pick)) {
        (Some(value), Some(base)) => format!("{:+.3}", (value - base) / 1000.0),
        _ => "–".into(),
    }
}

fn p50(m: &Measurement) -> Option<f64> {
    m.median.as_ref().map(|median| median.p50_us.median)
}

fn p99(m: &Measurement) -> Option<f64> {
    m.median.as_ref().map(|median| median.p99_us.median)
}

/// The replay window's p99 over the rounds: the worst round's, `never` if a round's p99 fell
/// on a copy never refused.
fn replay_p99(m: &Measurement) -> String {
    let windows: Vec<_> = m.rounds.iter().filter_map(|r| r.replay_window.as_ref()).collect();
    if windows.is_empty() {
        return "–".into();
    }
    let worst = windows.iter().map(|w| w.p99_us).max_by_key(|v| v.unwrap_or(u64::MAX));
    window_ms(worst.flatten())
}

fn leak(m: &Measurement) -> String {
    let (attempted, accepted) = super::narrative::replays(m);
    if attempted == 0 {
        return "–".into();
    }
    format!("{:.1}%", 100.0 * accepted as f64 / attempted as f64)
}

/// One row per scenario that measured a replay window and per store; `None` for runs without
/// replay windows (files written before they were measured).
pub fn table(results: &RunResults) -> Option<Table> {
    let mut rows = Vec::new();
    for scenario in &results.config.scenarios {
        let of_scenario: Vec<&Measurement> =
            results.measurements.iter().filter(|m| m.scenario == scenario.name).collect();
        if !of_scenario.iter().any(|m| m.rounds.iter().any(|r| r.replay_window.is_some())) {
            continue;
        }
        let none = of_scenario.iter().copied().find(|m| m.store == "none");
        for m in &of_scenario {
            rows.push(vec![
                topology(scenario),
                super::narrative::shown_name(&m.store, &results.stores),
                added(m, none, p50),
                added(m, none, p99),
                replay_p99(m),
                leak(m),
                needs(&m.store).to_string(),
            ]);
        }
    }
    (!rows.is_empty()).then(|| Table {
        headers: [
            "topology",
            "strategy",
            "added p50 ms vs none",
            "added p99 ms vs none",
            "replay window p99 ms",
            "replays accepted",
            "needs",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Topologies are named from the scenario's shape.
    #[test]
    fn names_topologies() {
        let name = |n: &str| topology(&Scenario::load(n).unwrap());
        assert_eq!(name("logout-replay"), "one server");
        assert_eq!(name("replicas"), "3 replicas");
        assert_eq!(name("restart"), "after a restart");
        assert_eq!(name("store-outage"), "store down");
        assert_eq!(name("outage-replicas"), "store down, 3 replicas");
    }
}
