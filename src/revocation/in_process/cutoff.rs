//! `cutoff:` — a per-user cut-off ("log out everywhere"), in-process.
//!
//! Logout records, for the token's user, `not_before` = the second after the logout; every
//! token of that user whose `iat` is earlier is refused from then on. One entry per user who
//! logged out, however many tokens they hold; the check is a lookup by `sub`.
//!
//! - **Whole seconds.** `iat` is a whole second, so the cut-off refuses every token issued up
//!   to and including the second of the logout; a token issued to the same user later in that
//!   second gets `iat = not_before` ([`RevocationStore::issue_at`]), so logging in again right
//!   after a logout works.
//! - **Expiry.** An entry matters until every token it refuses has expired: `not_before` plus
//!   one token lifetime (taken from the logged-out token, `exp − iat`). Checks ignore older
//!   entries; a sweep every `SWEEP_EVERY` logouts removes them.
//!
//! # Contract, where it differs from [`RevocationStore`]'s
//!
//! Jti revocation does not apply: `revoke(jti, …)` records nothing and `is_revoked(jti, exp)` is
//! always false (`remembers: false`, the trait's defaults). The strategy acts through `log_out`, `is_refused` and
//! `issue_at`; `tests/stores/cutoff.rs` holds its own checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use async_trait::async_trait;

use crate::lock::RwLockExt;
use crate::revocation::{
    fresh, profile, Capabilities, EntryUnit, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats, TokenFacts,
};
use crate::time::{now_secs, UnixSeconds};

/// Lock stripes: checks on two cores rarely meet on one lock.
const SHARDS: usize = 16;
/// Logouts between two sweeps of dead entries.
const SWEEP_EVERY: u64 = 1024;

/// One user's cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    /// Tokens with `iat` before this are refused.
    pub not_before: UnixSeconds,
    /// From this second on, no token the entry refuses is alive: it can go.
    pub keep_until: UnixSeconds,
}

impl Cutoff {
    /// The cut-off a logout of `token` at `now` records: past the logout's second and past the
    /// token's own `iat` (which [`RevocationStore::issue_at`] may have put ahead of the clock
    /// when the user logged in again right after an earlier logout).
    pub fn at_logout(token: &TokenFacts<'_>, now: UnixSeconds) -> Self {
        let not_before = now.max(token.iat).saturating_add(1);
        let keep_until = not_before.saturating_add(token.exp.saturating_sub(token.iat));
        Self { not_before, keep_until }
    }

    /// Whether it refuses `token` at `now`.
    fn refuses(&self, token: &TokenFacts<'_>, now: UnixSeconds) -> bool {
        now < self.keep_until && token.iat < self.not_before
    }

    /// The later of two cut-offs for one user.
    fn merge(self, other: Self) -> Self {
        Self {
            not_before: self.not_before.max(other.not_before),
            keep_until: self.keep_until.max(other.keep_until),
        }
    }
}

/// One lock stripe: user → cut-off.
type Shard = RwLock<HashMap<Box<str>, Cutoff>>;

/// `sub` → cut-off, striped by a hash of `sub`.
pub struct CutoffStore {
    shards: Box<[Shard]>,
    /// Picks the shard; random per store, so names cannot be chosen to pile into one.
    striping: std::hash::RandomState,
    logouts: AtomicU64,
}

impl Default for CutoffStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            striping: std::hash::RandomState::new(),
            logouts: AtomicU64::new(0),
        }
    }
}

impl CutoffStore {
    fn shard(&self, sub: &str) -> &Shard {
        use std::hash::BuildHasher;
        &self.shards[self.striping.hash_one(sub) as usize % SHARDS]
    }

    /// The live cut-off of `sub` at `now`, if any.
    fn get(&self, sub: &str, now: UnixSeconds) -> Option<Cutoff> {
        let shard = self.shard(sub).read_locked();
        shard.get(sub).copied().filter(|c| now < c.keep_until)
    }

    /// Records `cutoff` for `sub`, keeping the later one when there is one already.
    fn set(&self, sub: &str, cutoff: Cutoff) {
        let mut shard = self.shard(sub).write_locked();
        let merged = shard.get(sub).map_or(cutoff, |old| old.merge(cutoff));
        shard.insert(sub.into(), merged);
        drop(shard);
        if self.logouts.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(now_secs());
        }
    }

    /// Removes entries that refuse no live token any more; returns how many.
    fn sweep(&self, now: UnixSeconds) -> usize {
        let mut removed = 0;
        for lock in self.shards.iter() {
            let mut shard = lock.write_locked();
            let before = shard.len();
            shard.retain(|_, c| now < c.keep_until);
            removed += before - shard.len();
        }
        removed
    }
}

/// The `cutoff:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "cutoff",
    url_schemes: &["cutoff"],
    example: "cutoff:",
    namespacing: Namespacing::InProcess,
    open: fresh::<CutoffStore>,
    profile: Profile {
        summary:
            "per-user cut-off in process: logout refuses every token of the user issued so far",
        needs: profile::IN_PROCESS,
        when_down: profile::NO_STORE_TO_LOSE,
        unit: EntryUnit::LoggedOutUser,
    },
};

#[async_trait]
impl RevocationStore for CutoffStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: false, expires: true, shared: false }
    }

    async fn is_refused(&self, token: TokenFacts<'_>) -> Result<bool, StoreError> {
        let now = now_secs();
        Ok(self.get(token.sub, now).is_some_and(|c| c.refuses(&token, now)))
    }

    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        self.set(token.sub, Cutoff::at_logout(&token, now_secs()));
        Ok(())
    }

    async fn issue_at(&self, sub: &str, now: UnixSeconds) -> Result<UnixSeconds, StoreError> {
        Ok(self.get(sub, now).map_or(now, |c| c.not_before.max(now)))
    }

    /// Users with a cut-off (live or not swept yet), and the heap they hold: table slots
    /// (key pointer, length and the cut-off) plus the user names.
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let (mut entries, mut bytes) = (0u64, 0u64);
        for lock in self.shards.iter() {
            let shard = lock.read_locked();
            entries += shard.len() as u64;
            let slot = std::mem::size_of::<(Box<str>, Cutoff)>() + 1;
            bytes += (shard.capacity() * slot) as u64;
            bytes += shard.keys().map(|k| k.len() as u64).sum::<u64>();
        }
        Ok(StoreStats { entries: Some(entries), bytes: Some(bytes) })
    }

    async fn clear(&self) -> Result<(), StoreError> {
        for lock in self.shards.iter() {
            lock.write_locked().clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::Jti;

    fn token(sub: &str, iat: UnixSeconds) -> TokenFacts<'_> {
        TokenFacts { jti: Jti::random(), sub, iat, exp: iat + 60 }
    }

    /// A cut-off refuses the user's tokens issued up to its logout second, not later ones,
    /// not other users', and not after the last refused token has expired.
    #[test]
    fn refuses_earlier_tokens_of_that_user_only() {
        let store = CutoffStore::default();
        let now = 1_000;
        store.set("alice", Cutoff::at_logout(&token("alice", now - 10), now));
        let cut = store.get("alice", now).unwrap();
        assert_eq!(cut, Cutoff { not_before: now + 1, keep_until: now + 61 });
        assert!(cut.refuses(&token("alice", now), now));
        assert!(cut.refuses(&token("alice", now - 100), now));
        assert!(!cut.refuses(&token("alice", now + 1), now));
        assert!(store.get("bob", now).is_none());
        assert!(store.get("alice", now + 61).is_none());
    }

    /// A token stamped ahead by `issue_at` and logged out in the same second is still refused:
    /// a cut-off taken from the clock alone would not refuse it, so a login right after a
    /// logout, its own logout and a replay, all within one second, would let the replay in.
    #[test]
    fn a_token_stamped_ahead_is_refused_after_its_logout() {
        let now = 1_000;
        let first = Cutoff::at_logout(&token("erin", now), now);
        let ahead = token("erin", first.not_before);
        let second = Cutoff::at_logout(&ahead, now);
        assert!(second.refuses(&ahead, now));
        assert!(second.not_before > first.not_before);
    }

    /// Many logouts of one user keep one entry; the sweep removes dead ones only.
    #[test]
    fn one_entry_per_user_and_sweep() {
        let store = CutoffStore::default();
        for i in 0..100 {
            store.set("carol", Cutoff::at_logout(&token("carol", 1_000 + i), 1_000 + i));
        }
        store.set("dave", Cutoff::at_logout(&token("dave", 5_000), 5_000));
        assert_eq!(store.get("carol", 1_100).unwrap().not_before, 1_100);
        assert_eq!(store.sweep(1_200), 1);
        assert!(store.get("dave", 5_000).is_some());
    }
}
