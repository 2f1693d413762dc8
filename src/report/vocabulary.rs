//! The words every section of the report shares: the table they fill, how a store is named,
//! how a replay window and a leak are written, which store is the baseline. Nothing here
//! imports a section, so sections can use each other in one direction only.

use crate::results::{LatencySummary, Measurement, RoundResult, Spread, StoreRecord};

/// The scheme that checks nothing (`none:`): every cost in the report is measured against a
/// store of it in the same scenario.
pub const BASELINE_SCHEME: &str = "none";

/// The scheme's short name of the store labelled `label` (the label itself when the store
/// is not listed, as in files older than labels, whose names were the schemes').
pub fn scheme_of<'a>(label: &'a str, stores: &'a [StoreRecord]) -> &'a str {
    stores.iter().find(|s| s.name == label).map_or(label, StoreRecord::scheme_name)
}

/// Whether the store labelled `label` is the baseline (a `none:` store).
pub fn is_baseline(label: &str, stores: &[StoreRecord]) -> bool {
    scheme_of(label, stores) == BASELINE_SCHEME
}

/// The first measured `none:` store among `measurements` (one scenario's), if any.
pub fn baseline<'a>(
    measurements: &[&'a Measurement],
    stores: &[StoreRecord],
) -> Option<&'a Measurement> {
    measurements.iter().copied().find(|m| is_baseline(&m.store, stores) && m.median.is_some())
}

/// A round's check latency (see [`RoundResult::check_latency`]).
pub fn check(r: &RoundResult) -> Option<&LatencySummary> {
    r.check_latency()
}

/// The check latency's p50 (µs) over rounds.
pub fn check_p50s(m: &Measurement) -> Vec<f64> {
    m.rounds.iter().filter_map(check).map(|l| l.p50_us as f64).collect()
}

/// The round whose check-latency p99 is the median of the rounds' (a representative
/// histogram), among the rounds that have a check latency.
pub fn representative(m: &Measurement) -> Option<&RoundResult> {
    let mut rounds: Vec<&RoundResult> =
        m.rounds.iter().filter(|r| r.check_latency().is_some()).collect();
    rounds.sort_by_key(|r| r.check_latency().map(|l| l.p99_us));
    rounds.get(rounds.len() / 2).copied()
}

/// A median over rounds in ms, `–` when there is none.
pub fn ms_cell(spread: Option<Spread>) -> String {
    spread.map(|s| format!("{:.3}", s.median / 1000.0)).unwrap_or_else(|| "–".into())
}

/// A table: header cells and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A piece of a page built once and written both as Markdown and as HTML (a sweep's
/// report). Prose may hold `code` spans.
pub enum Block {
    /// The page's title (one per page).
    Title(String),
    Heading(String),
    Prose(String),
    Table(Table),
    List(Vec<String>),
    /// Text shown as it is (a command's table).
    Preformatted(String),
    /// A chart drawn beside the page as `charts/<stem>.svg`.
    Chart {
        stem: String,
        title: String,
    },
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

/// A store's replays over all rounds, by answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayTally {
    pub attempted: u64,
    pub accepted: u64,
    /// Accepted or refused.
    pub answered: u64,
    /// 5xx, another status, or no answer: neither accepted nor refused.
    pub unanswered: u64,
}

impl ReplayTally {
    /// `4% (2/50)` of the answered replays accepted, with `, 3 unanswered` beside it; `–`
    /// when no replay was attempted.
    pub fn leak_cell(&self, digits: usize) -> String {
        if self.attempted == 0 {
            return "–".into();
        }
        let mut cell = match self.answered {
            0 => "–".to_string(),
            answered => format!(
                "{:.digits$}% ({}/{answered})",
                100.0 * self.accepted as f64 / answered as f64,
                self.accepted
            ),
        };
        if self.unanswered > 0 {
            cell.push_str(&format!(", {} unanswered", self.unanswered));
        }
        cell
    }
}

/// Replays over all rounds, by answer.
pub fn replays(m: &Measurement) -> ReplayTally {
    m.rounds.iter().fold(ReplayTally::default(), |t, r| ReplayTally {
        attempted: t.attempted + r.replays_attempted,
        accepted: t.accepted + r.replays_accepted,
        answered: t.answered + r.replays_answered(),
        unanswered: t.unanswered + r.replays_unanswered.unwrap_or(0),
    })
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

    /// A leak is of the answered replays; unanswered ones are shown beside it, never as
    /// refused.
    #[test]
    fn leaks_of_answered_replays() {
        let tally = |attempted, accepted, unanswered| ReplayTally {
            attempted,
            accepted,
            answered: attempted - unanswered,
            unanswered,
        };
        assert_eq!(tally(0, 0, 0).leak_cell(0), "–");
        assert_eq!(tally(50, 2, 0).leak_cell(0), "4% (2/50)");
        assert_eq!(tally(60, 2, 10).leak_cell(0), "4% (2/50), 10 unanswered");
        assert_eq!(tally(40, 0, 40).leak_cell(1), "–, 40 unanswered");
    }
}
