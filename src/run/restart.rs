//! The restart scenario's replays: logged-out copies made before every replica restarts, then
//! replayed on the restarted ones, where a store that forgot its revocations lets them in.

use super::recorder::Recorder;
use super::replay_window::{self, ProbeOutcome, RevokedCopy, PROBES, PROBE_LIMIT};
use crate::harness::Replica;
use crate::results::ReplayWindow;

/// [`PROBES`] logged-out copies, made before a restart.
pub async fn copies_for_restart(http: &reqwest::Client, urls: &[String]) -> Vec<RevokedCopy> {
    let mut copies = Vec::with_capacity(PROBES);
    for i in 0..PROBES {
        let base = &urls[i % urls.len()];
        let user = replay_window::probe_user(i);
        copies.extend(replay_window::logged_out_copy(http, base, &user).await);
    }
    copies
}

/// Replays the copies on the restarted replicas; each window counts from the first replay
/// after the restart (the restart's own downtime is not a window anyone could replay in).
pub async fn probe_after_restart(
    http: &reqwest::Client,
    replicas: &[Replica],
    copies: Vec<RevokedCopy>,
) -> ReplayWindow {
    let failed = PROBES - copies.len();
    let started = tokio::time::Instant::now();
    let probes = copies.iter().enumerate().map(|(i, copy)| {
        let base = &replicas[i % replicas.len()].base_url;
        replay_window::replay_until_refused(http, base, copy, Some(started), PROBE_LIMIT)
    });
    let mut outcomes = futures_util::future::join_all(probes).await;
    outcomes.extend(std::iter::repeat_n(ProbeOutcome::LogoutFailed, failed));
    replay_window::summarize(&outcomes, PROBE_LIMIT)
}

/// Replays every copy the load kept once, spread over the (restarted) replicas.
pub async fn replay_copies(http: &reqwest::Client, replicas: &[Replica], recorder: &Recorder) {
    for (i, copy) in recorder.take_copies().into_iter().enumerate() {
        let url = format!("{}/api/me", replicas[i % replicas.len()].base_url);
        let phase = recorder.phase();
        match http.get(url).bearer_auth(copy).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                recorder.status(phase, "replay_after_restart", status);
                recorder.replay(phase, status == 200);
            }
            Err(_) => recorder.error("replay_after_restart", "other"),
        }
    }
}
