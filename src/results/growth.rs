//! The results of `revbench growth`: one time series per store, in `results.json`.
//!
//! Same family as [`RunResults`](super::RunResults): the same [`SCHEMA_VERSION`](super::SCHEMA_VERSION), environment
//! block and units (`_us` microseconds, `_bytes` bytes, `_secs` seconds, rates per second);
//! `kind` is `"growth"` so a reader can tell the two files apart. The file is rewritten after
//! every store, so a failure late in a run loses nothing.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{read_versioned, write_json, ReadError, ResultsHeader, StoreRecord};

/// The value of [`GrowthResults::kind`].
pub const GROWTH_KIND: &str = "growth";

/// A whole `revbench growth` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthResults {
    #[serde(flatten)]
    pub header: ResultsHeader,
    /// Always [`GROWTH_KIND`].
    pub kind: String,
    pub config: GrowthConfig,
    /// Every store asked for, measured or skipped.
    pub stores: Vec<StoreRecord>,
    /// One series per measured store, in run order.
    pub series: Vec<GrowthSeries>,
}

/// The settings every store ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthConfig {
    /// Lifetime of every issued token (whole seconds: `exp` is a whole second).
    pub token_ttl_secs: u64,
    /// Logouts per second asked for (each one a login, then a logout of that token).
    pub logout_rate_per_sec: f64,
    /// Checks per second with live, non-revoked tokens (`GET /api/me`).
    pub check_rate_per_sec: f64,
    /// Load time per store, after any prefill.
    pub duration_secs: f64,
    pub sample_interval_secs: f64,
    /// Live entries put in the store before the load starts (`--prefill`).
    pub prefill_entries: u64,
    /// The steady state a store that forgets at `exp` should settle at:
    /// `prefill + logout_rate × token_ttl`.
    pub expected_entries: f64,
    /// Users the logouts cycled through (`--users`); absent: one user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_users: Option<u64>,
}

/// One store's time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthSeries {
    /// Short name (`memory`, `redis`, …).
    pub store: String,
    /// URL as used, with revbench's own namespace parameters.
    pub url: String,
    /// Present when `--prefill` was given.
    pub prefill: Option<PrefillReport>,
    /// Sample 0 is taken just before the load starts.
    pub samples: Vec<GrowthSample>,
    pub summary: GrowthSummary,
    /// Logouts the server acknowledged (204) over the whole run.
    pub logouts: u64,
    /// Logins or logouts that failed (any status other than 200/204, or no response).
    pub logout_errors: u64,
    /// `logouts / duration`: below the asked-for rate when the machine could not keep up.
    pub achieved_logout_rate_per_sec: f64,
    /// Things a reader should know about this series (e.g. foreign keys in a Redis database).
    pub notes: Vec<String>,
}

/// How the store was filled before the load (`--prefill N`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefillReport {
    pub entries: u64,
    /// Wall time of the batched fill.
    pub fill_secs: f64,
    /// `server` (in-process stores: the server process fills itself before listening) or
    /// `runner` (shared stores: revbench fills the backend before starting the server).
    pub filled_by: String,
    /// In-process stores: the server's resident memory before and after the fill.
    pub server_rss_before_bytes: Option<u64>,
    pub server_rss_after_bytes: Option<u64>,
    /// Shared stores: the bytes the backend reports before and after the fill.
    pub store_bytes_before: Option<u64>,
    pub store_bytes_after: Option<u64>,
}

/// One sample: everything a chart of the series needs at time `t_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthSample {
    /// Seconds since the load started (0 is just before).
    pub t_secs: f64,
    /// Physical entries the store reports (`/stats`), including expired ones not yet removed.
    pub entries: Option<u64>,
    /// Bytes the store reports (`/stats`; `None` for in-process stores).
    pub bytes: Option<u64>,
    /// `prefill + logout_rate × token_ttl`, beside every sample for the chart's reference line.
    pub expected_entries: f64,
    /// Revoked tokens whose `exp` is still ahead, counted by the load client: what a store
    /// that forgets exactly at `exp` would hold (plus the prefill).
    pub live_revoked: u64,
    /// Logouts acknowledged so far.
    pub logouts_total: u64,
    /// The server process's resident memory (`VmRSS`).
    pub rss_bytes: Option<u64>,
    /// Checks answered 200 in the interval since the previous sample.
    pub checks: u64,
    /// Check latency over that interval (µs); `None` when no check finished in it.
    pub check_p50_us: Option<u64>,
    pub check_p99_us: Option<u64>,
    /// Checks in that interval that did not get 200 (a live token must always pass).
    pub check_errors: u64,
    /// The server's store-error counter so far (`/stats`).
    pub store_errors: u64,
}

/// What the series comes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthSummary {
    /// Mean of `entries` over the samples past the first token lifetime (`t ≥ ttl`); for a
    /// store that never forgets this is not a plateau but the middle of a rising line.
    pub plateau_entries: Option<f64>,
    /// `plateau_entries / expected_entries`.
    pub plateau_ratio: Option<f64>,
    /// Smallest and largest `entries` past the first token lifetime.
    pub min_entries_after_ttl: Option<u64>,
    pub max_entries_after_ttl: Option<u64>,
    /// `entries` in the last sample.
    pub final_entries: Option<u64>,
    /// How many times `entries` went down from one sample to the next (0: never comes down).
    pub entry_drops: usize,
    /// Growth of the memory measure over the run divided by the entries at the end:
    /// `(last − first) / final_entries` of the store's bytes, or of the server's RSS for
    /// in-process stores (see `bytes_source`). With a prefill the fill is included.
    pub bytes_per_live_entry: Option<f64>,
    /// `store` (backend-reported bytes) or `rss` (server process resident memory).
    pub bytes_source: Option<String>,
    /// Check latency over the whole run (µs).
    pub check_p50_us: Option<u64>,
    pub check_p99_us: Option<u64>,
}

impl GrowthResults {
    /// Reads and checks a growth results file.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        read_versioned(path, Some(GROWTH_KIND))
    }

    /// Writes the file atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_json(path, self)
    }
}
