//! What `revbench run` is asked to do, once its arguments are checked: the stores, scenarios,
//! rounds and timing, and the defaults behind them.

use std::path::PathBuf;
use std::time::Duration;

use crate::results::RunResults;
use crate::scenario::Scenario;

/// Measured time per store and scenario with `--quick`.
pub const QUICK_DURATION: Duration = Duration::from_secs(1);
/// Rounds with `--quick` (interleaving needs at least two).
pub const QUICK_ROUNDS: usize = 2;
/// Rounds by default.
pub const DEFAULT_ROUNDS: usize = 3;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scenarios: Vec<Scenario>,
    /// Store URLs; see [`default_stores`].
    pub stores: Vec<String>,
    /// Base URLs of servers already running elsewhere (`--target`), measured instead of
    /// `stores`: replicas of one deployment.
    pub targets: Vec<String>,
    /// The token the `--target` servers' `/stats` requires (`serve --admin-token`).
    pub admin_token: Option<String>,
    pub rounds: usize,
    /// Overrides every scenario's duration.
    pub duration: Option<Duration>,
    pub out_dir: PathBuf,
    pub quick: bool,
    /// The `revbench` executable that serves replicas.
    pub server_exe: PathBuf,
    pub inject_latency: Option<Duration>,
    /// CPU work added to every check in the servers (`--inject-work`).
    pub inject_work: Option<Duration>,
    pub pin: bool,
    /// Draw a progress bar (on a terminal) and per-measurement lines.
    pub progress: bool,
    /// Load applied before each measurement and not recorded.
    pub warmup: Duration,
    /// A paired run: the base build's `revbench`, whose servers alternate with
    /// [`RunOptions::server_exe`]'s (the candidate's) in back-to-back pairs.
    pub baseline_exe: Option<PathBuf>,
}

/// The two sides of a paired run, each a results file of its own.
#[derive(Debug, Clone)]
pub struct PairedResults {
    pub base: RunResults,
    pub candidate: RunResults,
}

/// File names of a paired run's two sides, in the output directory.
pub const BASE_FILE: &str = "base.json";
pub const CANDIDATE_FILE: &str = "candidate.json";

/// The stores measured when none are named: every in-process one, and Redis (as a deny-list,
/// as `hybrid+redis`: local checks kept in sync through it, as `cutoff+redis`: per-user
/// cut-offs, and as `refresh+redis`: refresh-token rotation, access tokens unchecked),
/// PostgreSQL and MongoDB at `REDIS_URL` / `POSTGRES_URL` / `MONGODB_URL` or their
/// standard local ports (skipped, with the reason, when they do not answer).
/// Redis Cluster too when `REDIS_CLUSTER_URL` is set (it has no standard address), next to
/// single-node Redis.
pub fn default_stores() -> Vec<String> {
    let env_or =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_string());
    let in_process = crate::revocation::SCHEMES.iter().filter(|s| s.in_process());
    let mut stores: Vec<String> = in_process.map(|s| s.example.to_string()).collect();
    let redis = env_or("REDIS_URL", "redis://127.0.0.1:6379");
    stores.extend([
        format!("hybrid+{redis}"),
        format!("cutoff+{redis}"),
        format!("refresh+{redis}"),
        redis,
        env_or("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        env_or("MONGODB_URL", "mongodb://127.0.0.1:27017"),
    ]);
    let redis = stores.len() - 2;
    stores.splice(redis..redis, std::env::var("REDIS_CLUSTER_URL").ok());
    stores
}
