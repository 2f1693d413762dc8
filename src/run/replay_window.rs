//! The replay window: after a logout, how long a copied token keeps working.
//!
//! A probe logs in, logs out on one replica, then replays the copy every [`PROBE_INTERVAL`]
//! (on the replica the topology says) until it is refused (any status but 200) or until the
//! probe's limit. The window is the time from the logout's answer to the answer of the last
//! replay that was accepted (0 when the first replay is refused), so it is exact to within one
//! interval. A probe still accepted at its limit is "never refused" — for a 15-minute token
//! that means the whole remaining lifetime, which no run waits out. A copy whose lifetime
//! (`expires_in`) is at most [`WAIT_FOR_EXP_UP_TO`] is replayed until it has surely expired,
//! past the limit if need be, so a short access lifetime (refresh-token strategies) is
//! measured whole.

use std::time::Duration;

use tokio::time::Instant;

use crate::results::ReplayWindow;

/// Pause between two replays of one copy.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(1);
/// How long a probe replays before it calls the copy "never refused".
pub const PROBE_LIMIT: Duration = Duration::from_secs(1);
/// Probes per measurement, run concurrently.
pub const PROBES: usize = 8;
/// Copies that live at most this long are replayed until they expire.
pub const WAIT_FOR_EXP_UP_TO: Duration = Duration::from_secs(5);
/// Replays go on this long past a short-lived copy's lifetime (its `exp` is whole seconds,
/// so it dies within its lifetime of the login).
const PAST_EXP: Duration = Duration::from_millis(100);

/// What one probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Refused after the copy worked for this long.
    Refused { window: Duration },
    /// Still accepted when the probe stopped.
    NeverRefused,
    /// The logout itself was not answered 204 (e.g. the store was down and the server failed
    /// closed): there is no revoked copy to replay.
    LogoutFailed,
}

/// A revoked copy, ready to replay.
pub struct RevokedCopy {
    token: String,
    logged_out_at: Instant,
    /// The token's lifetime as the login answered it (`expires_in`).
    lifetime: Option<Duration>,
}

impl RevokedCopy {
    /// How long to replay it: `limit`, or past its expiry when it is short-lived.
    fn replay_limit(&self, limit: Duration) -> Duration {
        match self.lifetime {
            Some(lifetime) if lifetime <= WAIT_FOR_EXP_UP_TO => limit.max(lifetime + PAST_EXP),
            _ => limit,
        }
    }
}

/// Logs a fresh token in and out on `base`; the copy, or `None` when either step failed.
pub async fn logged_out_copy(
    http: &reqwest::Client,
    base: &str,
    user: &str,
) -> Option<RevokedCopy> {
    let login = http
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "username": user }))
        .send()
        .await
        .ok()?;
    let body: serde_json::Value = login.json().await.ok()?;
    let token = body["access_token"].as_str()?.to_string();
    let lifetime = body["expires_in"].as_u64().map(Duration::from_secs);
    let logout = http.post(format!("{base}/logout")).bearer_auth(&token).send().await.ok()?;
    (logout.status().as_u16() == 204).then(|| RevokedCopy {
        token,
        logged_out_at: Instant::now(),
        lifetime,
    })
}

/// Replays `copy` on `base` every [`PROBE_INTERVAL`] until refused or `limit` has passed since
/// `from` (the logout, or the first replay after a restart).
pub async fn replay_until_refused(
    http: &reqwest::Client,
    base: &str,
    copy: &RevokedCopy,
    from: Option<Instant>,
    limit: Duration,
) -> ProbeOutcome {
    let from = from.unwrap_or(copy.logged_out_at);
    let limit = copy.replay_limit(limit);
    let url = format!("{base}/api/me");
    let mut last_accepted: Option<Instant> = None;
    let mut tick = tokio::time::interval(PROBE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while from.elapsed() < limit {
        tick.tick().await;
        let status = match http.get(&url).bearer_auth(&copy.token).send().await {
            Ok(response) => response.status().as_u16(),
            // No answer is not a refusal: the copy was not shown to be dead. Try again.
            Err(_) => continue,
        };
        if status != 200 {
            let window = last_accepted.map(|t| t - from).unwrap_or(Duration::ZERO);
            return ProbeOutcome::Refused { window };
        }
        last_accepted = Some(Instant::now());
    }
    ProbeOutcome::NeverRefused
}

/// One probe: log out on `logout_on`, replay on `replay_on`.
pub async fn probe(
    http: &reqwest::Client,
    logout_on: &str,
    replay_on: &str,
    user: &str,
    limit: Duration,
) -> ProbeOutcome {
    match logged_out_copy(http, logout_on, user).await {
        Some(copy) => replay_until_refused(http, replay_on, &copy, None, limit).await,
        None => ProbeOutcome::LogoutFailed,
    }
}

/// [`PROBES`] concurrent probes over `bases`: probe `i` logs out on replica `i` and replays on
/// the next one when there are several (on the same one otherwise).
pub async fn probe_all(http: &reqwest::Client, bases: &[String], limit: Duration) -> ReplayWindow {
    let n = bases.len().max(1);
    let probes = (0..PROBES).map(|i| {
        let (logout_on, replay_on) = (&bases[i % n], &bases[(i + 1) % n]);
        async move { probe(http, logout_on, replay_on, &probe_user(i), limit).await }
    });
    let outcomes: Vec<ProbeOutcome> = futures_util::future::join_all(probes).await;
    summarize(&outcomes, limit)
}

/// The user probe `i` logs in as: one per probe, so a per-user cut-off made by one probe's
/// logout does not kill the copies of the others.
pub fn probe_user(i: usize) -> String {
    format!("replay-window-probe-{i}")
}

/// The figures of a set of probes: percentiles over the probes whose logout succeeded, a
/// never-refused probe ranking above every refused one (its percentile then reads `None`).
pub fn summarize(outcomes: &[ProbeOutcome], limit: Duration) -> ReplayWindow {
    let mut windows: Vec<Option<u64>> = outcomes
        .iter()
        .filter_map(|o| match o {
            ProbeOutcome::Refused { window } => Some(Some(window.as_micros() as u64)),
            ProbeOutcome::NeverRefused => Some(None),
            ProbeOutcome::LogoutFailed => None,
        })
        .collect();
    // `None` (never refused) sorts last: it is longer than any measured window.
    windows.sort_by_key(|w| w.unwrap_or(u64::MAX));
    let at = |q: f64| -> Option<u64> {
        let index = ((windows.len() as f64 * q).ceil() as usize).clamp(1, windows.len()) - 1;
        windows[index]
    };
    let probed = windows.len();
    ReplayWindow {
        probes: outcomes.len() as u64,
        logouts_failed: (outcomes.len() - probed) as u64,
        never_refused: windows.iter().filter(|w| w.is_none()).count() as u64,
        p50_us: if probed > 0 { at(0.50) } else { None },
        p99_us: if probed > 0 { at(0.99) } else { None },
        max_us: if probed > 0 { at(1.0) } else { None },
        probe_limit_us: limit.as_micros() as u64,
        interval_us: PROBE_INTERVAL.as_micros() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ms: u64) -> ProbeOutcome {
        ProbeOutcome::Refused { window: Duration::from_millis(ms) }
    }

    /// Percentiles rank never-refused probes last, and failed logouts count apart.
    #[test]
    fn summary_ranks_never_refused_last() {
        let outcomes = [refused(0), refused(2), ProbeOutcome::NeverRefused, refused(1)];
        let w = summarize(&outcomes, PROBE_LIMIT);
        assert_eq!((w.probes, w.never_refused, w.logouts_failed), (4, 1, 0));
        assert_eq!((w.p50_us, w.p99_us, w.max_us), (Some(1000), None, None));
        assert_eq!(w.never_refused_fraction(), Some(0.25));

        let all_refused = summarize(&[refused(0), refused(0), refused(3)], PROBE_LIMIT);
        assert_eq!((all_refused.p50_us, all_refused.max_us), (Some(0), Some(3000)));
        let failed = summarize(&[ProbeOutcome::LogoutFailed], PROBE_LIMIT);
        assert_eq!((failed.logouts_failed, failed.p50_us), (1, None));
        assert_eq!(failed.never_refused_fraction(), None);
    }
}
