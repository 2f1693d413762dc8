//! Getting a store to a point's size: a shared store grows by what is missing, in batches
//! through its `revoke_many`, with progress on long fills; an in-process store is filled by
//! its servers at start (see [`crate::run::measure::StoreState::FilledAtStart`]), after a
//! check that the machine has the memory for it.

use std::time::{Duration, Instant};

use super::fill_time::{beyond_fill_time, trusted_rate, PROJECT_AFTER};
use crate::results::sweep::PointFill;
use crate::revocation::{self, FillProgress, SharedStore};
use crate::server::command::PREFILL_LIFETIME;
use crate::time::now_secs;
use crate::units::{short_bytes, short_count};

/// Entries written between two looks at the clock (progress, the fill-time bound): two
/// batches, so a slow store's fill is projected after seconds, not minutes.
const CHUNK: u64 = 10_000;
/// Share of the machine's available memory an in-process fill may be planned to take.
const MEMORY_HEADROOM: f64 = 0.8;

/// A shared store's running tally across the sweep.
#[derive(Debug, Clone, Copy, Default)]
pub struct SharedTally {
    /// Prefilled entries put in so far (they live past the sweep's end).
    pub entries: u64,
    /// The bytes it reported with none of them, at the start of the sweep.
    pub bytes_empty: Option<u64>,
    /// Entries/s of the last fill large enough to project the next one from.
    pub rate: Option<f64>,
}

/// How every fill of a sweep goes.
#[derive(Debug, Clone, Copy)]
pub struct FillRules {
    /// Expiry times spread over this lifetime, after [`PREFILL_LIFETIME`].
    pub token_ttl: Duration,
    /// Print how far a long fill got.
    pub progress: bool,
    /// `--max-fill-time`: a fill projected to take longer is stopped.
    pub max_time: Duration,
}

/// Adds what `store` misses to hold `target` prefilled entries, expiring over one token
/// lifetime after [`PREFILL_LIFETIME`] (so none expires during the sweep). Refused, with the
/// projection, when the fill would take longer than `rules.max_time`: before anything is
/// added when the previous fill's rate says so, else as soon as its own rate does.
pub async fn grow_shared(
    name: &str,
    store: &SharedStore,
    tally: &mut SharedTally,
    target: u64,
    rules: FillRules,
) -> Result<PointFill, String> {
    let missing = target.saturating_sub(tally.entries);
    if let Some(reason) =
        tally.rate.and_then(|rate| beyond_fill_time(missing, Duration::ZERO, rate, rules.max_time))
    {
        return Err(format!("{reason} (its fill rate at the previous point; nothing was added)"));
    }
    let started = Instant::now();
    let mut shown = FillProgress::start();
    let from = now_secs() + PREFILL_LIFETIME.as_secs();
    let width = rules.token_ttl.as_secs().max(1);
    let mut done = 0;
    while done < missing {
        let n = CHUNK.min(missing - done);
        // Each chunk spreads over the whole lifetime, so every point's entries look alike.
        let written = revocation::fill(store, revocation::spread_entries(n, from, width)).await;
        if let Err(e) = written {
            tally.entries += done;
            return Err(format!("the fill stopped at {} entries: {e}", short_count(tally.entries)));
        }
        done += n;
        let elapsed = started.elapsed();
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        if let Some(reason) = (done >= PROJECT_AFTER && done < missing)
            .then(|| beyond_fill_time(missing - done, elapsed, rate, rules.max_time))
            .flatten()
        {
            tally.entries += done;
            return Err(format!(
                "{reason} (its rate over the first {} entries added; stopped there, after \
                 {:.0} s, holding {})",
                short_count(done),
                elapsed.as_secs_f64(),
                short_count(tally.entries)
            ));
        }
        if let Some(line) = shown.due(done, missing, tally.entries).filter(|_| rules.progress) {
            eprintln!("  filling {name}: {line}");
        }
    }
    let fill_secs = started.elapsed().as_secs_f64();
    tally.entries += missing;
    tally.rate = trusted_rate(missing, fill_secs).or(tally.rate);
    let bytes_after = store.stats().await.ok().and_then(|s| s.bytes);
    Ok(PointFill {
        store: name.to_string(),
        filled_by: "runner".to_string(),
        entries: tally.entries,
        added: missing,
        fill_secs,
        rate_per_sec: rate(missing, fill_secs),
        bytes_before: tally.bytes_empty,
        bytes_after,
        bytes_per_entry: PointFill::per_entry(tally.bytes_empty, bytes_after, tally.entries),
        bytes_source: "store".to_string(),
    })
}

/// `added / secs`, when something was added.
pub fn rate(added: u64, secs: f64) -> Option<f64> {
    (added > 0 && secs > 0.0).then(|| added as f64 / secs)
}

/// The fill of an in-process store, as its first server reported it.
pub fn server_fill(name: &str, fill: &crate::results::ServerPrefill) -> PointFill {
    PointFill {
        store: name.to_string(),
        filled_by: "server".to_string(),
        entries: fill.entries,
        added: fill.entries,
        fill_secs: fill.fill_secs,
        rate_per_sec: rate(fill.entries, fill.fill_secs),
        bytes_before: fill.rss_before_bytes,
        bytes_after: fill.rss_after_bytes,
        bytes_per_entry: fill.bytes_per_entry(),
        bytes_source: "rss".to_string(),
    }
}

/// Why `servers` servers of an in-process store cannot hold `target` entries at
/// `bytes_per_entry` (measured at a smaller point) in `available` bytes, if they cannot.
pub fn beyond_memory(
    target: u64,
    bytes_per_entry: f64,
    servers: usize,
    available: u64,
) -> Option<String> {
    let needed = bytes_per_entry * target as f64 * servers as f64;
    (needed > available as f64 * MEMORY_HEADROOM).then(|| {
        format!(
            "{} entries need about {} ({:.0} bytes/entry measured at the previous point × {servers} \
             server(s)), more than {:.0} % of the {} this machine has available",
            short_count(target),
            short_bytes(needed),
            bytes_per_entry,
            MEMORY_HEADROOM * 100.0,
            short_bytes(available as f64)
        )
    })
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory check refuses what would not fit, says why, and lets the rest through.
    #[test]
    fn memory_check() {
        let gib = 1u64 << 30;
        assert!(beyond_memory(10_000_000, 60.0, 1, 24 * gib).is_none());
        let reason = beyond_memory(1_000_000_000, 60.0, 1, 24 * gib).unwrap();
        assert!(reason.contains("1G entries") && reason.contains("55.9 GiB"), "{reason}");
        assert!(beyond_memory(100_000_000, 60.0, 6, 24 * gib).is_some(), "six copies");
    }

    fn rules(max_time: Duration) -> FillRules {
        FillRules { token_ttl: Duration::from_secs(60), progress: false, max_time }
    }

    /// A shared store grows by what is missing, and its tally follows.
    #[tokio::test]
    async fn grows_by_what_is_missing() {
        let store = revocation::open("memory:").await.unwrap();
        let mut tally = SharedTally::default();
        let rules = rules(Duration::from_secs(600));
        let first = grow_shared("m", &store, &mut tally, 1_000, rules).await.unwrap();
        assert_eq!((first.added, first.entries), (1_000, 1_000));
        assert_eq!(tally.rate, None, "a thousand entries give no rate to project from");
        let second = grow_shared("m", &store, &mut tally, 30_000, rules).await.unwrap();
        assert_eq!((second.added, second.entries), (29_000, 30_000));
        assert_eq!(store.stats().await.unwrap().entries, Some(30_000));
        assert!(tally.rate.is_some_and(|r| r > 0.0), "{tally:?}");
    }

    /// A fill whose own rate says it would overrun the bound stops after its first entries,
    /// says why, and the tally holds what was added.
    #[tokio::test]
    async fn a_fill_past_the_bound_stops_early() {
        let store = revocation::open("memory:").await.unwrap();
        let mut tally = SharedTally::default();
        let reason =
            grow_shared("m", &store, &mut tally, 1_000_000, rules(Duration::from_nanos(1)))
                .await
                .unwrap_err();
        assert!(reason.starts_with("fill at ") && reason.contains("beyond --max-fill-time 1ns"));
        assert!(reason.contains("over the first 20k entries"), "{reason}");
        assert_eq!(tally.entries, PROJECT_AFTER);
        assert_eq!(store.stats().await.unwrap().entries, Some(PROJECT_AFTER));
    }

    /// The previous fill's rate refuses a fill that would overrun before anything is added.
    #[tokio::test]
    async fn the_previous_rate_refuses_before_adding() {
        let store = revocation::open("memory:").await.unwrap();
        let mut tally = SharedTally { entries: 0, bytes_empty: None, rate: Some(10.0) };
        let reason = grow_shared("m", &store, &mut tally, 10_000, rules(Duration::from_secs(60)))
            .await
            .unwrap_err();
        assert_eq!(
            reason,
            "fill at 10/s would take 16.7 min, beyond --max-fill-time 1m (its fill rate at the \
             previous point; nothing was added)"
        );
        assert_eq!((tally.entries, store.stats().await.unwrap().entries), (0, Some(0)));
    }
}
