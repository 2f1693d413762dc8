//! `revbench sweep` end to end, in-process stores only (their servers fill themselves): every
//! point measured, fills recorded, and a store that cannot reach a size stopped there with the
//! reason while the sweep goes on with the others.

use std::path::PathBuf;
use std::time::Duration;

use revbench::results::sweep::SweepResults;
use revbench::scenario::Scenario;
use revbench::sweep::scheduler::{run, SweepOptions};

/// A billion entries at the bytes per entry `hashmap:` takes at 200k cannot fit on a test
/// machine: hashmap is stopped at 1G with the memory in its reason, `none:` (which keeps
/// nothing) is measured at both points, and hashmap's fill at 200k is on record.
#[tokio::test]
async fn a_store_beyond_memory_is_stopped_and_the_sweep_goes_on() {
    let out_dir = std::env::temp_dir()
        .join(format!("revbench-sweep-test-{}", revbench::revocation::Jti::random()));
    let options = SweepOptions {
        axis: "revoked=200k,1G".parse().unwrap(),
        scenario: Scenario::load("check-only").unwrap(),
        stores: vec!["none:".into(), "hashmap:".into()],
        rounds: 1,
        duration: Duration::from_millis(300),
        warmup: Duration::from_millis(100),
        out_dir: out_dir.clone(),
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        progress: false,
    };
    let results = run(options).await.expect("the sweep finishes");
    let on_disk = SweepResults::read(&out_dir.join("results.json")).unwrap();
    assert_eq!(on_disk.points.len(), 2, "both points are in the file");
    assert_eq!(on_disk.config.values, [200_000, 1_000_000_000]);

    let small = results.point(200_000).unwrap();
    let stores: Vec<&str> = small.measurements.iter().map(|m| m.store.as_str()).collect();
    assert_eq!(stores.len(), 2, "{stores:?}");
    let fill = small.fills.iter().find(|f| f.store == "hashmap").expect("hashmap's fill");
    assert_eq!((fill.entries, fill.filled_by.as_str()), (200_000, "server"));
    assert!(fill.bytes_per_entry.is_some(), "{fill:?}");
    assert!(small.fills.iter().all(|f| f.store != "none"), "none: fills nothing");

    let big = results.point(1_000_000_000).unwrap();
    let measured: Vec<&str> = big.measurements.iter().map(|m| m.store.as_str()).collect();
    assert_eq!(measured, ["none"], "the sweep went on without hashmap");
    let stopped = &results.stopped;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!((stopped[0].store.as_str(), stopped[0].at), ("hashmap", 1_000_000_000));
    assert_eq!(stopped[0].reached, Some(200_000));
    assert!(stopped[0].reason.contains("available"), "{}", stopped[0].reason);
    let _ = std::fs::remove_dir_all(out_dir);
}
