//! `revbench footprint`: memory per revoked token, as each store reports it.
//!
//! The store is opened in a namespace of its own ([`ScratchStore`]), filled with `entries`
//! random ids in batched writes, measured before and after, then removed. What "bytes" means
//! depends on where the entries live:
//!
//! | store | bytes measured |
//! |---|---|
//! | in-process (`naive:`, `memory:`, `hashmap:`, `none:`) | this process's resident memory (`/proc/self/statm`), after `malloc_trim` so freed pages are not counted |
//! | `redis://` | `used_memory` from `INFO memory` (the whole server: keep other clients quiet) |
//! | `postgres://` | `pg_total_relation_size` of the table (heap + indexes + TOAST) |
//! | `hybrid+redis://`, `filter+redis://` | the copy one replica holds (its table; its filters' bit arrays), and separately Redis's `used_memory` |
//! | `mongodb://` | on-disk `storageSize + totalIndexSize` from `$collStats` `storageStats` (compressed; the uncompressed `size` is not counted) |
//!
//! Entries expire between half a token lifetime and one lifetime from now, as after a steady
//! stream of logouts, so none expires during a measurement that takes under half `token_ttl`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::interrupt::Interrupt;
use crate::revocation::{self, Jti, ScratchStore, StoreError};
use crate::time::{now_secs, UnixSeconds};

pub mod command;

/// What to measure.
#[derive(Debug, Clone)]
pub struct FootprintRequest {
    pub store_url: String,
    pub entries: u64,
    pub token_ttl: Duration,
}

/// Where the byte counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Resident memory of this process.
    ProcessRss,
    /// The bytes the store's server reports (`StoreStats::bytes`).
    StoreReported,
}

/// One footprint measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// Store name (`hashmap`, `redis`, …).
    pub store: String,
    /// The URL measured, with its private namespace (password redacted).
    pub store_url: String,
    /// Ids revoked.
    pub entries: u64,
    pub method: Method,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// `(bytes_after - bytes_before) / entries`.
    pub bytes_per_entry: f64,
    /// Entries and bytes the store itself reported after the fill, for comparison.
    pub store_entries: Option<u64>,
    pub store_bytes: Option<u64>,
    /// How long the fill took.
    pub fill_secs: f64,
    /// For a strategy with a copy per replica in front of a shared store (`hybrid+redis`,
    /// `filter+redis`): the shared store's bytes before and after, and per entry. The fields
    /// above are then the replica's copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedFootprint>,
    /// The server that answered, with its caveat if it stands in for another product.
    #[serde(default)]
    pub server: Option<String>,
}

/// The shared store's side of a footprint (see [`Footprint::shared`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedFootprint {
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub bytes_per_entry: f64,
}

/// Why a footprint could not be measured.
#[derive(Debug, Error)]
pub enum FootprintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot read this process's resident memory ({0}); in-process footprints need Linux /proc"
    )]
    Rss(String),
    #[error("{0} does not report its size in bytes, so its footprint cannot be measured")]
    NoBytes(String),
    #[error("--entries must be at least 1")]
    NoEntries,
    #[error("interrupted; the footprint's namespace was removed")]
    Interrupted,
    #[error("cannot listen for Ctrl-C: {0}")]
    Signals(String),
}

/// Fills a private store with `entries` ids and measures the bytes they take.
pub async fn measure(request: &FootprintRequest) -> Result<Footprint, FootprintError> {
    if request.entries == 0 {
        return Err(FootprintError::NoEntries);
    }
    let scratch = ScratchStore::open(&request.store_url, "footprint").await?;
    let mut interrupt = Interrupt::listen().map_err(|e| FootprintError::Signals(e.to_string()))?;
    let result = tokio::select! {
        result = measure_in(&scratch, request) => result,
        () = interrupt.recv() => Err(FootprintError::Interrupted),
    };
    let removed = scratch.remove().await;
    let footprint = result?;
    removed?;
    Ok(footprint)
}

async fn measure_in(
    scratch: &ScratchStore,
    request: &FootprintRequest,
) -> Result<Footprint, FootprintError> {
    let store = &scratch.store;
    let method =
        if store.capabilities().shared { Method::StoreReported } else { Method::ProcessRss };
    let bytes_before = bytes_now(scratch, method).await?;
    let shared_before = shared_bytes(store).await?;
    let (now, ttl, n) = (now_secs(), request.token_ttl.as_secs().max(2), request.entries);
    let entries = (0..n).map(|i| (Jti::random(), spread_exp(now, ttl, i, n)));
    let fill_secs = revocation::fill(store, entries).await?.as_secs_f64();
    let bytes_after = bytes_now(scratch, method).await?;
    let shared = match (shared_before, shared_bytes(store).await?) {
        (Some(bytes_before), Some(bytes_after)) => Some(SharedFootprint {
            bytes_before,
            bytes_after,
            bytes_per_entry: per_entry(bytes_before, bytes_after, request.entries),
        }),
        _ => None,
    };
    let stats = store.stats().await?;
    Ok(Footprint {
        store: store.name().to_string(),
        store_url: crate::redact::redact(&scratch.url),
        entries: request.entries,
        method,
        bytes_before,
        bytes_after,
        bytes_per_entry: per_entry(bytes_before, bytes_after, request.entries),
        store_entries: stats.entries,
        store_bytes: stats.bytes,
        fill_secs,
        shared,
        server: server_label(store).await,
    })
}

fn per_entry(before: u64, after: u64, entries: u64) -> f64 {
    (after as f64 - before as f64) / entries as f64
}

/// The shared store's bytes, for a strategy with a copy per replica in front of one.
async fn shared_bytes(
    store: &crate::revocation::SharedStore,
) -> Result<Option<u64>, FootprintError> {
    match store.shared_stats().await {
        Some(stats) => Ok(Some(stats?.bytes.unwrap_or(0))),
        None => Ok(None),
    }
}

/// "MongoDB 7.0.14", or the stand-in's name and what its figures must not be taken for.
async fn server_label(store: &crate::revocation::SharedStore) -> Option<String> {
    let version = store.server_version().await?;
    Some(match store.server_caveat().await {
        Some(caveat) => format!("{version} — {caveat}"),
        None => version,
    })
}

/// The `i`-th of `n` expiry times, spread evenly over `[now + ttl/2, now + ttl)`.
fn spread_exp(now: UnixSeconds, ttl: u64, i: u64, n: u64) -> UnixSeconds {
    let half = ttl / 2;
    // In u128: `half * i` overflows u64 for long lifetimes; the result is below `ttl`.
    let step = (u128::from(half) * u128::from(i) / u128::from(n.max(1))) as u64;
    now.saturating_add(ttl - half).saturating_add(step)
}

async fn bytes_now(scratch: &ScratchStore, method: Method) -> Result<u64, FootprintError> {
    match method {
        Method::ProcessRss => resident_bytes(),
        Method::StoreReported => scratch
            .store
            .stats()
            .await?
            .bytes
            .ok_or_else(|| FootprintError::NoBytes(scratch.store.name().to_string())),
    }
}

/// This process's resident memory, without freed heap pages.
pub fn resident_bytes() -> Result<u64, FootprintError> {
    crate::process::own_resident_bytes_trimmed().map_err(FootprintError::Rss)
}

impl Footprint {
    /// One line for people: `hashmap: 1000000 entries, 52.3 bytes/entry (process RSS, …)`.
    pub fn summary(&self) -> String {
        let method = match self.method {
            Method::ProcessRss => "process resident memory delta",
            Method::StoreReported => "bytes reported by the store, delta",
        };
        let server = self.server.as_ref().map(|s| format!(" [{s}]")).unwrap_or_default();
        let (copy, shared) = match &self.shared {
            Some(shared) => (
                " per replica",
                format!(
                    "\n  and {:.1} bytes/entry in the shared store (its used_memory: {} -> {} bytes)",
                    shared.bytes_per_entry, shared.bytes_before, shared.bytes_after
                ),
            ),
            None => ("", String::new()),
        };
        format!(
            "{}: {} entries, {:.1} bytes/entry{copy} ({method}: {} -> {} bytes; filled in {:.1} \
             s){server}{shared}",
            self.store,
            self.entries,
            self.bytes_per_entry,
            self.bytes_before,
            self.bytes_after,
            self.fill_secs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expiry times stay inside the second half of a token lifetime, in order.
    #[test]
    fn expiry_times_are_spread() {
        let (now, ttl, n) = (1_000, 900, 1_000_000);
        assert_eq!(spread_exp(now, ttl, 0, n), now + 450);
        let last = spread_exp(now, ttl, n - 1, n);
        assert!(last < now + ttl && last > now + 890, "{last}");
    }

    /// Zero entries is refused before anything is opened.
    #[tokio::test]
    async fn zero_entries_is_refused() {
        let request = FootprintRequest {
            store_url: "naive:".into(),
            entries: 0,
            token_ttl: Duration::from_secs(60),
        };
        assert!(matches!(measure(&request).await, Err(FootprintError::NoEntries)));
    }
}
