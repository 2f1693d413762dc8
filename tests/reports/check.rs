//! `revbench check`: absolute thresholds on one results file, judged on intervals.

use std::process::Command;

use crate::{fixture, small};
use revbench::check::{check, exit_code, threshold_parse, Outcome};

fn run_check(path: &std::path::Path, thresholds: &[&str], extra: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_revbench"));
    cmd.args(["check", path.to_str().unwrap()]);
    for t in thresholds {
        cmd.args(["--threshold", t]);
    }
    let out = cmd.args(extra).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// A crossed threshold exits 1 naming it with its value and interval; `leak == 0` is judged
/// on the count observed (redis let none in, none let every copy in).
#[test]
fn a_crossed_threshold_exits_1_naming_it() {
    let path = fixture("small-results.json");
    let (code, out) = run_check(&path, &["p99 < 1ms", "leak == 0"], &["--store", "redis"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CROSSED: logout-replay / redis: p99 < 1000us — measured 1450"), "{out}");
    assert!(out.contains("met: logout-replay / redis: leak == 0%"), "{out}");
    let (code, out) = run_check(&path, &["leak == 0"], &["--store", "none"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CROSSED: logout-replay / none: leak == 0%"), "{out}");
}

/// An interval that straddles a threshold, or too few rounds to say it holds, exit 3; every
/// interval on the right side with enough rounds exits 0.
#[test]
fn straddling_is_inconclusive_and_enough_rounds_meet() {
    let results = small();
    let t = |raw: &str| threshold_parse(raw).unwrap();
    // Two rounds of p99 1400 and 1500 µs: below 2 ms, but two rounds cover 50%.
    let two = check(&results, &[t("p99 < 2ms")], Some("redis"), None);
    assert_eq!(two[0].outcome, Outcome::Inconclusive);
    assert_eq!(exit_code(&two), 3);
    let straddle = check(&results, &[t("p99 < 1450us")], Some("redis"), None);
    assert_eq!(straddle[0].outcome, Outcome::Inconclusive, "{:?}", straddle[0].value);
    let mut more = small();
    for m in &mut more.measurements {
        let template = m.rounds.clone();
        for i in 0..4 {
            let mut round = template[i % 2].clone();
            round.round = 3 + i;
            m.rounds.push(round);
        }
    }
    let six = check(&more, &[t("p99 < 2ms"), t("rps > 1000")], Some("redis"), None);
    assert!(six.iter().all(|j| j.outcome == Outcome::Met), "{six:?}");
    assert_eq!(exit_code(&six), 0);
    assert_eq!(exit_code(&check(&more, &[t("p99 < 2ms")], Some("no-such-store"), None)), 3);
}

/// A TOML file of thresholds, each scoped to its store or scenario, is judged as the same
/// thresholds on the command line would be: a crossed one exits 1 naming it, and each applies
/// only where its scope says.
#[test]
fn a_thresholds_file_scopes_each_threshold() {
    let dir = std::env::temp_dir().join(format!("revbench-thresholds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("slo.toml");
    let write = |text: &str| std::fs::write(&file, text).unwrap();
    let path = fixture("small-results.json");
    let args = ["--thresholds", file.to_str().unwrap()];
    write("[[threshold]]\nrule = 'p99 < 1ms'\nstore = 'redis'\n\n[[threshold]]\nrule = 'leak == 0'\nstore = 'redis'\nscenario = 'logout-replay'\n");
    let (code, out) = run_check(&path, &[], &args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CROSSED: logout-replay / redis: p99 < 1000us"), "{out}");
    assert!(out.contains("met: logout-replay / redis: leak == 0%"), "{out}");
    assert!(!out.contains("/ none:"), "no threshold is scoped to none: {out}");
    // Scoped to a scenario the file does not have: nothing judged, inconclusive.
    write("[[threshold]]\nrule = 'leak == 0'\nscenario = 'single-user'\n");
    assert_eq!(run_check(&path, &[], &args).0, 3);
    // With --threshold beside the file, both are judged.
    let (code, out) = run_check(&path, &["leak == 0"], &[&args[..], &["--store", "none"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CROSSED: logout-replay / none: leak == 0%"), "{out}");
    write("[[threshold]]\nrule = 'p99 < soon'\n");
    let (code, out) = run_check(&path, &[], &args);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("slo.toml: threshold 1:"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
