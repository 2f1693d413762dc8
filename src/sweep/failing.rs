//! A store that failed most of its requests in every round of a point has reached what it can
//! answer: it is not filled further, since a larger fill (minutes, for a slow store) would be
//! measured only as failures.

use crate::results::answers::{failed_of_sent, MOSTLY_FAILED};
use crate::results::RoundResult;

/// Why a store whose rounds at a point (`at`, as the axis shows it) were `rounds` is not taken
/// further, if it failed more than half its requests (an unexpected answer such as a 503 for a
/// store error, or no answer) in every one of them.
pub fn failing_at(at: &str, rounds: &[RoundResult]) -> Option<String> {
    let counts: Vec<(u64, u64)> = rounds.iter().map(failed_of_sent).collect();
    let failing = !counts.is_empty()
        && counts.iter().all(|&(failed, sent)| failed as f64 > MOSTLY_FAILED * sent as f64);
    failing.then(|| {
        let (failed, sent) = counts.iter().fold((0, 0), |(f, s), (a, b)| (f + a, s + b));
        format!(
            "at {at} it failed {failed} of its {sent} requests ({:.0} %: store errors or no \
             answer) in its {} round(s): it cannot answer at that size, so it is not filled \
             further",
            100.0 * failed as f64 / sent as f64,
            counts.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round of the committed example, with these answers and this many unanswered.
    fn round(statuses: &[(&str, u64)], unanswered: u64) -> RoundResult {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/example/results.json");
        let results = crate::results::RunResults::read(std::path::Path::new(example)).unwrap();
        let mut round = results.measurements[0].rounds[0].clone();
        round.errors.clear();
        round.statuses = statuses.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        round.requests = statuses.iter().map(|(_, n)| n).sum();
        if unanswered > 0 {
            round.errors.insert("me timeout".to_string(), unanswered);
        }
        round
    }

    /// Most requests failing in every round stops the store, with the counts; a store that
    /// failed most in one round only, or that answered, goes on.
    #[test]
    fn most_failed_in_every_round() {
        let bad = round(&[("me 200", 3), ("me 503", 15)], 0);
        let timing_out = round(&[("me 200", 1)], 5);
        let reason = failing_at("100k", &[bad.clone(), timing_out]).unwrap();
        assert_eq!(
            reason,
            "at 100k it failed 20 of its 24 requests (83 %: store errors or no answer) in its \
             2 round(s): it cannot answer at that size, so it is not filled further"
        );
        let good = round(&[("me 200", 900), ("me 503", 2)], 1);
        assert_eq!(failing_at("100k", &[bad, good.clone()]), None, "one round answered");
        assert_eq!(failing_at("100k", &[good]), None);
        assert_eq!(failing_at("100k", &[]), None, "nothing measured");
        assert_eq!(failing_at("1k", &[round(&[], 0)]), None, "nothing sent");
    }
}
