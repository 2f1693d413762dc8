//! The report's content as plain tables and paragraphs, built once from the results; the
//! Markdown and HTML exporters only format them.

use super::criterion::{micro_point, MicroResult};
use super::plot::group_thousands;
use super::vocabulary::{baseline, is_baseline, ms_cell, replays, shown_name, Table};
use super::{narrative, renewal, replay};
use crate::results::{
    Measurement, NotApplicable, RoundResult, RunResults, Spread, StoreRecord, StoreStatus,
};
use crate::scenario::Scenario;

/// One scenario's section.
pub struct ScenarioSection {
    pub name: String,
    pub description: String,
    pub table: Table,
    /// What each store did while it was cut off (outage scenarios only).
    pub outage: Option<Table>,
    /// How long copied tokens kept working after logout (scenarios that replay).
    pub replay_window: Option<Table>,
    /// What renewing tokens cost (scenarios with refresh traffic).
    pub renewal: Option<Table>,
    /// "What this means": one bullet per store; empty when the report's summary says it.
    pub meaning: Vec<String>,
}

/// Per store: the outage's length, what was answered while the store was down, recovery.
fn outage_table(measurements: &[&Measurement], stores: &[StoreRecord]) -> Option<Table> {
    let rows: Vec<Vec<String>> = measurements
        .iter()
        .flat_map(|m| m.rounds.iter().map(move |r| (m, r)))
        .filter_map(|(m, r)| {
            let o = r.outage.as_ref()?;
            let count = |key: &str| o.statuses_during.get(key).copied().unwrap_or(0).to_string();
            Some(vec![
                shown_name(&m.store, stores),
                r.round.to_string(),
                format!("{:.1}", o.down_secs),
                count("me 503"),
                count("me 200"),
                o.replays_accepted_during.to_string(),
                o.recovery_ms.map(|ms| format!("{ms:.0}")).unwrap_or("never".into()),
            ])
        })
        .collect();
    Table::of(
        &[
            "store",
            "round",
            "down s",
            "me 503 while down",
            "me 200 while down",
            "replays accepted while down",
            "recovery ms",
        ],
        rows,
    )
}

fn mib(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0))
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

/// The environment block: every row a label and a value.
pub fn environment(results: &RunResults) -> Table {
    let env = &results.header.environment;
    let mut rows = vec![
        vec!["CPU".into(), format!("{} ({} cores)", env.cpu_model, env.cores)],
        vec![
            "memory".into(),
            env.memory_bytes
                .map(|b| format!("{:.1} GiB", b as f64 / 1073741824.0))
                .unwrap_or("unknown".into()),
        ],
        vec!["OS".into(), env.os.clone()],
        vec!["rustc".into(), env.rustc.clone()],
        vec!["revbench".into(), format!("{} (commit {})", env.revbench_version, env.git_commit)],
        vec!["placement".into(), results.config.placement.clone()],
        vec![
            "rounds".into(),
            format!("{} (interleaved: every store once per round)", results.config.rounds),
        ],
        vec![
            "run".into(),
            format!(
                "{} → {}",
                results.header.started_at,
                results.header.finished_at.as_deref().unwrap_or("unfinished")
            ),
        ],
    ];
    if let Some(us) = results.config.injected_latency_us {
        rows.push(vec![
            "injected latency".into(),
            format!("{:.3} ms before every check", us as f64 / 1000.0),
        ]);
    }
    if let Some(ns) = results.config.injected_work_ns {
        rows.push(vec![
            "injected work".into(),
            format!("{:.2} µs of CPU in every check", ns as f64 / 1000.0),
        ]);
    }
    if !env.targets.is_empty() {
        rows.push(vec![
            "targets".into(),
            format!(
                "{} (servers already running, measured with --target: their store read from \
                 /stats; their memory and CPU not measured)",
                env.targets.join(", ")
            ),
        ]);
    }
    if let Some(load) = &env.load_average {
        let end = env.load_average_at_end.as_deref().unwrap_or("not recorded");
        rows.push(vec![
            "load average (1, 5, 15 min)".into(),
            format!("{load} at the start, {end} at the end"),
        ]);
    }
    if let Some(note) = &env.note {
        rows.push(vec!["note".into(), note.clone()]);
    }
    rows.extend(not_applicable_rows(&results.not_applicable));
    for store in &results.stores {
        let value = match (store.status, &store.server_version, &store.reason) {
            (StoreStatus::Skipped, _, reason) => {
                format!("skipped: {}", reason.as_deref().unwrap_or(""))
            }
            (_, Some(version), _) => match &store.server_caveat {
                Some(caveat) => format!("{version} at {} — {caveat}", store.url),
                None => format!("{version} at {}", store.url),
            },
            _ if !env.targets.is_empty() => format!("served by the targets ({})", store.url),
            _ => format!("in-process ({})", store.url),
        };
        // Results written before redaction existed may hold a password.
        let value = crate::redact::redact(&value);
        rows.push(vec![format!("store {}", store.name), value]);
    }
    Table { headers: vec!["".into(), "".into()], rows }
}

/// One row per scenario and reason, naming every store it applies to once (files from older
/// versions list a pair once per round).
fn not_applicable_rows(pairs: &[NotApplicable]) -> Vec<Vec<String>> {
    let mut grouped: Vec<(&NotApplicable, Vec<&str>)> = Vec::new();
    for pair in pairs {
        let same = |(first, _): &&mut (&NotApplicable, Vec<&str>)| {
            first.scenario == pair.scenario && first.reason == pair.reason
        };
        match grouped.iter_mut().find(same) {
            Some((_, stores)) if stores.contains(&pair.store.as_str()) => {}
            Some((_, stores)) => stores.push(&pair.store),
            None => grouped.push((pair, vec![&pair.store])),
        }
    }
    grouped
        .into_iter()
        .map(|(first, stores)| {
            vec![
                format!("not measured under {}", first.scenario),
                format!("{} — {}", stores.join(", "), first.status()),
            ]
        })
        .collect()
}

/// The check latency's p50 ratio to `none`, marked when its interval includes "no change".
fn ratio_to_none(m: &Measurement, none: Option<&Measurement>, stores: &[StoreRecord]) -> String {
    let Some(none) = none else { return "–".into() };
    if m.store == none.store || is_baseline(&m.store, stores) {
        return "1.00×".into();
    }
    match narrative::VersusNone::of(m, none) {
        Some(v) if v.measurable() => format!("{:.2}×", v.ratio.value),
        Some(v) if v.inconclusive() => format!("{:.2}× (inconclusive)", v.ratio.value),
        Some(v) => format!("{:.2}× (no measurable difference)", v.ratio.value),
        None => "–".into(),
    }
}

/// Answers with another status than expected, over all rounds, with their median p50: they
/// are kept out of the latency columns so failing fast never looks fast.
fn error_answers(m: &Measurement) -> String {
    let count: u64 =
        m.rounds.iter().filter_map(|r| r.error_latency.as_ref()).map(|l| l.count).sum();
    if count == 0 {
        return "0".into();
    }
    let p50 = Spread::of(
        m.rounds.iter().filter_map(|r| r.error_latency.as_ref()).map(|l| l.p50_us as f64),
    );
    match p50 {
        Some(p50) => format!("{count} (p50 {} ms)", ms(p50.median)),
        None => count.to_string(),
    }
}

fn spread(s: &Spread, format: impl Fn(f64) -> String) -> String {
    if s.min == s.max {
        format(s.median)
    } else {
        format!("{} ({}–{})", format(s.median), format(s.min), format(s.max))
    }
}

/// The columns of every scenario's table. Latency is the check latency (`GET /api/me` with a
/// live token), the same request for every store.
const HEADERS: [&str; 11] = [
    "store",
    "req/s (min–max)",
    "check p50 ms",
    "check p99 ms",
    "check p99.9 ms",
    "leak (of answered replays)",
    "store errors",
    "error answers",
    "peak RSS MiB",
    "server CPU µs/request",
    "check p50 vs none",
];

/// Constant-rate scenarios also show the corrected latency and the client's own lateness.
const PACED_HEADERS: [&str; 3] = ["corrected p50 ms", "corrected p99 ms", "pacing lateness p99 ms"];

/// One section per scenario, stores in the order they were measured.
pub fn scenarios(results: &RunResults) -> Vec<ScenarioSection> {
    results.config.scenarios.iter().filter_map(|scenario| section(results, scenario)).collect()
}

/// A scenario's section; `None` when no store was measured in it.
fn section(results: &RunResults, scenario: &Scenario) -> Option<ScenarioSection> {
    let measurements: Vec<&Measurement> =
        results.measurements.iter().filter(|m| m.scenario == scenario.name).collect();
    if measurements.is_empty() {
        return None;
    }
    let stores = &results.stores;
    Some(ScenarioSection {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        table: scenario_table(&measurements, stores),
        outage: outage_table(&measurements, stores),
        replay_window: replay::table(&measurements, stores),
        renewal: renewal::table(&measurements, stores),
        meaning: narrative::bullets(&measurements, scenario.replicas, stores),
    })
}

/// One row per store that has a median, with the paced columns when any round was paced.
fn scenario_table(measurements: &[&Measurement], stores: &[StoreRecord]) -> Table {
    let none = baseline(measurements, stores);
    let is_paced =
        measurements.iter().any(|m| m.rounds.iter().any(|r| r.corrected_latency.is_some()));
    let rows = measurements
        .iter()
        .filter_map(|m| {
            let mut row = store_row(m, none, stores)?;
            if is_paced {
                row.extend(paced_cells(m));
            }
            Some(row)
        })
        .collect();
    let paced = PACED_HEADERS.iter().filter(|_| is_paced);
    Table { headers: HEADERS.iter().chain(paced).map(|h| h.to_string()).collect(), rows }
}

/// A store's cells under [`HEADERS`]; `None` without a median (nothing was measured).
fn store_row(
    m: &Measurement,
    none: Option<&Measurement>,
    stores: &[StoreRecord],
) -> Option<Vec<String>> {
    let median = m.median.as_ref()?;
    Some(vec![
        shown_name(&m.store, stores),
        spread(&median.requests_per_sec, |v| format!("{v:.0}")),
        ms_cell(median.check_p50_us),
        ms_cell(median.check_p99_us),
        ms_cell(median.check_p999_us),
        replays(m).leak_cell(0),
        m.rounds.iter().map(|r| r.store_errors).sum::<u64>().to_string(),
        error_answers(m),
        median.server_peak_rss_bytes.map(|b| mib(b.median)).unwrap_or("–".into()),
        Spread::of(m.rounds.iter().filter_map(|r| r.server_cpu_us_per_request))
            .map(|s| spread(&s, |v| format!("{v:.1}")))
            .unwrap_or("–".into()),
        ratio_to_none(m, none, stores),
    ])
}

/// A store's cells under [`PACED_HEADERS`] (medians over the rounds that have them).
fn paced_cells(m: &Measurement) -> [String; 3] {
    let median_of = |pick: fn(&RoundResult) -> Option<u64>| {
        Spread::of(m.rounds.iter().filter_map(pick).map(|v| v as f64))
            .map(|s| ms(s.median))
            .unwrap_or("–".into())
    };
    [
        median_of(|r| r.corrected_latency.as_ref().map(|l| l.p50_us)),
        median_of(|r| r.corrected_latency.as_ref().map(|l| l.p99_us)),
        median_of(|r| r.pacing_lateness.as_ref().map(|l| l.p99_us)),
    ]
}

/// Check latency by store, size and hit/miss, with the ratio to the HashSet floor.
pub fn microbenchmarks(micro: &[MicroResult]) -> Option<Table> {
    // The floor for a store benchmark is the HashSet lookup of the same size and kind.
    let floor = |size: u64, kind: &str| {
        micro
            .iter()
            .find(|m| {
                micro_point(&m.id).is_some_and(|(s, n, k)| s == "hashset" && n == size && k == kind)
            })
            .map(|m| m.median_ns)
    };
    let rows: Vec<Vec<String>> = micro
        .iter()
        .map(|m| {
            let point = micro_point(&m.id);
            let ratio = point
                .as_ref()
                .and_then(|(_, size, kind)| floor(*size, kind))
                .filter(|f| *f > 0.0)
                .map(|f| format!("{:.2}×", m.median_ns / f))
                .unwrap_or("–".into());
            let size = point.map(|(_, size, _)| group_thousands(size)).unwrap_or("–".into());
            vec![m.id.clone(), size, format_ns(m.median_ns), ratio]
        })
        .collect();
    Table::of(&["benchmark", "entries", "median", "vs HashSet floor"], rows)
}

/// `812 ns`, `1.52 µs`, `48.1 µs`, `1.20 ms`.
fn format_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}
