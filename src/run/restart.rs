//! The restart scenario's replays: logged-out copies made before every replica restarts, then
//! replayed on the restarted ones, where a store that forgot its revocations lets them in.

use std::time::Duration;

use super::forget::LoggedOut;
use super::recorder::Recorder;
use super::replay_window::{self, Answer, ProbeOutcome, RevokedCopy, Schedule, PROBES};
use crate::harness::Replica;
use crate::results::ReplayWindow;

/// How the copies are replayed after the restart: no load runs then, so a second is enough to
/// see whether the restarted replicas remember.
pub const AFTER_RESTART: Schedule =
    Schedule { interval: replay_window::PROBE_INTERVAL, limit: Duration::from_secs(1) };

/// Up to [`PROBES`] logged-out copies, made before a restart, and the requests of the probes
/// that failed to make one.
pub async fn copies_for_restart(
    http: &reqwest::Client,
    urls: &[String],
    logged_out: &LoggedOut,
) -> (Vec<RevokedCopy>, Vec<u64>) {
    let mut copies = Vec::with_capacity(PROBES);
    let mut failed = Vec::new();
    for i in 0..PROBES {
        let base = &urls[i % urls.len()];
        let user = replay_window::probe_user(i);
        match replay_window::logged_out_copy(http, base, &user, logged_out).await {
            Ok(copy) => copies.push(copy),
            Err(requests) => failed.push(requests),
        }
    }
    (copies, failed)
}

/// Replays the copies on the restarted replicas; each window counts from the first replay
/// after the restart (the restart's own downtime is not a window anyone could replay in).
pub async fn probe_after_restart(
    http: &reqwest::Client,
    replicas: &[Replica],
    (copies, failed): (Vec<RevokedCopy>, Vec<u64>),
) -> ReplayWindow {
    let started = tokio::time::Instant::now();
    let probes = copies.iter().enumerate().map(|(i, copy)| {
        let base = &replicas[i % replicas.len()].base_url;
        replay_window::replay_on_schedule(http, base, copy, Some(started), AFTER_RESTART)
    });
    let mut outcomes: Vec<ProbeOutcome> = futures_util::future::join_all(probes)
        .await
        .into_iter()
        .map(ProbeOutcome::Replayed)
        .collect();
    outcomes.extend(failed.into_iter().map(|requests| ProbeOutcome::LogoutFailed { requests }));
    replay_window::summarize(&outcomes, AFTER_RESTART)
}

/// Replays every copy the load kept once, spread over the (restarted) replicas.
pub async fn replay_copies(http: &reqwest::Client, replicas: &[Replica], recorder: &Recorder) {
    for (i, copy) in recorder.take_copies().into_iter().enumerate() {
        let url = format!("{}/api/me", replicas[i % replicas.len()].base_url);
        let phase = recorder.phase();
        let started = std::time::Instant::now();
        let status = match http.get(url).bearer_auth(copy).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                recorder.status(phase, "replay_after_restart", status);
                Some(status)
            }
            Err(_) => {
                recorder.error("replay_after_restart", "other");
                None
            }
        };
        recorder.replay_latency(started.elapsed());
        recorder.replay(phase, Answer::of(status));
    }
}
