//! `revbench run` for the end-to-end tests, in process ([`short_run`]: one short round of this
//! build's servers on loopback, no warm-up, no progress bar, results in a temp directory of
//! their own; a test overrides what it is about, `RunOptions { rounds: 2, ..short_run(…) }`)
//! and as the binary ([`RunArgs`]).

use std::path::{Path, PathBuf};
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
        admin_token: None,
        rounds: 1,
        duration: Some(Duration::from_secs(1)),
        out_dir: std::env::temp_dir().join(format!("revbench-{label}-{}", Jti::random())),
        quick: true,
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        inject_latency: None,
        inject_work: None,
        pin: false,
        progress: false,
        warmup: Duration::ZERO,
        baseline_exe: None,
    }
}

/// `revbench run` arguments for the tests that run the binary: [`RunArgs::short`] (one round of
/// 1 s, no progress bar, results in a directory of the test's) with what a test is about added.
#[derive(Debug, Clone)]
pub struct RunArgs(Vec<String>);

impl RunArgs {
    /// `run --no-progress` and nothing else: for runs that must stop before measuring.
    pub fn bare() -> Self {
        Self(vec!["run".into(), "--no-progress".into()])
    }

    /// One round of 1 s (after the default warm-up), no progress bar, results in `out`; the
    /// report is written unless [`RunArgs::no_report`].
    pub fn short(out: &Path) -> Self {
        let out = out.to_str().expect("a UTF-8 temp path");
        Self::bare().with(&["--rounds", "1", "--duration", "1s", "--out", out])
    }

    /// `--stores URLS` (comma-separated).
    pub fn stores(self, urls: &str) -> Self {
        self.with(&["--stores", urls])
    }

    /// One more `--scenario NAME_OR_FILE`.
    pub fn scenario(self, scenario: &str) -> Self {
        self.with(&["--scenario", scenario])
    }

    /// Measured time per round, in place of the 1 s of [`RunArgs::short`].
    pub fn duration(mut self, duration: &str) -> Self {
        match self.0.iter().position(|arg| arg == "--duration") {
            Some(flag) => self.0[flag + 1] = duration.to_string(),
            None => self.0.extend(["--duration".to_string(), duration.to_string()]),
        }
        self
    }

    /// `--no-report`: results.json only.
    pub fn no_report(self) -> Self {
        self.with(&["--no-report"])
    }

    /// Any other arguments, appended.
    pub fn with(mut self, args: &[&str]) -> Self {
        self.0.extend(args.iter().map(|arg| arg.to_string()));
        self
    }

    /// The arguments, `run` first, for [`super::process::revbench_exit`] or a `Command`.
    pub fn args(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}
