//! A point of a sweep: the scenario with the axis's value applied. Every axis but `revoked`
//! and `store-rtt` changes the scenario itself; those two change what surrounds it (the
//! store's size, the path to the store), so their scenario is the sweep's own.

use super::axis::AxisKind;
use crate::scenario::{Scenario, Step, StepKind};

/// `base` with `value` of `axis` applied, checked as a scenario file would be: an
/// impossible value (17 replicas, 0 users) is refused naming the axis.
pub fn scenario_at(axis: AxisKind, base: &Scenario, value: u64) -> Result<Scenario, String> {
    let mut scenario = base.clone();
    match axis {
        AxisKind::Revoked | AxisKind::StoreRtt => {}
        AxisKind::Users => scenario.users = value as usize,
        AxisKind::Rate => scenario.rate = Some(value as f64),
        AxisKind::Replicas => scenario.replicas = value as usize,
        AxisKind::TokenTtl => scenario.token_ttl = std::time::Duration::from_secs(value),
        AxisKind::LogoutRate => scenario.steps = with_logout_share(&base.steps, value),
    }
    scenario.validate().map_err(|e| {
        format!("--axis {}={}: the point's scenario, {e}", axis.name(), axis.show(value))
    })?;
    Ok(scenario)
}

/// `steps` with logouts (`relogin`: log out, then log in again) `percent` % of all actions,
/// the other steps keeping their proportions among the rest.
fn with_logout_share(steps: &[Step], percent: u64) -> Vec<Step> {
    let others: Vec<&Step> = steps.iter().filter(|s| s.kind != StepKind::Relogin).collect();
    let total: usize = others.iter().map(|s| s.weight).sum::<usize>().max(1);
    let percent = percent as usize;
    let mut mixed: Vec<Step> = others
        .into_iter()
        .map(|s| Step { kind: s.kind, weight: s.weight * (100 - percent) })
        .collect();
    mixed.push(Step { kind: StepKind::Relogin, weight: total * percent });
    if mixed.iter().all(|s| s.kind == StepKind::Relogin || s.weight == 0) && percent < 100 {
        // A scenario of logouts only: the rest of the actions are checks.
        mixed.push(Step { kind: StepKind::Me, weight: 100 - percent });
    }
    mixed.retain(|s| s.weight > 0);
    mixed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(steps: &[Step], kind: StepKind) -> f64 {
        let total: usize = steps.iter().map(|s| s.weight).sum();
        let of: usize = steps.iter().filter(|s| s.kind == kind).map(|s| s.weight).sum();
        of as f64 / total as f64
    }

    /// Each axis lands in the scenario; what the scenario cannot run is refused, named.
    #[test]
    fn each_axis_changes_its_part_of_the_scenario() {
        let base = Scenario::load("check-only").unwrap();
        assert_eq!(scenario_at(AxisKind::Users, &base, 32).unwrap().users, 32);
        assert_eq!(scenario_at(AxisKind::Rate, &base, 500).unwrap().rate, Some(500.0));
        assert_eq!(scenario_at(AxisKind::Replicas, &base, 3).unwrap().replicas, 3);
        let ttl = scenario_at(AxisKind::TokenTtl, &base, 60).unwrap().token_ttl;
        assert_eq!(ttl.as_secs(), 60);
        assert_eq!(scenario_at(AxisKind::Revoked, &base, 1_000_000).unwrap(), base);
        assert_eq!(scenario_at(AxisKind::StoreRtt, &base, 500).unwrap(), base);
        let refused = scenario_at(AxisKind::Replicas, &base, 17).unwrap_err();
        assert!(refused.contains("--axis replicas=17") && refused.contains("1 to 16"), "{refused}");
        assert!(scenario_at(AxisKind::Users, &base, 0).is_err());
    }

    /// The logout share is the axis's percent whatever the scenario's own mix; the other
    /// steps keep their proportions.
    #[test]
    fn logout_share_is_the_percent() {
        let check_only = Scenario::load("check-only").unwrap();
        let steady = Scenario::load("steady").unwrap();
        for base in [&check_only, &steady] {
            for percent in [0, 5, 50] {
                let steps = scenario_at(AxisKind::LogoutRate, base, percent).unwrap().steps;
                let logouts = share(&steps, StepKind::Relogin);
                assert!((logouts - percent as f64 / 100.0).abs() < 1e-9, "{percent}: {steps:?}");
                assert!((share(&steps, StepKind::Me) - (1.0 - logouts)).abs() < 1e-9);
            }
        }
        let all = scenario_at(AxisKind::LogoutRate, &check_only, 100).unwrap().steps;
        assert_eq!(share(&all, StepKind::Relogin), 1.0);
    }
}
