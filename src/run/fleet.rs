//! The servers one measurement drives, once running: the replicas it started (and must stop),
//! or servers already running elsewhere (`--target`), which it only talks to.

use std::time::Duration;

use crate::harness::{Replica, ReplicaSpec};

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
        let mut replicas = Vec::with_capacity(count);
        for _ in 0..count {
            match spec.start(http).await {
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

    /// Stops the started replicas, all at once.
    pub async fn stop(self) {
        stop_all(self.replicas).await;
    }
}

async fn stop_all(replicas: Vec<Replica>) {
    futures_util::future::join_all(replicas.into_iter().map(Replica::stop)).await;
}
