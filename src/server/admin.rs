//! `GET /stats` is for the operator and the harness, not for clients: it answers only a
//! request carrying the admin token (`Authorization: Bearer <token>`), and never costs the
//! server more than a few atomic loads.
//!
//! - No token configured (`serve` without `--admin-token`): `/stats` does not exist (404).
//! - A token configured, none or another presented: 401.
//! - The answer holds the server's counters, kept as requests go, and the store's size as last
//!   read. The store's size may cost a keyspace walk (`SCAN` of a prefix, a `count(*)`), so a
//!   plain `/stats` never reads it; `/stats?store=1` reads it unless a reading ended after
//!   the request arrived (one reading at a time, shared by every caller that waited for it)
//!   or less than [`STORE_STATS_MAX_AGE`] ago — every time for an in-process store, whose
//!   size costs no walk. `run` asks for it only after a measured window has ended; `growth`,
//!   whose samples are that size, once per sample (1 s apart by default).
//! - A store that cannot report its size gives `stats_error`: a category, never the
//!   backend's text (which is logged, a few lines a second at most).

use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

use crate::lock::MutexExt;
use crate::revocation::{SharedStore, StoreStats};

/// Environment variable `serve --admin-token` is read from when not given (`run` and
/// `growth` pass their replicas a token this way, out of the process list).
pub const ADMIN_TOKEN_ENV: &str = "REVBENCH_ADMIN_TOKEN";

/// How long after a reading of the store's size `/stats?store=1` answers with it rather than
/// reading again: well under `growth`'s sample intervals, so every sample reads the store.
pub const STORE_STATS_MAX_AGE: Duration = Duration::from_millis(100);

/// What `stats_error` says when the store could not report its size.
pub const STATS_UNAVAILABLE: &str = "store stats unavailable";

/// The admin token, kept as its SHA-256 digest: compared in constant time, never printed.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    pub fn new(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `headers` carry this token as `Authorization: Bearer <token>`.
    pub fn presented_in(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION) else { return false };
        let Some(given) = value.as_bytes().strip_prefix(b"Bearer ") else { return false };
        let given: [u8; 32] = Sha256::digest(given).into();
        // Every byte compared whatever differs first: no timing tells how much matched.
        given.iter().zip(self.0.iter()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(****)")
    }
}

/// The store's size as last read, and when.
#[derive(Default)]
pub struct StoreStatsCache {
    last: std::sync::Mutex<Option<Reading>>,
    /// Held while the store is read: one reading at a time.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    stats: StoreStats,
    failed: bool,
}

impl StoreStatsCache {
    /// The last reading (`None` before the first), without touching the store.
    pub fn last(&self) -> Option<(StoreStats, bool)> {
        self.last.locked().as_ref().map(|r| (r.stats, r.failed))
    }

    /// A reading made at most [`STORE_STATS_MAX_AGE`] ago (`limited`; else a new one every
    /// time): the last one, or a new one. Concurrent callers wait for the one reading in
    /// progress. `on_error` gets the backend's error text (to log).
    pub async fn fresh(
        &self,
        store: &SharedStore,
        limited: bool,
        on_error: impl FnOnce(String),
    ) -> (StoreStats, bool) {
        let asked = Instant::now();
        let _reading = self.reading.lock().await;
        let recent =
            (*self.last.locked()).filter(|r| r.at >= asked || r.at.elapsed() < STORE_STATS_MAX_AGE);
        if let Some(reading) = recent.filter(|_| limited) {
            return (reading.stats, reading.failed);
        }
        let (stats, failed) = match store.stats().await {
            Ok(stats) => (stats, false),
            Err(e) => {
                on_error(e.to_string());
                (StoreStats::default(), true)
            }
        };
        *self.last.locked() = Some(Reading { at: Instant::now(), stats, failed });
        (stats, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Only `Bearer <the token>` opens `/stats`; the token never shows in `Debug`.
    #[test]
    fn tokens_match_exactly() {
        let token = AdminToken::new("s3cret-admin");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(token.presented_in(&with("Bearer s3cret-admin")));
        for wrong in ["Bearer s3cret-admin2", "Bearer s3cret", "s3cret-admin", "Basic s3cret-admin"]
        {
            assert!(!token.presented_in(&with(wrong)), "{wrong}");
        }
        assert!(!token.presented_in(&HeaderMap::new()));
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
