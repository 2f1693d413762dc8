//! What each server counted over a measured window: its own `/stats` counters at the start and
//! at the end. Every server-side count of a round is the sum of these deltas, so it is of the
//! window alone (not warm-up, not what came before), and `revbench merge` counts a server that
//! several generators read once.

use serde::{Deserialize, Serialize};

/// A server's counters at one moment (from its `GET /stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCounters {
    /// Requests answered on the API routes; `None` for a server that does not count them (an
    /// older `revbench serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    pub store_errors: u64,
    pub fail_open_passes: u64,
    pub store_writes: u64,
    pub refresh_writes: u64,
    /// Revocations that returned before every replica acknowledged them (`hybrid+redis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeouts: Option<u64>,
    /// Revocations refused because the queue for Redis was full (`hybrid+redis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_overflows: Option<u64>,
    /// Checks answered from a local filter, and checks asked of the shared store (a round
    /// trip each) (`filter+redis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_checks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_checks: Option<u64>,
    /// Waits of `--inject-latency`, and their total (ns): the delay the server delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_delays: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_delay_ns: Option<u64>,
    /// Checks that ran `--inject-work`'s CPU work, and the CPU time it was asked for over them
    /// (ns): the work the server added, even when the run did not start it with the knob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_works: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_work_ns: Option<u64>,
}

/// One server over one measured window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerWindow {
    /// The server process's id (`/stats` `instance`; its URL for a server that has none).
    pub instance: String,
    /// At the start of the window (zero for a server started during it).
    pub before: ServerCounters,
    pub after: ServerCounters,
}

impl ServerCounters {
    /// Every count of `self` and `other` through `count`, and every optional one through
    /// `optional`: the one place that lists the counts.
    fn zip(
        &self,
        other: &ServerCounters,
        count: impl Fn(u64, u64) -> u64,
        optional: impl Fn(Option<u64>, Option<u64>) -> Option<u64>,
    ) -> ServerCounters {
        ServerCounters {
            requests: optional(self.requests, other.requests),
            store_errors: count(self.store_errors, other.store_errors),
            fail_open_passes: count(self.fail_open_passes, other.fail_open_passes),
            store_writes: count(self.store_writes, other.store_writes),
            refresh_writes: count(self.refresh_writes, other.refresh_writes),
            sync_timeouts: optional(self.sync_timeouts, other.sync_timeouts),
            queue_overflows: optional(self.queue_overflows, other.queue_overflows),
            local_checks: optional(self.local_checks, other.local_checks),
            store_checks: optional(self.store_checks, other.store_checks),
            injected_delays: optional(self.injected_delays, other.injected_delays),
            injected_delay_ns: optional(self.injected_delay_ns, other.injected_delay_ns),
            injected_works: optional(self.injected_works, other.injected_works),
            injected_work_ns: optional(self.injected_work_ns, other.injected_work_ns),
        }
    }

    /// What was counted between `before` and `self` (counters only grow; a restarted server
    /// reads as starting over).
    pub fn since(&self, before: &ServerCounters) -> ServerCounters {
        let delta = |after: u64, before: u64| after.saturating_sub(before);
        self.zip(before, delta, |after, before| Some(delta(after?, before?)))
    }

    /// Both counts added (an optional count is known only when both are).
    pub fn plus(&self, other: &ServerCounters) -> ServerCounters {
        self.zip(other, |a, b| a + b, |a, b| Some(a? + b?))
    }

    /// The starting point of a sum: every optional count known (zero).
    pub fn zero() -> ServerCounters {
        let none = ServerCounters::default();
        none.zip(&none, |_, _| 0, |_, _| Some(0))
    }

    /// Zero in every count, optional ones known where they are here: what a server started
    /// during a window had counted before it.
    pub fn zeroed(&self) -> ServerCounters {
        self.zip(self, |_, _| 0, |known, _| known.map(|_| 0))
    }
}

impl ServerWindow {
    /// What this server counted over the window.
    pub fn delta(&self) -> ServerCounters {
        self.after.since(&self.before)
    }

    /// The deltas of `servers` added up; `None` for none.
    pub fn total(servers: &[ServerWindow]) -> Option<ServerCounters> {
        (!servers.is_empty())
            .then(|| servers.iter().fold(ServerCounters::zero(), |sum, s| sum.plus(&s.delta())))
    }

    /// Several readings of each server (one per generator that read it) as one window per
    /// server: from its earliest reading at a start to its latest at an end, the union of the
    /// generators' windows. Counters only grow, so that is the smallest `before` and the
    /// largest `after`. Servers keep the order they are first seen in.
    pub fn union<'a>(readings: impl IntoIterator<Item = &'a ServerWindow>) -> Vec<ServerWindow> {
        let mut merged: Vec<ServerWindow> = Vec::new();
        for reading in readings {
            match merged.iter_mut().find(|s| s.instance == reading.instance) {
                Some(server) => {
                    server.before = extreme(&server.before, &reading.before, u64::min);
                    server.after = extreme(&server.after, &reading.after, u64::max);
                }
                None => merged.push(reading.clone()),
            }
        }
        merged
    }
}

/// `pick` applied count by count.
fn extreme(a: &ServerCounters, b: &ServerCounters, pick: fn(u64, u64) -> u64) -> ServerCounters {
    a.zip(b, pick, |a, b| Some(pick(a?, b?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(requests: u64, errors: u64) -> ServerCounters {
        ServerCounters { requests: Some(requests), store_errors: errors, ..Default::default() }
    }

    fn window(instance: &str, before: ServerCounters, after: ServerCounters) -> ServerWindow {
        ServerWindow { instance: instance.into(), before, after }
    }

    /// Deltas add over servers; two readings of one server are one window, the union of
    /// theirs, never two.
    #[test]
    fn one_server_counts_once() {
        let a1 = window("a", counters(100, 1), counters(1100, 5));
        let a2 = window("a", counters(120, 2), counters(1150, 6));
        let b = window("b", counters(0, 0), counters(500, 1));
        let total = ServerWindow::total(&[a1.clone(), b.clone()]).unwrap();
        assert_eq!((total.requests, total.store_errors), (Some(1500), 5));
        let union = ServerWindow::union([&a1, &b, &a2]);
        assert_eq!(union.len(), 2);
        assert_eq!(union[0].delta(), counters(1050, 5));
        let old = window("c", ServerCounters::default(), ServerCounters::default());
        assert_eq!(ServerWindow::total(&[a1, old]).unwrap().requests, None, "one did not count");
        assert_eq!(ServerWindow::total(&[]), None);
    }
}
