//! The `store-outage` scenario: cut a shared store off mid-load through a loopback forwarder,
//! bring it back, and record what the servers answered meanwhile.

use std::sync::Arc;
use std::time::Duration;

use super::forwarder::Forwarder;
use super::recorder::{OutageLog, Recorder};
use crate::results::OutageResult;
use crate::scenario::Outage;

/// The scenario's outage, shrunk to the middle third when `--duration` leaves no room for it.
pub fn fit(outage: Outage, duration: Duration) -> Outage {
    if outage.after + outage.length < duration {
        outage
    } else {
        Outage { after: duration / 3, length: duration / 3 }
    }
}

/// Starts a forwarder to the store's address and returns the URL that goes through it.
pub async fn through_forwarder(url: &str) -> anyhow::Result<(String, Forwarder)> {
    super::forwarder::route(url, Duration::ZERO).await
}

/// Cuts the store off at `outage.after` and restores it `outage.length` later.
pub async fn run(mut forwarder: Forwarder, outage: Outage, recorder: Arc<Recorder>) {
    tokio::time::sleep(outage.after).await;
    forwarder.cut().await;
    recorder.begin_outage();
    tokio::time::sleep(outage.length).await;
    if forwarder.restore().await.is_ok() {
        recorder.end_outage();
    }
    // Keep forwarding until the measurement aborts this task.
    std::future::pending::<()>().await;
}

/// What the recorder saw during the outage, as a result.
pub fn result(log: OutageLog, outage: Outage) -> OutageResult {
    let down = match (log.cut_at, log.restored_at) {
        (Some(cut), Some(back)) => back - cut,
        _ => Duration::ZERO,
    };
    OutageResult {
        cut_after_secs: outage.after.as_secs_f64(),
        down_secs: down.as_secs_f64(),
        statuses_during: log.statuses_during,
        replays_accepted_during: log.replays_accepted_during,
        recovery_ms: log.recovered_after.map(|d| d.as_secs_f64() * 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An outage that fits is kept; one that does not moves to the middle third.
    #[test]
    fn outage_fits_the_duration() {
        let outage = Outage { after: Duration::from_secs(2), length: Duration::from_secs(2) };
        assert_eq!(fit(outage, Duration::from_secs(10)), outage);
        let shrunk = fit(outage, Duration::from_secs(3));
        assert_eq!((shrunk.after, shrunk.length), (Duration::from_secs(1), Duration::from_secs(1)));
    }
}
