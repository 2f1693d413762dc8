//! Which status a correct server answers to each request kind: what separates an expected
//! answer's latency from an error's, and what `compare` counts as unexpected. Replays are
//! judged apart, by their own three answers (accepted, refused, unanswered).

/// The status a correct server answers to `request` (a request kind as named in results:
/// `me`, `login`, `refresh`, `logout`, `replay`, `replay_after_restart`); `None` for unknown
/// kinds.
pub fn expected_status(request: &str) -> Option<u16> {
    match request {
        "login" | "me" | "refresh" => Some(200),
        "logout" => Some(204),
        "replay" | "replay_after_restart" => Some(401),
        _ => None,
    }
}

/// A replay of a revoked copy (`replay`, `replay_after_restart`): its answers are counted as
/// accepted, refused or unanswered (the leak rate and the unanswered replays), so never
/// again as unexpected answers.
pub fn is_replay(request: &str) -> bool {
    request.starts_with("replay")
}

/// Splits a results key such as `"me 503"` into its request kind and status.
pub fn split_status_key(key: &str) -> Option<(&str, u16)> {
    let (request, status) = key.rsplit_once(' ')?;
    Some((request, status.parse().ok()?))
}

/// Answers in `statuses` (keys like `"me 503"`) other than expected, replays aside.
pub fn unexpected<'a>(statuses: impl IntoIterator<Item = (&'a String, &'a u64)>) -> u64 {
    statuses
        .into_iter()
        .filter_map(|(key, n)| Some((split_status_key(key)?, *n)))
        .filter(|((request, status), _)| {
            !is_replay(request) && expected_status(request).is_some_and(|e| e != *status)
        })
        .map(|(_, n)| n)
        .sum()
}

/// Requests of `round` that failed (an unexpected answer such as a 503 for a store error, or
/// no answer), and all it sent (answered or not).
pub fn failed_of_sent(round: &super::RoundResult) -> (u64, u64) {
    let unanswered: u64 = round.errors.values().sum();
    (unexpected(&round.statuses) + unanswered, round.requests + unanswered)
}

/// Share of every request of `rounds` that failed; `None` when nothing was sent.
pub fn failed_share(rounds: &[super::RoundResult]) -> Option<f64> {
    let (failed, sent) =
        rounds.iter().map(failed_of_sent).fold((0, 0), |(f, s), (a, b)| (f + a, s + b));
    (sent > 0).then(|| failed as f64 / sent as f64)
}

/// Above this share of failed requests, a measurement's latency describes the few requests
/// that got through, not the store: it is shown with the share and not offered as the
/// store's latency.
pub const MOSTLY_FAILED: f64 = 0.5;

/// Whether more than [`MOSTLY_FAILED`] of the requests of `rounds` failed.
pub fn mostly_failed(rounds: &[super::RoundResult]) -> bool {
    failed_share(rounds).is_some_and(|share| share > MOSTLY_FAILED)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 503 to `me` is unexpected; replays, whatever their answer, are counted apart.
    #[test]
    fn counts_unexpected_answers() {
        let statuses: std::collections::BTreeMap<String, u64> = [
            ("me 200", 10),
            ("me 503", 3),
            ("replay 401", 5),
            ("replay 200", 7),
            ("replay 503", 2),
            ("logout 500", 1),
            ("odd", 9),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(unexpected(&statuses), 4);
        assert!(is_replay("replay_after_restart"));
    }
}
