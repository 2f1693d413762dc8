//! `revbench merge`: generators' results files become one whose percentiles are exactly those
//! of the union of their samples, whose counts and replays are sums, whose server counts take
//! each server once, and which `report` and `compare` read like any other; a run split into
//! segments and merged equals the whole on every additive field.

use std::path::Path;
use std::process::Command;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use revbench::results::{
    LatencySummary, ReplayCounts, ReplayWindow, RoundResult, RunResults, ServerCounters,
    ServerWindow,
};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/small-results.json");

/// Samples of one generator's round: a log-normal-ish spread from 50 µs to 50 ms.
fn samples(rng: &mut StdRng, count: usize, slow: bool) -> Vec<u64> {
    (0..count)
        .map(|_| {
            let base: f64 = rng.random_range(3.9..7.0);
            let shift = if slow { 1.5 } else { 0.0 };
            (base + shift).exp() as u64 + rng.random_range(0..50)
        })
        .collect()
}

fn histogram(values: &[u64]) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).unwrap();
    for &v in values {
        h.record(v).unwrap();
    }
    h
}

/// The fixture with every round's latency replaced by `samples`' histogram and its replays
/// set; returns the file and, per round in order, the samples used.
fn generator_file(dir: &Path, name: &str, seed: u64, slow: bool) -> (String, Vec<Vec<u64>>) {
    let mut results = RunResults::read(Path::new(FIXTURE)).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut used = Vec::new();
    for measurement in &mut results.measurements {
        for round in &mut measurement.rounds {
            let count = rng.random_range(500..3000);
            let values = samples(&mut rng, count, slow);
            let summary = LatencySummary::from_histogram(&histogram(&values));
            round.requests = values.len() as u64;
            round.latency = summary.clone();
            round.latency_by_request = [("me".to_string(), summary)].into();
            round.corrected_latency = None;
            round.replays_attempted = 10 + seed;
            round.replays_accepted = seed % 3;
            used.push(values);
        }
        measurement.update_median();
    }
    let path = dir.join(name);
    results.write(&path).unwrap();
    (path.to_string_lossy().into_owned(), used)
}

fn revbench(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_revbench")).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// Merged percentiles equal the union's exactly, counts and replays are summed, the leak rate
/// is recomputed from the sums, and `report` and `compare` read the merged file.
#[test]
fn merge_is_exact() {
    let dir = std::env::temp_dir().join(format!("revbench-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, a_samples) = generator_file(&dir, "a.json", 1, false);
    let (b, b_samples) = generator_file(&dir, "b.json", 2, true);
    let merged_path = dir.join("merged.json");
    let (code, output) = revbench(&["merge", &a, &b, "-o", merged_path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{output}");
    let merged = RunResults::read(&merged_path).unwrap();

    let rounds = merged.measurements.iter().flat_map(|m| &m.rounds);
    for (i, round) in rounds.enumerate() {
        let union: Vec<u64> = a_samples[i].iter().chain(&b_samples[i]).copied().collect();
        let expected = LatencySummary::from_histogram(&histogram(&union));
        let got = &round.latency;
        assert_eq!(got.count, union.len() as u64, "round {i}");
        assert_eq!(
            (got.p50_us, got.p90_us, got.p99_us, got.p999_us, got.max_us),
            (expected.p50_us, expected.p90_us, expected.p99_us, expected.p999_us, expected.max_us),
            "round {i}"
        );
        assert_eq!(got.spectrum, expected.spectrum, "round {i}");
        assert_eq!(round.requests, union.len() as u64);
        assert_eq!((round.replays_attempted, round.replays_accepted), (23, 3));
        assert_eq!(round.leak_rate, Some(3.0 / 23.0));
        assert_eq!(round.latency_by_request["me"].count, union.len() as u64);
    }
    let median = merged.measurements[0].median.as_ref().unwrap();
    assert!(median.p50_us.median > 0.0);

    let report_dir = dir.join("report");
    let (code, output) =
        revbench(&["report", merged_path.to_str().unwrap(), "--out", report_dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{output}");
    assert!(report_dir.join("report.md").exists());
    let merged_str = merged_path.to_str().unwrap();
    let (code, output) = revbench(&["compare", merged_str, merged_str]);
    assert_eq!(code, Some(3), "2 rounds a side: inconclusive: {output}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Files without histograms (older versions) and a single file are refused with one line
/// naming the fix, exit 2.
#[test]
fn unmergeable_files_are_refused() {
    let (code, output) = revbench(&["merge", FIXTURE, FIXTURE, "-o", "/tmp/never-written.json"]);
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("keeps no latency histogram") && output.contains("re-run"), "{output}");
    assert_eq!(output.trim_end().lines().count(), 1, "{output}");
    let (code, _) = revbench(&["merge", FIXTURE, "-o", "/tmp/never-written.json"]);
    assert_eq!(code, Some(2));
    // Server counts without the per-server readings that let one server be counted once.
    let mut older = RunResults::read(Path::new(FIXTURE)).unwrap();
    for round in older.measurements.iter_mut().flat_map(|m| &mut m.rounds) {
        round.store_writes = Some(12);
        round.corrected_latency = None;
        let summary = LatencySummary::from_histogram(&histogram(&[100, 200]));
        round.latency = summary.clone();
        round.latency_by_request = [("me".to_string(), summary)].into();
    }
    let error = revbench::merge::merge(&[older.clone(), older]).unwrap_err();
    assert!(error.to_string().contains("per-server counters"), "{error}");
}

/// One request of a generated run.
#[derive(Clone)]
enum Event {
    /// A request of the load: its kind, status (`None`: no answer) and latency.
    Request { kind: &'static str, status: Option<u16>, micros: u64 },
    /// A replay: `Some(200)` accepted, `Some(401)` refused, else unanswered.
    Replay { status: Option<u16>, micros: u64 },
    /// A probed copy's window (`None`: never refused), with its requests.
    Probe { window: Option<u64>, requests: u64 },
}

fn random_event(rng: &mut StdRng) -> Event {
    let micros = rng.random_range(20..50_000);
    match rng.random_range(0..100) {
        0..70 => {
            let kind = ["me", "login", "logout"][rng.random_range(0..3)];
            let expected = if kind == "logout" { 204 } else { 200 };
            let status = match rng.random_range(0..50) {
                0 => None,
                1 => Some(503),
                _ => Some(expected),
            };
            Event::Request { kind, status, micros }
        }
        70..95 => {
            let status = [Some(200), Some(401), Some(401), Some(503), None][rng.random_range(0..5)];
            Event::Replay { status, micros }
        }
        _ => {
            let window = rng.random_bool(0.7).then(|| rng.random_range(0..5_000));
            Event::Probe { window, requests: rng.random_range(2..300) }
        }
    }
}

fn summary(values: &[u64]) -> Option<LatencySummary> {
    (!values.is_empty()).then(|| LatencySummary::from_histogram(&histogram(values)))
}

/// A round built from `events` and the servers' readings, as a measurement would record it
/// (a template round supplies the fields no event sets).
fn round_of(template: &RoundResult, events: &[Event], servers: Vec<ServerWindow>) -> RoundResult {
    let mut r = template.clone();
    let (mut expected, mut unexpected, mut replays) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_kind: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let (mut statuses, mut errors) = (BTreeMap::new(), BTreeMap::new());
    let mut counts = ReplayCounts::default();
    let (mut windows, mut probe_requests) = (Vec::new(), 0);
    for event in events {
        match event {
            Event::Request { kind, status: Some(status), micros } => {
                *statuses.entry(format!("{kind} {status}")).or_insert(0) += 1;
                if *status == if *kind == "logout" { 204 } else { 200 } {
                    expected.push(*micros);
                    by_kind.entry(kind.to_string()).or_default().push(*micros);
                } else {
                    unexpected.push(*micros);
                }
            }
            Event::Request { kind, status: None, .. } => {
                *errors.entry(format!("{kind} timeout")).or_insert(0) += 1;
            }
            Event::Replay { status, micros } => {
                replays.push(*micros);
                if let Some(status) = status {
                    *statuses.entry(format!("replay {status}")).or_insert(0) += 1;
                }
                match status {
                    Some(200) => counts.accepted += 1,
                    Some(401) => counts.refused += 1,
                    _ => counts.unanswered += 1,
                }
            }
            Event::Probe { window, requests } => {
                windows.push(*window);
                probe_requests += requests;
            }
        }
    }
    r.requests = statuses.values().sum();
    r.requests_per_sec = r.requests as f64 / r.elapsed_secs;
    r.latency = summary(&expected).unwrap_or_else(|| summary(&[1]).unwrap());
    r.latency_by_request = by_kind.iter().map(|(k, v)| (k.clone(), summary(v).unwrap())).collect();
    (r.error_latency, r.replay_latency) = (summary(&unexpected), summary(&replays));
    (r.corrected_latency, r.pacing_lateness) = (None, None);
    (r.statuses, r.errors) = (statuses, errors);
    r.replays_attempted = counts.accepted + counts.refused + counts.unanswered;
    r.replays_accepted = counts.accepted;
    (r.replays_refused, r.replays_unanswered) = (Some(counts.refused), Some(counts.unanswered));
    r.leak_rate = RoundResult::leak_of(counts.accepted, counts.accepted + counts.refused);
    let (p50_us, max_us) = revbench::results::middle_and_max(&windows);
    r.replay_window = Some(ReplayWindow {
        probes: windows.len() as u64,
        logouts_failed: 0,
        never_refused: windows.iter().filter(|w| w.is_none()).count() as u64,
        unanswered: 0,
        p50_us,
        max_us,
        windows_us: windows,
        probe_limit_us: 1_000_000,
        interval_us: 2_000,
        replays: Some(counts),
        requests: probe_requests,
    });
    let total = ServerWindow::total(&servers).unwrap();
    (r.store_errors, r.fail_open_passes) = (total.store_errors, total.fail_open_passes);
    (r.server_requests, r.sync_timeouts) = (total.requests, total.sync_timeouts);
    r.store_writes = Some(total.store_writes);
    r.servers = servers;
    (r.outage, r.refresh_requests_per_sec) = (None, None);
    r
}

/// A server's counters at moment `t` of a run: they only grow.
fn counters_at(rng_seed: u64, t: u64) -> ServerCounters {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let mut c = ServerCounters { requests: Some(0), sync_timeouts: Some(0), ..Default::default() };
    for _ in 0..t {
        c.requests = c.requests.map(|n| n + rng.random_range(0..500));
        c.store_errors += rng.random_range(0..3);
        c.fail_open_passes += rng.random_range(0..2);
        c.store_writes += rng.random_range(0..40);
        c.refresh_writes += rng.random_range(0..4);
        c.sync_timeouts = c.sync_timeouts.map(|n| n + rng.random_range(0..2));
    }
    c
}

/// The summary's figures without its encoded histogram (encodings of one histogram may
/// differ; the figures may not).
fn figures(l: &LatencySummary) -> LatencySummary {
    LatencySummary { histogram: None, ..l.clone() }
}

/// A run split into segments and merged equals the whole on every additive field: counts,
/// replays by answer, every latency histogram, the probes' windows, and the servers' counts —
/// whether the generators drove one deployment (`--target`: each server read by every
/// generator over windows that differ a little, taken once over their union) or servers of
/// their own.
#[test]
fn segments_merged_equal_the_whole() {
    let template = RunResults::read(Path::new(FIXTURE)).unwrap().measurements[1].rounds[0].clone();
    for seed in 0..60 {
        let mut rng = StdRng::seed_from_u64(seed);
        let generators = rng.random_range(2..5);
        let shared = rng.random_bool(0.5);
        let events: Vec<Event> =
            (0..rng.random_range(50..600)).map(|_| random_event(&mut rng)).collect();
        let owner: Vec<usize> = events.iter().map(|_| rng.random_range(0..generators)).collect();
        let mut segments = Vec::new();
        let mut whole_servers = Vec::new();
        // When generator g read the shared servers: about t=10 to about t=50.
        let start = |g: usize| 10 + (g as u64 * 3 + seed) % 4;
        let end = |g: usize| 50 - (g as u64 * 5 + seed) % 3;
        for g in 0..generators {
            let mine: Vec<Event> = events
                .iter()
                .zip(&owner)
                .filter(|(_, o)| **o == g)
                .map(|(e, _)| e.clone())
                .collect();
            let servers: Vec<ServerWindow> = if shared {
                // Two servers, each read by every generator.
                (0..2)
                    .map(|s| ServerWindow {
                        instance: format!("shared-{s}"),
                        before: counters_at(100 + s, start(g)),
                        after: counters_at(100 + s, end(g)),
                    })
                    .collect()
            } else {
                let s = 1_000 + g as u64;
                vec![ServerWindow {
                    instance: format!("own-{g}"),
                    before: counters_at(s, 0),
                    after: counters_at(s, 40),
                }]
            };
            if !shared {
                whole_servers.extend(servers.clone());
            }
            segments.push(round_of(&template, &mine, servers));
        }
        if shared {
            // The whole run's window: from the first generator's start to the last one's end.
            let (first, last) = ((0..generators).map(start).min(), (0..generators).map(end).max());
            whole_servers = (0..2)
                .map(|s| ServerWindow {
                    instance: format!("shared-{s}"),
                    before: counters_at(100 + s, first.unwrap()),
                    after: counters_at(100 + s, last.unwrap()),
                })
                .collect();
        }
        let whole = round_of(&template, &events, whole_servers);
        let rounds: Vec<&RoundResult> = segments.iter().collect();
        let mut files: Vec<RunResults> = Vec::new();
        for round in rounds {
            let mut file = RunResults::read(Path::new(FIXTURE)).unwrap();
            file.measurements.truncate(1);
            file.measurements[0].rounds = vec![round.clone()];
            files.push(file);
        }
        let merged = revbench::merge::merge(&files).unwrap();
        let m = &merged.measurements[0].rounds[0];
        let what = format!("seed {seed}, {generators} generators, shared servers: {shared}");
        assert_eq!(m.requests, whole.requests, "{what}");
        assert_eq!((&m.statuses, &m.errors), (&whole.statuses, &whole.errors), "{what}");
        let replays = |r: &RoundResult| {
            (r.replays_attempted, r.replays_accepted, r.replays_refused, r.replays_unanswered)
        };
        assert_eq!(replays(m), replays(&whole), "{what}");
        assert_eq!(m.leak_rate, whole.leak_rate, "{what}");
        assert_eq!(figures(&m.latency), figures(&whole.latency), "{what}");
        for (kind, latency) in &whole.latency_by_request {
            assert_eq!(figures(&m.latency_by_request[kind]), figures(latency), "{what} {kind}");
        }
        let opt = |l: &Option<LatencySummary>| l.as_ref().map(figures);
        assert_eq!(opt(&m.error_latency), opt(&whole.error_latency), "{what}");
        assert_eq!(opt(&m.replay_latency), opt(&whole.replay_latency), "{what}");
        let (mw, ww) = (m.replay_window.as_ref().unwrap(), whole.replay_window.as_ref().unwrap());
        let sorted = |w: &ReplayWindow| {
            let mut v = w.windows_us.clone();
            v.sort();
            v
        };
        assert_eq!(sorted(mw), sorted(ww), "{what}");
        let probe_figures = |w: &ReplayWindow| {
            (w.probes, w.never_refused, w.p50_us, w.max_us, w.requests, w.replays)
        };
        assert_eq!(probe_figures(mw), probe_figures(ww), "{what}");
        let server = |r: &RoundResult| {
            (r.store_errors, r.fail_open_passes, r.server_requests, r.sync_timeouts, r.store_writes)
        };
        assert_eq!(server(m), server(&whole), "{what}");
        assert_eq!(m.servers.len(), whole.servers.len(), "{what}: each server once");
    }
}
