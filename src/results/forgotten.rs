//! After a measurement of a store kept filled across measurements (a `revoked=` sweep's
//! shared store): the entries its load revoked, removed so that the next measurement starts
//! from the prefill alone, and whether the store is back to it.

use serde::{Deserialize, Serialize};

/// What was removed after one measurement, and what the store held then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadForgotten {
    /// Logouts the harness sent (warm-up, replay probes and restart copies included), whose
    /// entries it asked the store to remove.
    pub noted: u64,
    /// Logouts whose entries were not noted (past the harness's bound, or a token it could not
    /// read): they stay in the store.
    pub missed: u64,
    /// Entries the store removed: fewer than `noted` when a logout was refused (a store cut
    /// off) or an entry had expired; `None` when the removal failed.
    pub removed: Option<u64>,
    /// Why the removal failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the removal (s).
    pub secs: f64,
    /// Entries the store counted afterwards (its shared store's, for a strategy with a copy
    /// per replica); `None` where it cannot count.
    pub entries_after: Option<u64>,
    /// The prefilled entries it should be back to.
    pub prefill_entries: Option<u64>,
}

impl LoadForgotten {
    /// `entries_after − prefill_entries`, when both are known: 0 when the store is back to
    /// the prefill.
    pub fn excess(&self) -> Option<i64> {
        Some(self.entries_after? as i64 - self.prefill_entries? as i64)
    }
}
