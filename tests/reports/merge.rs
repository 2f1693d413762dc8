//! `revbench merge`: two generators' results files become one whose percentiles are exactly
//! those of the union of their samples, whose counts and replays are sums, and which `report`
//! and `compare` read like any other.

use std::path::Path;
use std::process::Command;

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use revbench::results::{LatencySummary, RunResults};

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
    assert_eq!(code, Some(0), "{output}");
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
}
