//! The replay window of one measurement (see `run::replay_window` for how it is probed).

use serde::{Deserialize, Serialize};

/// How long copied tokens kept working after their logout, over a set of probes (µs).
///
/// Percentiles are over the probes whose logout succeeded; a probe never refused within
/// `probe_limit_us` ranks above every refused one, so a percentile that falls on one reads
/// `None`: "never refused" (for the whole remaining lifetime of the token, as far as the
/// probe could tell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayWindow {
    /// Probes started.
    pub probes: u64,
    /// Probes whose logout was not answered 204 (nothing to replay).
    pub logouts_failed: u64,
    /// Probes whose copy was still accepted at `probe_limit_us`.
    pub never_refused: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    /// How long a probe replayed before giving up.
    pub probe_limit_us: u64,
    /// Pause between two replays of one copy: the resolution of the window.
    pub interval_us: u64,
}

impl ReplayWindow {
    /// Share of the probed copies that were never refused; `None` when nothing was probed.
    pub fn never_refused_fraction(&self) -> Option<f64> {
        let probed = self.probes - self.logouts_failed;
        (probed > 0).then(|| self.never_refused as f64 / probed as f64)
    }
}
