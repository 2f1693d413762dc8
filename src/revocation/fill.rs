//! The one bulk path: many revocations sent through [`RevocationStore::revoke_many`] in
//! batches, for prefills, `revbench footprint` and the benchmarks.

use std::time::{Duration, Instant};

use super::{Jti, SharedStore, StoreError};
use crate::time::UnixSeconds;

/// Entries per batch: large enough to amortise round trips, small enough that one batch stays
/// well inside the stores' 1–2 s operation timeouts.
const FILL_BATCH: usize = 5_000;

/// Revokes every `(jti, expires_at)` of `entries` in batches of `FILL_BATCH` and returns the
/// wall time it took.
pub async fn fill(
    store: &SharedStore,
    entries: impl IntoIterator<Item = (Jti, UnixSeconds)>,
) -> Result<Duration, StoreError> {
    let started = Instant::now();
    let mut batch = Vec::with_capacity(FILL_BATCH);
    for entry in entries {
        batch.push(entry);
        if batch.len() == FILL_BATCH {
            store.revoke_many(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.revoke_many(&batch).await?;
    }
    Ok(started.elapsed())
}

/// How often a long fill says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Says how far a long fill got, at most every [`PROGRESS_EVERY`].
#[derive(Debug, Clone, Copy)]
pub struct FillProgress {
    started: Instant,
    last_shown: Instant,
}

impl FillProgress {
    pub fn start() -> Self {
        FillProgress { started: Instant::now(), last_shown: Instant::now() }
    }

    /// `"2.5M / 10M (270k entries/s, ~28 s left)"` when the last line is old enough: `added`
    /// of this fill's `adding` entries written, on top of `held_before` already there.
    pub fn due(&mut self, added: u64, adding: u64, held_before: u64) -> Option<String> {
        if self.last_shown.elapsed() < PROGRESS_EVERY {
            return None;
        }
        self.last_shown = Instant::now();
        let rate = added as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let left = adding.saturating_sub(added) as f64 / rate.max(1e-9);
        Some(format!(
            "{} / {} ({} entries/s, ~{left:.0} s left)",
            crate::units::short_count(held_before + added),
            crate::units::short_count(held_before + adding),
            crate::units::short_count(rate as u64)
        ))
    }
}

/// `count` fresh random ids, their expiry times spread evenly over `[from, from + width)` (a
/// steady stream of logouts leaves entries expiring over one token lifetime).
pub fn spread_entries(
    count: u64,
    from: UnixSeconds,
    width: u64,
) -> impl Iterator<Item = (Jti, UnixSeconds)> {
    // In u128: `width * i` overflows u64 for long lifetimes; the step is below `width`.
    let step = move |i: u64| (u128::from(width) * u128::from(i) / u128::from(count.max(1))) as u64;
    (0..count).map(move |i| (Jti::random(), from.saturating_add(step(i))))
}

/// `count` fresh random ids, all expiring at `expires_at`.
pub fn random_entries(
    count: u64,
    expires_at: UnixSeconds,
) -> impl Iterator<Item = (Jti, UnixSeconds)> {
    (0..count).map(move |_| (Jti::random(), expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fill puts exactly the entries it is given in the store, across a partial last batch.
    #[tokio::test]
    async fn fills_exactly() {
        let store = super::super::open("memory:").await.unwrap();
        let exp = crate::time::now_secs() + 60;
        let count = 2 * FILL_BATCH as u64 + 7;
        fill(&store, random_entries(count, exp)).await.unwrap();
        assert_eq!(store.stats().await.unwrap().entries, Some(count));
    }

    /// Spread expiry times start at `from`, rise, and stay below `from + width`.
    #[test]
    fn spreads_over_the_width() {
        let times: Vec<UnixSeconds> = spread_entries(4, 1_000, 900).map(|(_, e)| e).collect();
        assert_eq!(times, [1_000, 1_225, 1_450, 1_675]);
        assert_eq!(spread_entries(0, 1_000, 900).count(), 0);
    }
}
