//! The decision view: per topology and strategy, what it costs against `none:` and what it
//! buys (the replay window, the leak rate), from the run's numbers only; and per strategy
//! what it is, what one entry costs in memory, what it needs and what it does when its store
//! is down (descriptions from each scheme's [`Profile`](crate::revocation::Profile)).

use super::memory;
use super::vocabulary::{baseline, replays, shown_name, window_ms, Table};
use crate::results::{Measurement, RunResults, StoreStatus};
use crate::revocation::{EntryUnit, Scheme};
use crate::scenario::Scenario;
use crate::size::Placement;

/// What a strategy's replay probes showed in one topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Every probed copy was refused at its first replay.
    AtOnce,
    /// Every probed copy was refused, the last one after this long (µs).
    Within(u64),
    /// Copies still accepted when the probe stopped.
    Leaks { never: u64, probed: u64 },
    /// No probe got a revoked copy (every logout failed).
    NotProbed,
    /// Copies were replayed but no replay was answered properly (5xx, no answer): nothing
    /// shows whether the store refuses them.
    Unanswered { copies: u64 },
}

/// One strategy in one topology.
pub struct Row<'a> {
    pub measurement: &'a Measurement,
    /// As tables and charts show it (stand-ins marked).
    pub name: String,
    /// The check latency's p50 and p99 (medians over rounds) minus `none:`'s in the same
    /// scenario, ms.
    pub added_p50_ms: Option<f64>,
    pub added_p99_ms: Option<f64>,
    /// The longest window of any probed copy over the rounds (µs); `None`: a copy was never
    /// refused. (With eight probes a round, no percentile below the largest can be told
    /// from it.)
    pub window_max_us: Option<u64>,
    pub protection: Protection,
}

/// The strategies measured in one topology (one scenario that probed replay windows).
pub struct Topology<'a> {
    pub name: String,
    pub scenario: &'a Scenario,
    /// `none:` in the same scenario, when it was measured.
    pub none: Option<&'a Measurement>,
    pub rows: Vec<Row<'a>>,
}

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

/// The check latency's p50 (median over rounds).
fn p50(m: &Measurement) -> Option<f64> {
    Some(m.median.as_ref()?.check_p50_us?.median)
}

/// The check latency's p99 (median over rounds).
fn p99(m: &Measurement) -> Option<f64> {
    Some(m.median.as_ref()?.check_p99_us?.median)
}

/// `pick(m) − pick(none)` in ms.
fn added(
    m: &Measurement,
    none: Option<&Measurement>,
    pick: fn(&Measurement) -> Option<f64>,
) -> Option<f64> {
    Some((pick(m)? - none.and_then(pick)?) / 1000.0)
}

/// The longest window over the rounds and what the probes showed; `None` without a probed
/// round.
fn window(m: &Measurement) -> Option<(Option<u64>, Protection)> {
    let windows: Vec<_> = m.rounds.iter().filter_map(|r| r.replay_window.as_ref()).collect();
    if windows.is_empty() {
        return None;
    }
    let longest = windows.iter().map(|w| w.max_us).max_by_key(|v| v.unwrap_or(u64::MAX)).flatten();
    let probed: u64 = windows.iter().map(|w| w.probed()).sum();
    let unanswered: u64 = windows.iter().map(|w| w.unanswered).sum();
    let never: u64 = windows.iter().map(|w| w.never_refused).sum();
    let max = windows.iter().filter_map(|w| w.max_us).max().unwrap_or(0);
    let protection = match (probed, never, max) {
        (0, _, _) if unanswered > 0 => Protection::Unanswered { copies: unanswered },
        (0, _, _) => Protection::NotProbed,
        (_, 0, 0) => Protection::AtOnce,
        (_, 0, max) => Protection::Within(max),
        (probed, never, _) => Protection::Leaks { never, probed },
    };
    Some((longest, protection))
}

/// Every scenario that measured a replay window, with its strategies in run order.
pub fn topologies(results: &RunResults) -> Vec<Topology<'_>> {
    let mut out = Vec::new();
    for scenario in &results.config.scenarios {
        let of_scenario: Vec<&Measurement> =
            results.measurements.iter().filter(|m| m.scenario == scenario.name).collect();
        let none = baseline(&of_scenario, &results.stores);
        let rows: Vec<Row> = of_scenario
            .iter()
            .filter_map(|m| {
                let (window_max_us, protection) = window(m)?;
                Some(Row {
                    measurement: m,
                    name: shown_name(&m.store, &results.stores),
                    added_p50_ms: added(m, none, p50),
                    added_p99_ms: added(m, none, p99),
                    window_max_us,
                    protection,
                })
            })
            .collect();
        if !rows.is_empty() {
            out.push(Topology { name: topology(scenario), scenario, none, rows });
        }
    }
    // Two scenarios of one topology (logout-replay and refresh: one server each) are told
    // apart by their scenario.
    let names: Vec<String> = out.iter().map(|t| t.name.clone()).collect();
    for t in &mut out {
        if names.iter().filter(|n| **n == t.name).count() > 1 {
            t.name = format!("{} ({})", t.name, t.scenario.name);
        }
    }
    out
}

fn signed_ms(ms: Option<f64>) -> String {
    ms.map(|ms| format!("{ms:+.3}")).unwrap_or_else(|| "–".into())
}

/// One row per topology and strategy; `None` for runs without replay windows (files written
/// before they were measured).
pub fn table(topologies: &[Topology]) -> Option<Table> {
    let rows = topologies
        .iter()
        .flat_map(|t| {
            t.rows.iter().map(|row| {
                vec![
                    t.name.clone(),
                    row.name.clone(),
                    signed_ms(row.added_p50_ms),
                    signed_ms(row.added_p99_ms),
                    match row.protection {
                        Protection::NotProbed => "not probed (logouts failed)".into(),
                        Protection::Unanswered { .. } => "not shown (replays unanswered)".into(),
                        _ => window_ms(row.window_max_us),
                    },
                    replays(row.measurement).leak_cell(1),
                ]
            })
        })
        .collect();
    Table::of(
        &[
            "topology",
            "strategy",
            "added check p50 ms vs none",
            "added check p99 ms vs none",
            "longest replay window ms",
            "replays accepted of answered",
        ],
        rows,
    )
}

/// `52 B per revoked token in each replica (…)`, or why there is no figure.
fn memory_cell(unit: EntryUnit, placement: Placement, measurements: &[&Measurement]) -> String {
    if unit == EntryUnit::Nothing {
        return "keeps nothing".into();
    }
    match memory::per_entry(measurements) {
        Some(m) => format!(
            "{:.0} B per {} {} (slope of the store's bytes over its entries at {} round ends, \
             {}–{} entries)",
            m.bytes_per_entry,
            unit.noun(),
            placement.said(),
            m.samples,
            m.min_entries,
            m.max_entries
        ),
        None => format!("per {}: not measured in this run", unit.noun()),
    }
}

/// One row per strategy measured in a topology: what it is, memory per entry (measured in
/// this run), what it needs, what it does when its store is down. A strategy unknown to
/// this build (a results file from a newer one) says so instead of guessing.
pub fn strategies(results: &RunResults, topologies: &[Topology]) -> Option<Table> {
    let measured = results.stores.iter().filter(|s| s.status == StoreStatus::Measured);
    let rows = measured
        .filter(|s| topologies.iter().any(|t| t.rows.iter().any(|r| r.measurement.store == s.name)))
        .map(|store| {
            let of_store: Vec<&Measurement> =
                results.measurements.iter().filter(|m| m.store == store.name).collect();
            let name = shown_name(&store.name, &results.stores);
            match Scheme::named(store.scheme_name()) {
                Some(scheme) => vec![
                    name,
                    scheme.profile.summary.to_string(),
                    memory_cell(scheme.profile.unit, Placement::of(scheme), &of_store),
                    scheme.profile.needs.to_string(),
                    scheme.profile.when_down.to_string(),
                ],
                None => {
                    let unknown = "not described by this revbench".to_string();
                    vec![name, unknown.clone(), "–".into(), unknown.clone(), unknown]
                }
            }
        })
        .collect();
    Table::of(&["strategy", "what it does", "memory", "needs", "when its store is down"], rows)
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

    /// Every scheme is described for the decision view.
    #[test]
    fn every_scheme_has_a_profile() {
        for scheme in crate::revocation::SCHEMES {
            let p = &scheme.profile;
            assert!(!p.summary.is_empty() && !p.needs.is_empty() && !p.when_down.is_empty());
        }
    }
}
