//! The words every section of the report shares: the table they fill, how a store is named,
//! how a replay window is written, which store is the baseline. Nothing here imports a
//! section, so sections can use each other in one direction only.

use crate::results::{Measurement, StoreRecord};

/// The store that checks nothing (`none:`): every cost in the report is measured against it
/// in the same scenario.
pub const BASELINE_STORE: &str = "none";

/// A table: header cells and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers, or `None` when there is no row to show.
    pub fn of(headers: &[&str], rows: Vec<Vec<String>>) -> Option<Self> {
        let headers = headers.iter().map(|h| h.to_string()).collect();
        (!rows.is_empty()).then_some(Table { headers, rows })
    }
}

/// The store's name as tables and chart legends show it: marked when a wire-compatible
/// stand-in answered instead of the product it is named after.
pub fn shown_name(store: &str, stores: &[StoreRecord]) -> String {
    let stand_in = stores.iter().any(|s| s.name == store && s.server_caveat.is_some());
    if stand_in {
        format!("{store} (wire-compatible server)")
    } else {
        store.to_string()
    }
}

/// `never` for a copy never refused within the probe, else milliseconds.
pub fn window_ms(us: Option<u64>) -> String {
    us.map(|us| format!("{:.3}", us as f64 / 1000.0)).unwrap_or_else(|| "never".into())
}

/// Replays attempted and accepted over all rounds.
pub fn replays(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(a, l), r| (a + r.replays_attempted, l + r.replays_accepted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::backends::mongo_server::WIRE_COMPATIBLE;

    /// A store a stand-in answered for is marked in tables and legends; the real product and
    /// other stores are not.
    #[test]
    fn stand_ins_are_marked() {
        let record = |name: &str, caveat: Option<&str>| {
            let url = format!("{name}://127.0.0.1");
            StoreRecord::measured(name, &url, Some("v".into()), caveat.map(str::to_string))
        };
        let stores = [record("mongodb", Some(WIRE_COMPATIBLE)), record("redis", None)];
        assert_eq!(shown_name("mongodb", &stores), "mongodb (wire-compatible server)");
        assert_eq!(shown_name("redis", &stores), "redis");
        assert_eq!(shown_name("mongodb", &[record("mongodb", None)]), "mongodb");
    }

    /// A window never closed is written as such, others in ms.
    #[test]
    fn windows_in_ms() {
        assert_eq!(window_ms(None), "never");
        assert_eq!(window_ms(Some(1500)), "1.500");
    }
}
