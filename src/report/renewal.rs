//! What renewing tokens cost in a scenario: refresh requests per second and the store writes
//! they made per user per hour (beside all of the scenario's store writes, logins and logouts
//! included), for the scenarios where some strategy was sent `POST /refresh`.

use super::vocabulary::{shown_name, Table};
use crate::results::{Measurement, Spread, StoreRecord};

/// Per store of the scenario: the figures (medians over rounds), `–` where not measured.
/// `None` when no store of the scenario was sent a refresh request.
pub fn table(measurements: &[&Measurement], stores: &[StoreRecord]) -> Option<Table> {
    let refreshed = |m: &&Measurement| {
        m.median.as_ref().is_some_and(|median| median.refresh_requests_per_sec.is_some())
    };
    if !measurements.iter().any(refreshed) {
        return None;
    }
    let show = |s: Option<Spread>, digits: usize| {
        s.map(|s| format!("{:.digits$}", s.median)).unwrap_or_else(|| "–".into())
    };
    let rows = measurements
        .iter()
        .filter_map(|m| {
            let median = m.median.as_ref()?;
            Some(vec![
                shown_name(&m.store, stores),
                show(median.refresh_requests_per_sec, 1),
                show(median.refresh_writes_per_user_hour, 0),
                show(median.store_writes_per_user_hour, 0),
            ])
        })
        .collect();
    Table::of(
        &["store", "refresh requests/s", "refresh writes/user/h", "all store writes/user/h"],
        rows,
    )
}
