//! The replay window of one measurement (see `run::replay_window` for how it is probed).

use serde::{Deserialize, Serialize};

/// How long copied tokens kept working after their logout, over a set of probes (µs).
///
/// Each probe logs a copy out and replays it on a fixed schedule — every `interval_us` for
/// `probe_limit_us` — whatever the answers, so every store gets the same probe traffic. A
/// copy's window runs from its logout's answer to the answer of its last replay accepted; a
/// copy whose last answered replay was accepted was "never refused" (as far as the probe
/// could tell: for a 15-minute token, its whole remaining lifetime). Figures are over the
/// probes whose logout succeeded and some replay was answered; a never-refused probe ranks
/// above every window, so a figure that falls on one reads `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayWindow {
    /// Probes started.
    pub probes: u64,
    /// Probes whose logout was not answered 204 (nothing to replay).
    pub logouts_failed: u64,
    /// Probes whose copy was still accepted at the end.
    pub never_refused: u64,
    /// Probes none of whose replays was answered properly (5xx, timeouts): nothing shows
    /// whether their copy was refused. Absent (0) in older files, which counted them as
    /// refused at once.
    #[serde(default)]
    pub unanswered: u64,
    pub p50_us: Option<u64>,
    pub max_us: Option<u64>,
    /// Every probed copy's window, in probe order (`None`: never refused), so files from
    /// several generators merge exactly; absent in older files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows_us: Vec<Option<u64>>,
    /// How long a probe replayed.
    pub probe_limit_us: u64,
    /// Pause between two replays of one copy: the resolution of the window.
    pub interval_us: u64,
    /// The probes' replays by answer; absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replays: Option<ReplayCounts>,
    /// Requests the probes sent (logins, logouts, replays), whatever their answers: extra
    /// traffic every store of a scenario gets alike. 0 in older files.
    #[serde(default)]
    pub requests: u64,
}

/// Replays by answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayCounts {
    /// Answered 200: the copy was let in.
    pub accepted: u64,
    /// Answered 401.
    pub refused: u64,
    /// Any other status, or no answer.
    pub unanswered: u64,
}

impl ReplayCounts {
    pub fn plus(self, other: ReplayCounts) -> ReplayCounts {
        ReplayCounts {
            accepted: self.accepted + other.accepted,
            refused: self.refused + other.refused,
            unanswered: self.unanswered + other.unanswered,
        }
    }
}

impl ReplayWindow {
    /// Probes whose copy showed whether it was refused: logged out, some replay answered.
    pub fn probed(&self) -> u64 {
        self.probes.saturating_sub(self.logouts_failed + self.unanswered)
    }

    /// Share of the probed copies that were never refused; `None` when nothing was probed.
    pub fn never_refused_fraction(&self) -> Option<f64> {
        let probed = self.probed();
        (probed > 0).then(|| self.never_refused as f64 / probed as f64)
    }
}

/// The median and largest of `windows` (`None`, never refused, ranking last); `None` for both
/// without a window.
pub fn middle_and_max(windows: &[Option<u64>]) -> (Option<u64>, Option<u64>) {
    let mut sorted = windows.to_vec();
    // `None` (never refused) sorts last: it is longer than any measured window.
    sorted.sort_by_key(|w| w.unwrap_or(u64::MAX));
    let at = |q: f64| -> Option<u64> {
        let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    if sorted.is_empty() {
        (None, None)
    } else {
        (at(0.50), at(1.0))
    }
}
