//! The replay window: after a logout, how long a copied token keeps working.
//!
//! A probe logs in, logs out on one replica, then replays the copy (on the replica the
//! topology says) on a fixed schedule: one replay every interval for the probe's limit,
//! whatever the answers, each sent at its time without waiting for the one before (unless
//! [`MAX_IN_FLIGHT`] are still unanswered: then it waits for one). Every store
//! of a measurement thus gets the same probe requests at the same times, whether it refuses
//! the copy at once or never — probes are load too, and a store must not be spared load for
//! refusing — and a copy that is refused and later accepted again is caught.
//!
//! The window is the time from the logout's answer to the answer of the last replay that was
//! accepted (0 when none was), exact to within one interval. A copy whose last answered replay
//! was accepted was never refused within the probe — for a 15-minute token that means the
//! whole remaining lifetime, which no run waits out. Answers are three: accepted (200), refused
//! (401), unanswered (any other status, or none): a 503 shows nothing about the copy, so it
//! is never counted as a refusal.

use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;

use super::forget::LoggedOut;
use crate::results::{middle_and_max, ReplayCounts, ReplayWindow};

/// Pause between two replays of one copy under load: the window's resolution. Eight probes
/// at this interval add 4,000 requests a second, alike for every store.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(2);
/// The longest a probe replays under load; within a measured window it gets at most half.
pub const PROBE_LIMIT: Duration = Duration::from_millis(2500);
/// Probes per measurement, run concurrently.
pub const PROBES: usize = 8;
/// Replays of one probe awaiting their answer at most: a server slower than the schedule
/// delays the next replay rather than get ever more connections (each replay in flight holds
/// one), so the count stays the same and only the times shift.
const MAX_IN_FLIGHT: usize = 8;

/// What one replay got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Refused,
    /// Another status, or no answer at all.
    Unanswered,
}

impl Answer {
    /// The answer a status (or no response) gives a replay.
    pub fn of(status: Option<u16>) -> Answer {
        match status {
            Some(200) => Answer::Accepted,
            Some(401) => Answer::Refused,
            _ => Answer::Unanswered,
        }
    }
}

/// When and how often a probe replays its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Duration,
    pub limit: Duration,
}

impl Schedule {
    /// Replays per probe: one at the start of every interval of the limit.
    pub fn replays(&self) -> u32 {
        (self.limit.as_micros() / self.interval.as_micros().max(1)).max(1) as u32
    }
}

/// What one probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The logout itself was not answered 204 (e.g. the store was down and the server failed
    /// closed): there is no revoked copy to replay.
    LogoutFailed { requests: u64 },
    /// The copy was replayed on the schedule.
    Replayed(Replays),
}

/// A probe's replays and what they showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Replays {
    pub counts: ReplayCounts,
    /// From the logout's answer to the last accepted replay's answer; `None` when no replay
    /// was accepted.
    pub last_accepted: Option<Duration>,
    /// The last answered replay was accepted.
    pub still_accepted: bool,
    /// Requests the probe sent: its login, logout and replays.
    pub requests: u64,
}

impl Replays {
    /// The copy's window: `Some(None)` never refused, `Some(Some(µs))` refused after that
    /// long, `None` when no replay was answered (nothing shows what the store does).
    fn window(&self) -> Option<Option<u64>> {
        if self.counts.accepted + self.counts.refused == 0 {
            return None;
        }
        if self.still_accepted {
            return Some(None);
        }
        Some(Some(self.last_accepted.unwrap_or(Duration::ZERO).as_micros() as u64))
    }
}

/// A revoked copy, ready to replay.
pub struct RevokedCopy {
    token: String,
    logged_out_at: Instant,
}

/// Logs a fresh token in and out on `base`: the copy, or the requests sent when either step
/// failed.
pub async fn logged_out_copy(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    logged_out: &LoggedOut,
) -> Result<RevokedCopy, u64> {
    let login = http
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "username": user }))
        .send()
        .await
        .map_err(|_| 1u64)?;
    let body: serde_json::Value = login.json().await.map_err(|_| 1u64)?;
    let token = body["access_token"].as_str().ok_or(1u64)?.to_string();
    logged_out.note(&token);
    let logout = http.post(format!("{base}/logout")).bearer_auth(&token).send().await;
    match logout {
        Ok(answer) if answer.status().as_u16() == 204 => {
            Ok(RevokedCopy { token, logged_out_at: Instant::now() })
        }
        _ => Err(2),
    }
}

/// One replay: when its answer came, and what it was.
async fn replay_once(http: &reqwest::Client, url: &str, token: &str) -> (Instant, Answer) {
    let status = http.get(url).bearer_auth(token).send().await.ok().map(|r| r.status().as_u16());
    (Instant::now(), Answer::of(status))
}

/// Replays `copy` on `base` on `schedule` from `from` (the logout, or the first replay after a
/// restart): every replay is sent at its time, answered or not, so the count and the times do
/// not depend on the store.
pub async fn replay_on_schedule(
    http: &reqwest::Client,
    base: &str,
    copy: &RevokedCopy,
    from: Option<Instant>,
    schedule: Schedule,
) -> Replays {
    let from = from.unwrap_or(copy.logged_out_at);
    let url = format!("{base}/api/me");
    let mut in_flight = FuturesUnordered::new();
    let mut answers = Vec::with_capacity(schedule.replays() as usize);
    for k in 0..schedule.replays() {
        let at = from + schedule.interval * k;
        // Answers that come while waiting for the next send are taken meanwhile.
        loop {
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(at) => break,
                Some(answer) = in_flight.next(), if !in_flight.is_empty() => answers.push(answer),
            }
        }
        if in_flight.len() >= MAX_IN_FLIGHT {
            answers.extend(in_flight.next().await);
        }
        in_flight.push(replay_once(http, &url, &copy.token));
    }
    while let Some(answer) = in_flight.next().await {
        answers.push(answer);
    }
    tally(&answers, copy.logged_out_at, schedule.replays())
}

/// The replays' counts and window from their answers (in any order).
fn tally(answers: &[(Instant, Answer)], logged_out_at: Instant, sent: u32) -> Replays {
    let mut replays = Replays { requests: u64::from(sent) + 2, ..Replays::default() };
    let mut last_answered: Option<(Instant, Answer)> = None;
    for &(at, answer) in answers {
        match answer {
            Answer::Accepted => replays.counts.accepted += 1,
            Answer::Refused => replays.counts.refused += 1,
            Answer::Unanswered => {
                replays.counts.unanswered += 1;
                continue;
            }
        }
        if answer == Answer::Accepted {
            let window = at.saturating_duration_since(logged_out_at);
            replays.last_accepted = Some(replays.last_accepted.map_or(window, |w| w.max(window)));
        }
        if last_answered.is_none_or(|(last, _)| at >= last) {
            last_answered = Some((at, answer));
        }
    }
    replays.still_accepted = matches!(last_answered, Some((_, Answer::Accepted)));
    replays
}

/// One probe: log out on `logout_on`, replay on `replay_on`.
pub async fn probe(
    http: &reqwest::Client,
    logout_on: &str,
    replay_on: &str,
    user: &str,
    schedule: Schedule,
    logged_out: &LoggedOut,
) -> ProbeOutcome {
    match logged_out_copy(http, logout_on, user, logged_out).await {
        Ok(copy) => {
            ProbeOutcome::Replayed(replay_on_schedule(http, replay_on, &copy, None, schedule).await)
        }
        Err(requests) => ProbeOutcome::LogoutFailed { requests },
    }
}

/// [`PROBES`] concurrent probes over `bases`: probe `i` logs out on replica `i` and replays on
/// the next one when there are several (on the same one otherwise).
pub async fn probe_all(
    http: &reqwest::Client,
    bases: &[String],
    schedule: Schedule,
    logged_out: &LoggedOut,
) -> ReplayWindow {
    let n = bases.len().max(1);
    let probes = (0..PROBES).map(|i| {
        let (logout_on, replay_on) = (&bases[i % n], &bases[(i + 1) % n]);
        async move { probe(http, logout_on, replay_on, &probe_user(i), schedule, logged_out).await }
    });
    let outcomes: Vec<ProbeOutcome> = futures_util::future::join_all(probes).await;
    summarize(&outcomes, schedule)
}

/// The user probe `i` logs in as: one per probe, so a per-user cut-off made by one probe's
/// logout does not kill the copies of the others.
pub fn probe_user(i: usize) -> String {
    format!("replay-window-probe-{i}")
}

/// The figures of a set of probes: the middle and the largest window over the probes whose
/// logout succeeded and some replay was answered, a never-refused probe ranking above every
/// window (a figure that falls on one reads `None`). With eight probes no higher percentile
/// than the largest can be told apart from it, so none is given.
pub fn summarize(outcomes: &[ProbeOutcome], schedule: Schedule) -> ReplayWindow {
    let mut counts = ReplayCounts::default();
    let (mut requests, mut logouts_failed, mut unanswered) = (0, 0, 0);
    let mut windows_us: Vec<Option<u64>> = Vec::new();
    for outcome in outcomes {
        match outcome {
            ProbeOutcome::LogoutFailed { requests: sent } => {
                logouts_failed += 1;
                requests += sent;
            }
            ProbeOutcome::Replayed(replays) => {
                counts = counts.plus(replays.counts);
                requests += replays.requests;
                match replays.window() {
                    Some(window) => windows_us.push(window),
                    None => unanswered += 1,
                }
            }
        }
    }
    let (p50_us, max_us) = middle_and_max(&windows_us);
    ReplayWindow {
        probes: outcomes.len() as u64,
        logouts_failed,
        never_refused: windows_us.iter().filter(|w| w.is_none()).count() as u64,
        unanswered,
        p50_us,
        max_us,
        windows_us,
        probe_limit_us: schedule.limit.as_micros() as u64,
        interval_us: schedule.interval.as_micros() as u64,
        replays: Some(counts),
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: Schedule =
        Schedule { interval: Duration::from_millis(2), limit: Duration::from_millis(100) };

    fn replayed(counts: (u64, u64, u64), last_ms: Option<u64>, still: bool) -> ProbeOutcome {
        let (accepted, refused, unanswered) = counts;
        ProbeOutcome::Replayed(Replays {
            counts: ReplayCounts { accepted, refused, unanswered },
            last_accepted: last_ms.map(Duration::from_millis),
            still_accepted: still,
            requests: accepted + refused + unanswered + 2,
        })
    }

    /// Figures rank never-refused probes last; failed logouts and probes whose replays all
    /// went unanswered count apart, never as refused.
    #[test]
    fn summary_ranks_never_refused_last() {
        let outcomes = [
            replayed((0, 50, 0), None, false),
            replayed((1, 49, 0), Some(2), false),
            replayed((50, 0, 0), Some(100), true),
            replayed((1, 48, 1), Some(1), false),
            replayed((0, 0, 50), None, false),
            ProbeOutcome::LogoutFailed { requests: 2 },
        ];
        let w = summarize(&outcomes, SCHEDULE);
        assert_eq!((w.probes, w.never_refused, w.logouts_failed, w.unanswered), (6, 1, 1, 1));
        assert_eq!((w.p50_us, w.max_us), (Some(1000), None));
        assert_eq!(w.windows_us, [Some(0), Some(2000), None, Some(1000)]);
        assert_eq!(w.never_refused_fraction(), Some(0.25));
        let replays = w.replays.unwrap();
        assert_eq!((replays.accepted, replays.refused, replays.unanswered), (52, 147, 51));
        assert_eq!(w.requests, 5 * 52 + 2);

        let all_503 = summarize(&[replayed((0, 0, 50), None, false)], SCHEDULE);
        assert_eq!((all_503.unanswered, all_503.p50_us, all_503.max_us), (1, None, None));
        assert_eq!(all_503.never_refused_fraction(), None, "503s show no refusal");
    }

    /// A copy refused and later accepted again: its window runs to the last acceptance, and
    /// if that was the last answer, it was never refused.
    #[test]
    fn a_copy_accepted_again_is_caught() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let refused_then_back = [
            (at(2), Answer::Refused),
            (at(6), Answer::Accepted),
            (at(4), Answer::Unanswered),
            (at(8), Answer::Refused),
        ];
        let replays = tally(&refused_then_back, start, 4);
        assert_eq!(replays.last_accepted, Some(Duration::from_millis(6)));
        assert!(!replays.still_accepted);
        assert_eq!(replays.window(), Some(Some(6000)));
        let back_at_the_end = [(at(2), Answer::Refused), (at(4), Answer::Accepted)];
        assert_eq!(tally(&back_at_the_end, start, 2).window(), Some(None));
        assert_eq!(SCHEDULE.replays(), 50);
    }

    /// Statuses map to three answers: 200 accepted, 401 refused, anything else unanswered.
    #[test]
    fn answers() {
        assert_eq!(Answer::of(Some(200)), Answer::Accepted);
        assert_eq!(Answer::of(Some(401)), Answer::Refused);
        assert_eq!(Answer::of(Some(503)), Answer::Unanswered);
        assert_eq!(Answer::of(None), Answer::Unanswered);
    }
}
