//! `revbench instructions`: the instructions one revocation check executes, counted with
//! valgrind's callgrind — the approach of CodSpeed and of the iai-callgrind crate. The same
//! binary gives the same count whatever else the machine does, so a shared CI runner can
//! gate a 1–2 % change, which wall time cannot show there.
//!
//! What is counted: the server's check path ([`crate::server::AppState::authenticate`]: the
//! token taken from the request's headers, verified, the store asked), `N` times and `2N`
//! times in a process of its own ([`probe`]); the difference over `N` is the count per check,
//! so start-up, the store's opening and exit cancel. Stores that run in the process, and
//! `redis://` on loopback (only this process's side: the client, not Redis itself).
//!
//! Two counts are compared without statistics: a count is exact, so the per-check change is
//! the change ([`compare`]).

use serde::{Deserialize, Serialize};

mod callgrind;
pub mod command;
pub mod probe;

pub use callgrind::total as callgrind_total;

/// Bumped on every incompatible change to [`Counts`].
pub const SCHEMA_VERSION: u32 = 1;

/// The default `--max-regression` of `instructions compare`: 1 %.
pub const DEFAULT_THRESHOLD: f64 = 0.01;

/// What `revbench instructions count` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub schema_version: u32,
    pub counted_at: String,
    /// The executable whose check path was counted.
    pub executable: String,
    /// `valgrind --version`.
    pub valgrind: String,
    /// `N`: the smaller of the two loops (the larger is `2N`).
    pub checks: u64,
    pub stores: Vec<StoreCount>,
}

/// One store's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreCount {
    /// The store's label, as in results files.
    pub store: String,
    /// Instructions of the whole process with `N` and with `2N` checks.
    pub instructions_n: u64,
    pub instructions_2n: u64,
    /// `(instructions_2n − instructions_n) / N`.
    pub per_check: f64,
}

/// What a store's count did between two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Worse,
    Better,
    NoChange,
    /// Counted in the baseline, not in the current file.
    Missing,
}

/// One store in both files.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub store: String,
    pub baseline: f64,
    pub current: Option<f64>,
    /// `current / baseline − 1`.
    pub change: Option<f64>,
    pub verdict: Verdict,
}

/// Every store of `baseline` against `current`: worse when the count per check grew by more
/// than `threshold` (a fraction), better when it fell by more than `threshold / (1 +
/// threshold)`, missing when `current` did not count it. Stores only in `current` are new and
/// not listed.
pub fn compare(baseline: &Counts, current: &Counts, threshold: f64) -> Vec<Change> {
    baseline
        .stores
        .iter()
        .map(|b| {
            let Some(c) = current.stores.iter().find(|c| c.store == b.store) else {
                return Change {
                    store: b.store.clone(),
                    baseline: b.per_check,
                    current: None,
                    change: None,
                    verdict: Verdict::Missing,
                };
            };
            let ratio = c.per_check / b.per_check;
            let verdict = if ratio > 1.0 + threshold {
                Verdict::Worse
            } else if ratio < 1.0 / (1.0 + threshold) {
                Verdict::Better
            } else {
                Verdict::NoChange
            };
            Change {
                store: b.store.clone(),
                baseline: b.per_check,
                current: Some(c.per_check),
                change: Some(ratio - 1.0),
                verdict,
            }
        })
        .collect()
}

/// 1 when a store got worse or went missing, 0 otherwise.
pub fn exit_code(changes: &[Change]) -> u8 {
    u8::from(changes.iter().any(|c| matches!(c.verdict, Verdict::Worse | Verdict::Missing)))
}
