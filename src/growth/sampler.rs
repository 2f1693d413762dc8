//! One sample of a growth series: the server's `/stats`, its resident memory, and what the
//! load client saw since the previous sample.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::traffic::Tallies;
use crate::harness::Replica;
use crate::process::resident_bytes;
use crate::results::growth::GrowthSample;

/// Takes samples of one replica under load that started at `load_started`.
pub struct Sampler<'a> {
    pub http: &'a reqwest::Client,
    pub replica: &'a Replica,
    pub tallies: &'a Tallies,
    pub load_started: Instant,
    /// Entries the store should hold at steady state (`prefill + rate × ttl`).
    pub expected_entries: f64,
    /// Entries put in before the load, counted in `live_revoked` (they outlive the run).
    pub prefill: u64,
}

impl Sampler<'_> {
    /// Reads everything now. `t_secs` is 0 for the sample taken before the load.
    pub async fn sample(&self, before_load: bool) -> GrowthSample {
        let t_secs = if before_load { 0.0 } else { self.load_started.elapsed().as_secs_f64() };
        let stats = self.replica.stats(self.http).await;
        let checks = self.tallies.take_interval_checks();
        let (p50, p99) = if checks.is_empty() {
            (None, None)
        } else {
            (Some(checks.value_at_quantile(0.50)), Some(checks.value_at_quantile(0.99)))
        };
        GrowthSample {
            t_secs,
            entries: stats.as_ref().and_then(|s| s.stats.entries),
            bytes: stats.as_ref().and_then(|s| s.stats.bytes),
            expected_entries: self.expected_entries,
            live_revoked: self.prefill + self.tallies.live_revoked(crate::time::now_millis()),
            logouts_total: self.tallies.logouts.load(Ordering::Relaxed),
            rss_bytes: resident_bytes(self.replica.pid),
            checks: checks.len(),
            check_p50_us: p50,
            check_p99_us: p99,
            check_errors: self.tallies.check_errors.swap(0, Ordering::Relaxed),
            store_errors: stats.map(|s| s.counters.store_errors).unwrap_or(0),
        }
    }
}
