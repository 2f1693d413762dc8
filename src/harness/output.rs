//! The output directory of a measuring command, its results file, and what its processes share
//! (one HTTP client, one JWT secret).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::jti::Jti;

/// Timeout of the runner's own HTTP calls (health, stats, replays): far above any answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a command writes, checked writable before any measurement starts.
#[derive(Debug, Clone)]
pub struct Output {
    pub dir: PathBuf,
    /// `dir/results.json`.
    pub results: PathBuf,
}

impl Output {
    /// `dir`, or `reports/<prefix><UTC time>/` when none was given.
    pub fn choose(dir: Option<PathBuf>, prefix: &str) -> PathBuf {
        dir.unwrap_or_else(|| {
            PathBuf::from("reports").join(format!("{prefix}{}", crate::time::now_for_path()))
        })
    }

    /// Creates `dir` (and parents).
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("cannot create {}; pass --out with a writable directory", dir.display())
        })?;
        Ok(Self { dir: dir.to_path_buf(), results: dir.join("results.json") })
    }

    /// Writes the results file with `write`, naming the fix on failure.
    pub fn write(&self, write: impl FnOnce(&Path) -> std::io::Result<()>) -> anyhow::Result<()> {
        write(&self.results).with_context(|| {
            format!("cannot write {}; pass --out with a writable directory", self.results.display())
        })
    }
}

/// The runner's HTTP client.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?)
}

/// A fresh HS256 secret (256 random bits as 64 hex digits) shared by every replica of a run,
/// so a token issued by one verifies on the others.
pub fn shared_secret() -> String {
    format!("{}{}", Jti::random(), Jti::random())
}
