//! The report's decision view on a fixture built in code from `tests/fixtures/small-results.json`:
//! two topologies (one server, three replicas), replay windows, and a per-user cut-off.

use revbench::report;
use revbench::results::{Measurement, ReplayWindow, RunResults, StoreRecord};
use revbench::scenario::Scenario;

/// `never` of 8 probed copies never refused; the longest window in µs.
fn window(never: u64, max_us: Option<u64>) -> ReplayWindow {
    let windows_us: Vec<Option<u64>> =
        (0..8).map(|i| if i < 8 - never { Some(max_us.unwrap_or(0)) } else { None }).collect();
    ReplayWindow {
        probes: 8,
        logouts_failed: 0,
        never_refused: never,
        unanswered: 0,
        p50_us: if never > 4 { None } else { Some(0) },
        max_us,
        windows_us,
        probe_limit_us: 1_000_000,
        interval_us: 2_000,
        replays: None,
        requests: 8 * 502,
    }
}

const AT_ONCE: (u64, Option<u64>) = (0, Some(0));
const NEVER: (u64, Option<u64>) = (8, None);

/// A copy of `base` for `store` in `scenario`, every round with this replay window.
fn measured(
    base: &Measurement,
    store: &str,
    scenario: &str,
    (never, max): (u64, Option<u64>),
) -> Measurement {
    let mut m = base.clone();
    (m.store, m.scenario) = (store.to_string(), scenario.to_string());
    for round in &mut m.rounds {
        round.replay_window = Some(window(never, max));
    }
    m.update_median();
    m
}

/// One server and three replicas; `none:` and the cut-off leak on replicas, Redis refuses
/// at once everywhere. The cut-off holds 100 + 500·k users at its round ends, 64 B each
/// above a fixed 5000 B.
fn fixture() -> RunResults {
    let mut results = crate::small();
    results.config.scenarios.push(Scenario::load("replicas").unwrap());
    results.stores.push(StoreRecord::measured("cutoff", "cutoff:", None, None));
    // A third round like the first: 3 rounds a side are the fewest whose interval (90%)
    // may call a difference (2 a side reach 67%: "too few rounds to call").
    for m in &mut results.measurements[..2] {
        let third = revbench::results::RoundResult { round: 3, ..m.rounds[0].clone() };
        m.rounds.push(third);
        m.update_median();
    }
    let (none, redis) = (results.measurements[0].clone(), results.measurements[1].clone());
    let mut cutoff_one = measured(&none, "cutoff", "logout-replay", AT_ONCE);
    let mut cutoff_three = measured(&none, "cutoff", "replicas", NEVER);
    let rounds = cutoff_one.rounds.iter_mut().chain(cutoff_three.rounds.iter_mut());
    for (k, round) in rounds.enumerate() {
        let users = 100 + 500 * k as u64;
        (round.store_entries, round.store_bytes) = (Some(users), Some(5_000 + 64 * users));
    }
    results.measurements = vec![
        measured(&none, "none", "logout-replay", NEVER),
        measured(&redis, "redis", "logout-replay", AT_ONCE),
        cutoff_one,
        measured(&none, "none", "replicas", NEVER),
        measured(&redis, "redis", "replicas", AT_ONCE),
        cutoff_three,
    ];
    results
}

fn markdown(results: &RunResults) -> String {
    report::markdown(&report::build(results, &[]).unwrap())
}

/// The summary's bullets of one topology, on one line.
fn meaning(markdown: &str, topology: &str) -> String {
    let start = markdown.find(&format!("**{topology}**\n")).unwrap_or_else(|| panic!("{markdown}"));
    let bullets = markdown[start..].lines().skip(2).take_while(|l| l.starts_with("- "));
    bullets.map(|l| &l[2..]).collect::<Vec<_>>().join(" ")
}

/// One cost-vs-protection chart per topology, written as SVG and PNG and embedded in both
/// reports.
#[test]
fn one_chart_per_topology_in_both_reports() {
    let out = std::env::temp_dir()
        .join(format!("revbench-decision-{}", revbench::revocation::Jti::random()));
    report::write(&fixture(), &out, None).unwrap();
    for stem in ["cost-vs-protection-logout-replay", "cost-vs-protection-replicas"] {
        for ext in ["svg", "png"] {
            let file = out.join(format!("charts/{stem}.{ext}"));
            let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1_000, "{} is {len} bytes", file.display());
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("(charts/cost-vs-protection-replicas.png)"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for title in ["Cost vs protection — one server", "Cost vs protection — 3 replicas"] {
        assert!(html.contains(title), "{title} not inlined");
    }
    let svg = std::fs::read_to_string(out.join("charts/cost-vs-protection-replicas.svg")).unwrap();
    assert!(svg.contains("never refused") && svg.contains("window 0"), "{svg}");
    let _ = std::fs::remove_dir_all(out);
}

/// The narrative names who refused at once and who leaked, and the cheapest protective cost;
/// change the numbers and the words follow.
#[test]
fn narrative_follows_the_numbers() {
    let mut results = fixture();
    let md = markdown(&results);
    let three = meaning(&md, "3 replicas");
    assert!(three.contains("Refused every copy at its first replay: redis."), "{three}");
    assert!(
        three.contains(
            "Leaked within the 1.0 s probe (copies never refused, then the share of answered \
             replays under load accepted): none (24/24, 100% of 1520) and cutoff (24/24, 100% \
             of 1520)."
        ),
        "{three}"
    );
    assert!(three.contains("Cheapest of those: redis, which adds 0.21 ms"), "{three}");
    assert!(three.contains("and +0.30 ms at p99 (difference of medians)."), "{three}");
    let one = meaning(&md, "one server");
    assert!(one.contains("at its first replay: redis and cutoff."), "{one}");
    assert!(one.contains("Cheapest of those: cutoff, which shows no measurable"), "{one}");

    // Redis now leaks on replicas: named as leaking, and nothing protective is left.
    let redis =
        results.measurements.iter_mut().find(|m| m.store == "redis" && m.scenario == "replicas");
    let redis = redis.unwrap();
    for round in &mut redis.rounds {
        round.replay_window = Some(window(3, Some(2_000)));
    }
    let three = meaning(&markdown(&results), "3 replicas");
    assert!(three.contains("redis (9/24, 0% of 1450)"), "{three}");
    assert!(three.contains("No strategy refused every copy here."), "{three}");
    assert!(!three.contains("first replay"), "{three}");

    // On one server every logout of the cut-off failed: not probed, in words and in the table.
    let cutoff = results.measurements.iter_mut().find(|m| m.store == "cutoff").unwrap();
    for round in &mut cutoff.rounds {
        round.replay_window = Some(ReplayWindow { logouts_failed: 8, ..window(0, None) });
    }
    let md = markdown(&results);
    assert!(meaning(&md, "one server").contains("Not probed (every logout failed): cutoff."));
    assert!(md.contains("| one server | cutoff | +0.000 | +0.000 | not probed (logouts failed) |"));

    // Redis on one server as fast as none, round for round: its interval includes 1.0.
    let none_rounds = results.measurements[0].rounds.clone();
    let redis = &mut results.measurements[1];
    for (round, none) in redis.rounds.iter_mut().zip(none_rounds.iter().rev()) {
        round.latency_by_request = none.latency_by_request.clone();
    }
    redis.update_median();
    results.measurements.retain(|m| m.store != "cutoff");
    let one = meaning(&markdown(&results), "one server");
    assert!(
        one.contains("Cheapest of those: redis, which shows no measurable difference"),
        "{one}"
    );
}

/// The strategies table shows memory per user for a cut-off, per revoked token where a
/// deny-list reports bytes, and says so where this run did not measure it.
#[test]
fn memory_per_user_for_cutoff() {
    let md = markdown(&fixture());
    let row = md.lines().find(|l| l.starts_with("| cutoff | per-user cut-off")).expect(&md);
    assert!(row.contains("64 B per user who logged out"), "{row}");
    assert!(row.contains("| nothing (in-process) |"), "{row}");
    let redis = md.lines().find(|l| l.starts_with("| redis | deny-list in Redis")).expect(&md);
    assert!(redis.contains("per revoked token: not measured in this run"), "{redis}");
    assert!(redis.contains("| Redis | fails closed"), "{redis}");
}

/// With 2 rounds a side the interval covers 67%: a difference is never stated as a fact, nor
/// its absence: the words are "inconclusive", with the fix.
#[test]
fn two_rounds_are_too_few_to_call_a_difference() {
    let mut results = fixture();
    for m in &mut results.measurements {
        m.rounds.truncate(2);
        m.update_median();
    }
    let three = meaning(&markdown(&results), "3 replicas");
    assert!(
        three.contains(
            "redis, which is inconclusive against none at p50 (1.54× none, interval 1.47–1.61× \
             at 67%, too few rounds to call: measure with --rounds 3 or more)"
        ),
        "{three}"
    );
}

/// Two scenarios of the same topology are told apart by their scenario's name.
#[test]
fn one_topology_twice_is_named_by_scenario() {
    let mut results = fixture();
    results.config.scenarios.push(Scenario::load("refresh").unwrap());
    let again: Vec<Measurement> = results
        .measurements
        .iter()
        .filter(|m| m.scenario == "logout-replay")
        .map(|m| Measurement { scenario: "refresh".to_string(), ..m.clone() })
        .collect();
    results.measurements.extend(again);
    let md = markdown(&results);
    assert!(meaning(&md, "one server (logout-replay)").contains("first replay"), "{md}");
    assert!(meaning(&md, "one server (refresh)").contains("first replay"), "{md}");
    assert!(!md.contains("**one server**\n"), "{md}");
    assert!(md.contains("**3 replicas**\n"), "{md}");
}

/// In the decision fixture's report the cost-vs-protection charts follow the summary and
/// precede the decision table.
#[test]
fn the_decision_chart_follows_the_summary() {
    let md = markdown(&fixture());
    let at = |needle: &str| md.find(needle).unwrap_or_else(|| panic!("no {needle}: {md}"));
    let (summary, chart, decision) =
        (at("## Summary"), at("## Cost vs protection"), at("## Decision view"));
    assert!(summary < chart && chart < decision, "{md}");
    assert!(at("![Cost vs protection") < decision, "{md}");
}
