//! `--segment K/N`: this generator's share of a scenario's load when N generators drive the
//! same run side by side (like k6's execution segments), so that their results files, merged
//! with `revbench merge`, add up to the whole scenario.

use std::fmt;
use std::str::FromStr;

use crate::scenario::Scenario;

/// Generator `index` of `count` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Segment {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("--segment `{text}`: use K/N with 0 <= K < N, e.g. 0/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Segment {
    /// This segment's users out of `total`: the N shares differ by at most one and add up to
    /// `total` exactly.
    pub fn users(&self, total: usize) -> usize {
        total * (self.index + 1) / self.count - total * self.index / self.count
    }

    /// `scenario` cut down to this segment's users and request rate.
    pub fn apply(&self, scenario: &mut Scenario) -> Result<(), String> {
        let users = self.users(scenario.users);
        if users == 0 {
            return Err(format!(
                "scenario `{}` has {} users: too few for {} segments; use fewer generators",
                scenario.name, scenario.users, self.count
            ));
        }
        scenario.rate = scenario.rate.map(|rate| rate * users as f64 / scenario.users as f64);
        scenario.users = users;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shares of users add up to the whole and differ by at most one; bad forms are refused.
    #[test]
    fn shares_add_up() {
        for (total, count) in [(10, 3), (8, 4), (5, 5), (100, 7)] {
            let shares: Vec<usize> =
                (0..count).map(|index| Segment { index, count }.users(total)).collect();
            assert_eq!(shares.iter().sum::<usize>(), total, "{shares:?}");
            assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
        }
        assert_eq!("1/4".parse::<Segment>(), Ok(Segment { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Segment>().unwrap_err().contains("K/N"), "{bad}");
        }
    }

    /// A segment's rate is its share of users' share of the scenario's rate.
    #[test]
    fn rate_follows_users() {
        let mut scenario = Scenario::load("constant-rate").unwrap();
        let (users, rate) = (scenario.users, scenario.rate.unwrap());
        Segment { index: 0, count: 2 }.apply(&mut scenario).unwrap();
        assert_eq!(scenario.users, users / 2);
        let expected = rate * scenario.users as f64 / users as f64;
        assert!((scenario.rate.unwrap() - expected).abs() < 1e-9);
        let mut tiny = Scenario::load("steady").unwrap();
        tiny.users = 1;
        assert!(Segment { index: 0, count: 2 }.apply(&mut tiny).unwrap_err().contains("too few"));
    }
}
