//! `revbench instructions`: the counted loop runs the check path, and `compare` gates counts
//! (exact, so a plain threshold). Counting under valgrind itself is measured by
//! `scripts/instructions-figures.sh` (docs/measurements/ci-gate.md), not here: a callgrind run
//! of a debug build takes seconds.

use std::path::Path;
use std::process::Command;

use revbench::instructions::{compare, exit_code, Counts, StoreCount, Verdict, SCHEMA_VERSION};

fn counts(stores: &[(&str, f64)]) -> Counts {
    Counts {
        schema_version: SCHEMA_VERSION,
        counted_at: "2026-12-05T00:00:00Z".into(),
        executable: "revbench".into(),
        valgrind: "valgrind-3.19.0".into(),
        checks: 1000,
        stores: stores
            .iter()
            .map(|&(store, per_check)| StoreCount {
                store: store.into(),
                instructions_n: 1_000_000,
                instructions_2n: 1_000_000 + (per_check * 1000.0) as u64,
                per_check,
            })
            .collect(),
    }
}

fn revbench(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// 2% more instructions per check is worse at 1%, 0.5% is no change, 2% fewer is better, and
/// a store not counted in the candidate fails; the command exits 1 on worse, 0 on the same.
#[test]
fn compare_calls_two_percent_worse_and_the_same_count_unchanged() {
    let base = counts(&[("none", 10_000.0), ("hashmap", 12_000.0)]);
    let verdicts =
        |c: &Counts| compare(&base, c, 0.01).iter().map(|c| c.verdict).collect::<Vec<_>>();
    assert_eq!(
        verdicts(&counts(&[("none", 10_200.0), ("hashmap", 12_060.0)])),
        [Verdict::Worse, Verdict::NoChange]
    );
    assert_eq!(verdicts(&counts(&[("none", 9_800.0)])), [Verdict::Better, Verdict::Missing]);
    assert_eq!(exit_code(&compare(&base, &base, 0.01)), 0);
    assert_eq!(
        exit_code(&compare(&base, &counts(&[("none", 10_000.0)]), 0.01)),
        1,
        "missing fails"
    );
    let dir = std::env::temp_dir().join(format!("revbench-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, c: &Counts| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(c).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (b, worse) = (
        write("base.json", &base),
        write("worse.json", &counts(&[("none", 10_200.0), ("hashmap", 12_000.0)])),
    );
    let (code, out) = revbench(&["instructions", "compare", &b, &worse], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("none: 10000.0 → 10200.0 instructions per check (+2.00%): WORSE"),
        "{out}"
    );
    assert!(out.contains("counts are exact: no statistics"), "{out}");
    assert_eq!(revbench(&["instructions", "compare", &b, &b], &[]).0, 0);
    let (code, out) =
        revbench(&["instructions", "compare", &b, &worse, "--max-regression", "3%"], &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = revbench(
        &[
            "instructions",
            "compare",
            &b,
            Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The loop callgrind counts runs the server's check path: live tokens pass in-process stores,
/// and a store that cannot be counted is refused with the fix.
#[test]
fn the_counted_loop_runs_the_check_path() {
    for store in ["none:", "hashmap:"] {
        let (code, out) =
            revbench(&["instructions", "loop", "--checks", "200"], &[("REVBENCH_STORE", store)]);
        assert_eq!(code, 0, "{store}: {out}");
    }
    let (code, out) = revbench(
        &["instructions", "count", "--stores", "postgres://postgres@127.0.0.1:5432/postgres"],
        &[],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot be counted") && out.contains("redis:// on loopback"), "{out}");
}
