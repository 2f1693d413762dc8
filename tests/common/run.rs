//! `revbench run`'s options for the end-to-end tests: one short round of this build's servers
//! on loopback, no warm-up, no progress bar, results in a temp directory of their own. A test
//! overrides what it is about (`RunOptions { rounds: 2, ..short_run(…) }`).

use std::path::PathBuf;
use std::time::Duration;

use revbench::revocation::Jti;
use revbench::run::options::RunOptions;
use revbench::scenario::Scenario;

/// One round of 1 s of `scenarios` on `stores`, written under `revbench-<label>-<random>`.
pub fn short_run(label: &str, scenarios: Vec<Scenario>, stores: Vec<String>) -> RunOptions {
    RunOptions {
        scenarios,
        stores,
        targets: Vec::new(),
        rounds: 1,
        duration: Some(Duration::from_secs(1)),
        out_dir: std::env::temp_dir().join(format!("revbench-{label}-{}", Jti::random())),
        quick: true,
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        inject_latency: None,
        pin: false,
        progress: false,
        warmup: Duration::ZERO,
        baseline_exe: None,
    }
}
