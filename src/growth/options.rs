//! What `revbench growth` is asked to do, once its arguments are checked.

use std::path::PathBuf;
use std::time::Duration;

/// The shortest token lifetime that works: `exp` is a whole second, so a 1 s token may be
/// dead on arrival.
pub const MIN_TOKEN_TTL: Duration = Duration::from_secs(2);
/// Checks per second with live tokens, unless asked otherwise.
pub const DEFAULT_CHECK_RATE: f64 = 200.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct GrowthOptions {
    pub stores: Vec<String>,
    pub token_ttl: Duration,
    pub logout_rate_per_sec: f64,
    pub check_rate_per_sec: f64,
    pub duration: Duration,
    pub sample_interval: Duration,
    pub prefill: u64,
    /// Users the logouts cycle through (`--users`); `None`: one user.
    pub logout_users: Option<u64>,
    pub out_dir: PathBuf,
    /// The `revbench` executable that serves.
    pub server_exe: PathBuf,
    /// Print one line per sample.
    pub progress: bool,
}

impl GrowthOptions {
    /// `prefill + logout_rate × token_ttl`.
    pub fn expected_entries(&self) -> f64 {
        self.prefill as f64 + self.logout_rate_per_sec * self.token_ttl.as_secs() as f64
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.stores.is_empty(), "name a store with --store URL or --stores A,B");
        anyhow::ensure!(
            self.token_ttl >= MIN_TOKEN_TTL && self.token_ttl.subsec_nanos() == 0,
            "--token-ttl must be whole seconds, at least 2s (exp is a whole second)"
        );
        anyhow::ensure!(
            self.logout_rate_per_sec > 0.0 && self.logout_rate_per_sec.is_finite(),
            "--logout-rate must be above 0"
        );
        anyhow::ensure!(self.check_rate_per_sec >= 0.0, "--check-rate must not be negative");
        anyhow::ensure!(!self.sample_interval.is_zero(), "--sample must be above 0, e.g. 1s");
        anyhow::ensure!(
            self.duration >= self.sample_interval,
            "--duration must be at least one --sample interval"
        );
        Ok(())
    }
}
