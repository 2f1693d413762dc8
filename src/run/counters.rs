//! The servers' own counters (`GET /stats`), read at the start and at the end of the measured
//! window: each server's delta over the window is what it counted for the round (requests,
//! store errors, fail-open passes, store writes, sync timeouts), never what came before.

use super::fleet::Fleet;
use super::recorder::Recorder;
use crate::harness::remote::stats;
use crate::results::{ServerCounters, ServerWindow};
use crate::server::StatsResponse;

/// One server's `/stats` at one moment.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Its instance id (its URL for a server that reports none).
    pub instance: String,
    pub counters: ServerCounters,
    /// The store's size as this server reports it.
    pub entries: Option<u64>,
    pub bytes: Option<u64>,
}

impl Reading {
    fn of(url: &str, stats: StatsResponse) -> Self {
        let c = &stats.counters;
        Reading {
            // A server too old to count its requests has no instance id either.
            counters: ServerCounters {
                requests: stats.instance.is_some().then_some(c.requests),
                store_errors: c.store_errors,
                fail_open_passes: c.fail_open_passes,
                store_writes: c.store_writes,
                refresh_writes: c.refresh_writes,
                sync_timeouts: stats.sync_timeouts,
                queue_overflows: stats.queue_overflows,
                local_checks: stats.check_answers.map(|c| c.local),
                store_checks: stats.check_answers.map(|c| c.store),
                injected_delays: stats.injected_delay.as_ref().map(|d| d.count),
                injected_delay_ns: stats.injected_delay.as_ref().map(|d| d.sum_ns),
                injected_works: stats.injected_work.map(|w| w.count),
                injected_work_ns: stats.injected_work.map(|w| w.sum_ns),
            },
            instance: stats.instance.unwrap_or_else(|| crate::redact::redact(url)),
            entries: stats.stats.entries,
            bytes: stats.stats.bytes,
        }
    }

    /// A server started during the window: it had counted nothing before it.
    pub fn fresh(&self) -> Reading {
        Reading { counters: self.counters.zeroed(), ..self.clone() }
    }
}

/// Every server's `/stats` now, read concurrently, in the fleet's order (`None` where one
/// did not answer); `store` also reads the store's size (only once a window has ended: it may
/// walk the keyspace).
pub async fn read_all(http: &reqwest::Client, fleet: &Fleet, store: bool) -> Vec<Option<Reading>> {
    let token = fleet.admin_token.as_deref();
    let reads = fleet.urls.iter().map(|url| async move {
        stats(http, url, token, store).await.ok().map(|stats| Reading::of(url, stats))
    });
    futures_util::future::join_all(reads).await
}

/// What the servers counted over the window.
#[derive(Debug, Default)]
pub struct Counters {
    /// Each server read at both ends of the window.
    pub servers: Vec<ServerWindow>,
    /// Every server was read at both ends: the totals are whole.
    pub complete: bool,
    /// The store's size at the end, as the first server reports it (they share one store).
    pub entries: Option<u64>,
    pub bytes: Option<u64>,
}

impl Counters {
    /// The servers' deltas added up.
    pub fn total(&self) -> ServerCounters {
        ServerWindow::total(&self.servers).unwrap_or_default()
    }

    /// Adds the replicas that replaced these after a restart (their windows start at their
    /// start); the store's size is theirs, read last.
    pub fn add_after_restart(&mut self, after: Counters) {
        self.servers.extend(after.servers);
        self.complete &= after.complete;
        self.entries = after.entries;
        self.bytes = after.bytes;
    }
}

/// Reads every server at the end of the window, the store's size too when `sizes`, and
/// pairs the readings with `before`. A
/// server that cannot answer is recorded as the error `"stats unavailable"`, so its zero
/// counts are never mistaken for measured ones, and the totals are marked incomplete.
pub async fn collect_counters(
    http: &reqwest::Client,
    fleet: &Fleet,
    before: &[Option<Reading>],
    recorder: &Recorder,
    sizes: bool,
) -> Counters {
    let after = read_all(http, fleet, sizes).await;
    let mut counters = Counters { complete: true, ..Counters::default() };
    for (i, reading) in after.into_iter().enumerate() {
        let Some(reading) = reading else {
            recorder.error("stats", "unavailable");
            counters.complete = false;
            continue;
        };
        if i == 0 {
            (counters.entries, counters.bytes) = (reading.entries, reading.bytes);
        }
        match before.get(i).cloned().flatten() {
            Some(start) if start.instance == reading.instance => {
                counters.servers.push(ServerWindow {
                    instance: reading.instance,
                    before: start.counters,
                    after: reading.counters,
                });
            }
            _ => counters.complete = false,
        }
    }
    counters
}
