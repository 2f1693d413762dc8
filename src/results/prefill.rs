//! What a server that filled its own store before listening reports (`serve --prefill N`):
//! the in-process stores of a sweep start this way, outside the measured window.

use serde::{Deserialize, Serialize};

/// One server's fill before it listened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServerPrefill {
    /// Live entries it put in its store.
    pub entries: u64,
    /// Wall time of the batched fill (s).
    pub fill_secs: f64,
    /// Its resident memory before and after the fill (`None` where unreadable).
    pub rss_before_bytes: Option<u64>,
    pub rss_after_bytes: Option<u64>,
}

impl ServerPrefill {
    /// Resident memory the fill added, per entry (as [`PointFill::per_entry`]).
    ///
    /// [`PointFill::per_entry`]: crate::results::sweep::PointFill::per_entry
    pub fn bytes_per_entry(&self) -> Option<f64> {
        crate::results::sweep::PointFill::per_entry(
            self.rss_before_bytes,
            self.rss_after_bytes,
            self.entries,
        )
    }
}
