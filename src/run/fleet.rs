//! The servers one measurement drives, once running: the replicas it started (and must stop),
//! or servers already running elsewhere (`--target`), which it only talks to.

use std::time::Duration;

use crate::harness::{Replica, ReplicaSpec};
use crate::results::ServerPrefill;

/// How long a server may take to fill itself per million prefilled entries (on top of the
/// normal start-up time) before it counts as not coming up.
pub const FILL_TIME_PER_MILLION: Duration = Duration::from_secs(60);

/// Running servers and their base URLs.
pub struct Fleet {
    /// The replicas this measurement started; empty for servers running elsewhere.
    pub replicas: Vec<Replica>,
    /// Every server's base URL, in replica order.
    pub urls: Vec<String>,
    /// The token their `/stats` requires.
    pub admin_token: Option<String>,
}

impl Fleet {
    /// Starts `count` replicas from `spec`; when one cannot start, those already started are
    /// stopped, so a failed start leaves no process behind.
    pub async fn start(
        http: &reqwest::Client,
        spec: &ReplicaSpec,
        count: usize,
    ) -> anyhow::Result<Fleet> {
        Self::start_filled(http, spec, count, 0).await
    }

    /// [`Fleet::start`] with every server filling its own (in-process) store with `prefill`
    /// live entries before it listens, given the time that takes.
    pub async fn start_filled(
        http: &reqwest::Client,
        spec: &ReplicaSpec,
        count: usize,
        prefill: u64,
    ) -> anyhow::Result<Fleet> {
        let mut replicas = Vec::with_capacity(count);
        for _ in 0..count {
            let started = if prefill == 0 {
                spec.start(http).await
            } else {
                let args = ["--prefill".to_string(), prefill.to_string()];
                spec.start_with_args(http, &args, fill_timeout(prefill)).await
            };
            match started {
                Ok(replica) => replicas.push(replica),
                Err(e) => {
                    stop_all(replicas).await;
                    return Err(e.into());
                }
            }
        }
        let urls = replicas.iter().map(|r| r.base_url.clone()).collect();
        Ok(Fleet { replicas, urls, admin_token: Some(spec.admin_token.clone()) })
    }

    /// Servers already running at `urls`, whose `/stats` takes `admin_token`.
    pub fn remote(urls: &[String], admin_token: Option<&str>) -> Fleet {
        Fleet {
            replicas: Vec::new(),
            urls: urls.to_vec(),
            admin_token: admin_token.map(str::to_string),
        }
    }

    /// Whether the servers' memory and CPU can be read: only for processes started here.
    pub fn owns_processes(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// CPU time the started replicas have used so far, together.
    pub fn server_cpu(&self) -> Duration {
        self.replicas.iter().filter_map(Replica::cpu_time).sum()
    }

    /// The highest peak resident size among the started replicas.
    pub fn peak_rss(&self) -> Option<u64> {
        self.replicas.iter().filter_map(Replica::peak_rss_bytes).max()
    }

    /// What the first replica said of its own fill before listening, if it filled.
    pub fn server_prefill(&self) -> Option<ServerPrefill> {
        let facts = self.replicas.first()?.listening.prefill?;
        Some(ServerPrefill {
            entries: facts.entries,
            fill_secs: facts.fill_ms as f64 / 1000.0,
            rss_before_bytes: facts.rss_before_fill,
            rss_after_bytes: facts.rss_after_fill,
        })
    }

    /// Stops the started replicas, all at once.
    pub async fn stop(self) {
        stop_all(self.replicas).await;
    }
}

/// How long a server filling itself with `entries` may take to print its address.
pub fn fill_timeout(entries: u64) -> Duration {
    Duration::from_secs(15) + FILL_TIME_PER_MILLION * (entries / 1_000_000 + 1) as u32
}

async fn stop_all(replicas: Vec<Replica>) {
    futures_util::future::join_all(replicas.into_iter().map(Replica::stop)).await;
}
