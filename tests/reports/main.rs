//! The readers of results (`cargo test --test reports`): reports, the decision view,
//! `compare`, `export` and `merge`, on hand-made results files (`tests/fixtures/`) and pinned
//! output (`tests/snapshots/`; `UPDATE_SNAPSHOTS=1` rewrites it after a deliberate change).
//!
//! One test binary for these areas: each binary links the whole dependency tree, so a few
//! binaries build much faster than one per file.

use std::path::{Path, PathBuf};

use revbench::results::RunResults;

mod browser;
mod check;
#[path = "../common/mod.rs"]
mod common;
mod compare;
mod decision_report;
mod history;
mod instructions;
mod layout;
mod merge;
mod report;

/// A file of `tests/fixtures/`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// `tests/fixtures/small-results.json`: none and redis under logout-replay, two rounds each
/// (mongodb skipped).
fn small() -> RunResults {
    RunResults::read(&fixture("small-results.json")).unwrap()
}
