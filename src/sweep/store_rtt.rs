//! `store-rtt`: a known round trip between the servers and their store. The servers reach
//! the store through a loopback forwarder that holds every chunk for half the round trip in
//! each direction ([`crate::run::forwarder`]); the round trip it really adds is measured
//! with the store's own ping, straight and through it, and recorded beside the point.

use std::time::{Duration, Instant};

use crate::results::sweep::MeasuredRtt;
use crate::results::Spread;
use crate::revocation::{self, SharedStore};
use crate::run::forwarder::{self, Forwarder};

/// Pings timed each way; the first of each is left out (it may open a connection).
pub const PINGS: usize = 21;

/// A store reached through a delaying forwarder, for a point's rounds.
pub struct DelayedStore {
    /// The store URL through the forwarder: what the point's servers open.
    pub url: String,
    /// Kept alive while the point is measured; dropping it closes every connection.
    pub forwarder: Forwarder,
    pub measured: MeasuredRtt,
}

/// Puts `round_trip` between the servers and the store at `url` (`direct` is a handle on it
/// that does not go through the forwarder) and measures what it adds.
pub async fn delay(
    name: &str,
    url: &str,
    direct: &SharedStore,
    round_trip: Duration,
) -> Result<DelayedStore, String> {
    if url.starts_with("redis-cluster://") {
        return Err("a cluster's clients connect to every node it announces: one forwarder \
                    cannot delay them all"
            .to_string());
    }
    let (routed, forwarder) = forwarder::route(url, round_trip)
        .await
        .map_err(|e| format!("a round trip cannot be added in front of this store: {e:#}"))?;
    let through = revocation::open_passive(&routed)
        .await
        .map_err(|e| format!("the store does not answer through the forwarder: {e}"))?;
    let direct_us = ping(direct).await?;
    let through_us = ping(&through).await?;
    let measured = MeasuredRtt {
        store: name.to_string(),
        added_us: round_trip.as_micros() as u64,
        pings: PINGS - 1,
        measured_added_us: through_us.median - direct_us.median,
        direct_us,
        through_us,
    };
    Ok(DelayedStore { url: routed, forwarder, measured })
}

/// The store's health check, timed [`PINGS`] times one after another (µs).
async fn ping(store: &SharedStore) -> Result<Spread, String> {
    let mut times = Vec::with_capacity(PINGS);
    for _ in 0..PINGS {
        let started = Instant::now();
        store.health().await.map_err(|e| format!("the store's ping failed: {e}"))?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Spread::of(times.into_iter().skip(1)).ok_or_else(|| "no ping was timed".to_string())
}
