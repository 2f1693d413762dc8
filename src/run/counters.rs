//! The servers' own counters (`GET /stats`), read around a measurement and summed over the
//! replicas: store errors, fail-open passes, store writes, and the store's size.

use super::recorder::Recorder;
use crate::harness::remote::stats;
use crate::server::CountersSnapshot;

/// The servers' counters, summed over the replicas.
#[derive(Default)]
pub struct Counters {
    pub store_errors: u64,
    pub fail_open_passes: u64,
    /// The store's size as the first server reports it (they share one store).
    pub entries: Option<u64>,
    pub bytes: Option<u64>,
    /// Summed over the replicas; `None` when one could not report.
    pub writes: Option<Writes>,
}

impl Counters {
    /// Adds the counts of the replicas that replaced these after a restart (their counters
    /// start at zero); the store's size is theirs, read last.
    pub fn add_after_restart(&mut self, after: Counters) {
        self.store_errors += after.store_errors;
        self.fail_open_passes += after.fail_open_passes;
        self.entries = after.entries;
        self.bytes = after.bytes;
    }
}

/// Store writes the servers counted: all, and those made by `POST /refresh`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Writes {
    pub all: u64,
    pub refresh: u64,
}

impl Writes {
    fn add(self, counters: &CountersSnapshot) -> Self {
        Writes {
            all: self.all + counters.store_writes,
            refresh: self.refresh + counters.refresh_writes,
        }
    }

    /// The writes between two readings; `None` unless both were read.
    pub fn between(before: Option<Writes>, after: Option<Writes>) -> Option<Writes> {
        let (before, after) = before.zip(after)?;
        Some(Writes {
            all: after.all.saturating_sub(before.all),
            refresh: after.refresh.saturating_sub(before.refresh),
        })
    }
}

/// The servers' store writes so far, `None` when one cannot report.
pub async fn store_writes(http: &reqwest::Client, urls: &[String]) -> Option<Writes> {
    let mut total = Writes::default();
    for url in urls {
        total = total.add(&stats(http, url).await.ok()?.counters);
    }
    Some(total)
}

/// Sums the servers' `/stats` counters. A server that cannot answer is recorded as the
/// error `"stats unavailable"`, so its zero counts are never mistaken for measured ones.
pub async fn collect_counters(
    http: &reqwest::Client,
    urls: &[String],
    recorder: &Recorder,
) -> Counters {
    let mut counters = Counters { writes: Some(Writes::default()), ..Counters::default() };
    for (i, url) in urls.iter().enumerate() {
        let Ok(stats) = stats(http, url).await else {
            recorder.error("stats", "unavailable");
            counters.writes = None;
            continue;
        };
        counters.writes = counters.writes.map(|w| w.add(&stats.counters));
        counters.store_errors += stats.counters.store_errors;
        counters.fail_open_passes += stats.counters.fail_open_passes;
        if i == 0 {
            counters.entries = stats.stats.entries;
            counters.bytes = stats.stats.bytes;
        }
    }
    counters
}
