//! Counters the server keeps about its revocation checks, reported by `/stats`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Monotonic counters, updated with relaxed atomics (each is independent; readers only need
/// eventually consistent totals).
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    checks: AtomicU64,
    revoked_hits: AtomicU64,
    store_errors: AtomicU64,
    fail_open_passes: AtomicU64,
    invalid_revoke_tokens: AtomicU64,
    refreshes: AtomicU64,
    refresh_reuses: AtomicU64,
    store_writes: AtomicU64,
    refresh_writes: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersSnapshot {
    /// Requests received on the API routes (`/login`, `/api/me`, `/logout`, `/refresh`,
    /// `/revoke`, and unknown paths), each answered; `/stats` and `/healthz` are not counted.
    #[serde(default)]
    pub requests: u64,
    /// Revocation checks asked of the store.
    pub checks: u64,
    /// Checks that found the token revoked (the request got 401).
    pub revoked_hits: u64,
    /// Store calls that failed (checks, revokes).
    pub store_errors: u64,
    /// Requests let through without an answer from the store (`--fail-open` only).
    pub fail_open_passes: u64,
    /// Tokens sent to `/revoke` that did not verify (answered 200, logged a few a second).
    #[serde(default)]
    pub invalid_revoke_tokens: u64,
    /// Refresh tokens rotated (`POST /refresh` answered 200).
    #[serde(default)]
    pub refreshes: u64,
    /// Dead refresh tokens presented again: each revoked its family.
    #[serde(default)]
    pub refresh_reuses: u64,
    /// Keys the server wrote to (or deleted from) its store: 1 per logout or revoke (0 with
    /// `none:`, which keeps nothing), plus what the refresh-token strategy reports for each
    /// login (2), rotation (3) and reuse (≤ 1).
    #[serde(default)]
    pub store_writes: u64,
    /// The part of `store_writes` made by `POST /refresh` (rotations and reuses).
    #[serde(default)]
    pub refresh_writes: u64,
}

impl Counters {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn check(&self) {
        self.checks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn revoked_hit(&self) {
        self.revoked_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn fail_open_pass(&self) {
        self.fail_open_passes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn invalid_revoke_token(&self) {
        self.invalid_revoke_tokens.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refreshed(&self) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refresh_reused(&self) {
        self.refresh_reuses.fetch_add(1, Ordering::Relaxed);
    }

    pub fn store_writes(&self, writes: u64) {
        self.store_writes.fetch_add(writes, Ordering::Relaxed);
    }

    /// Writes made by `POST /refresh`: counted in `store_writes` too.
    pub fn refresh_writes(&self, writes: u64) {
        self.store_writes(writes);
        self.refresh_writes.fetch_add(writes, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            checks: self.checks.load(Ordering::Relaxed),
            revoked_hits: self.revoked_hits.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            fail_open_passes: self.fail_open_passes.load(Ordering::Relaxed),
            invalid_revoke_tokens: self.invalid_revoke_tokens.load(Ordering::Relaxed),
            refreshes: self.refreshes.load(Ordering::Relaxed),
            refresh_reuses: self.refresh_reuses.load(Ordering::Relaxed),
            store_writes: self.store_writes.load(Ordering::Relaxed),
            refresh_writes: self.refresh_writes.load(Ordering::Relaxed),
        }
    }
}
