//! The results of `revbench sweep`: one full measurement (interleaved rounds, as `revbench
//! run`'s) per value of one axis, with what it took to get each store to that value.
//!
//! Same family as [`RunResults`]: the same [`SCHEMA_VERSION`](super::SCHEMA_VERSION),
//! environment block and units; `kind` is `"sweep"`. Each point reads as a `revbench run` file
//! of its own ([`SweepResults::point_run`]), which is how `report`, `compare` and `export`
//! read one. The file is rewritten after every measurement.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::axis::AxisKind;
use super::{
    read_versioned, write_json, Measurement, MeasurementFailure, ReadError, ResultsHeader,
    RunConfig, RunResults, Spread, StoreRecord,
};
use crate::scenario::Scenario;

/// The value of [`SweepResults::kind`].
pub const SWEEP_KIND: &str = "sweep";

/// A whole `revbench sweep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResults {
    #[serde(flatten)]
    pub header: ResultsHeader,
    /// Always [`SWEEP_KIND`].
    pub kind: String,
    pub config: SweepConfig,
    /// Every store asked for, measured or skipped.
    pub stores: Vec<StoreRecord>,
    /// One per axis value reached, in sweep order.
    pub points: Vec<SweepPoint>,
    /// Stores that could not reach a value, and why; the sweep went on without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<StoppedStore>,
    /// The machine's load average (1, 5, 15 min, `/proc/loadavg`) when the sweep started and
    /// when it ended: how busy it was besides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_at_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_at_end: Option<String>,
}

/// What was swept, and how each point was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The axis: `revoked` (live revoked entries held by the store), `users`, `rate`,
    /// `replicas`, `token-ttl`, `logout-rate` or `store-rtt`
    /// ([`crate::sweep::axis::AxisKind`]).
    pub axis: String,
    /// Its values, in sweep order, in the axis's unit (entries, users, requests/s, replicas,
    /// seconds, percent, µs).
    pub values: Vec<u64>,
    pub scenario: Scenario,
    pub rounds: usize,
    /// Load applied before each measurement and not recorded (s).
    pub warmup_secs: f64,
    /// Measured time per store, point and round (s).
    pub duration_secs: f64,
    pub placement: String,
}

/// One value of the axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub value: u64,
    /// How each store got to `value`.
    pub fills: Vec<PointFill>,
    /// One per store, rounds in run order.
    pub measurements: Vec<Measurement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<MeasurementFailure>,
    /// `store-rtt` sweeps: per shared store, the round trip added and as measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub store_rtt: Vec<MeasuredRtt>,
}

/// The round trip a `store-rtt` point put between the servers and one store: the store's
/// own ping (its health check) timed straight to it and through the delaying forwarder the
/// servers use, before the point's rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredRtt {
    pub store: String,
    /// The round trip asked for (µs): half of it held in each direction.
    pub added_us: u64,
    /// Pings timed each way.
    pub pings: usize,
    /// Ping time straight to the store and through the forwarder (µs): median, min, max.
    pub direct_us: Spread,
    pub through_us: Spread,
    /// Through − direct, medians: the round trip the forwarder added, as measured (µs).
    pub measured_added_us: f64,
}

/// How one store was brought to a point's size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointFill {
    pub store: String,
    /// `runner` (a shared store: revbench adds what is missing, once per point, and the
    /// entries stay for the point's rounds and the later points) or `server` (an in-process
    /// store: each server fills itself before listening, every round).
    pub filled_by: String,
    /// Prefilled live entries the store holds at this point.
    pub entries: u64,
    /// Entries written at this point (the whole size for `server`).
    pub added: u64,
    /// Wall time of those writes (s; for `server` the first round's).
    pub fill_secs: f64,
    /// `added / fill_secs`.
    pub rate_per_sec: Option<f64>,
    /// The memory measure with no prefilled entry and after this point's fill: the bytes the
    /// store reports (shared) or the server's resident memory (in-process).
    pub bytes_before: Option<u64>,
    pub bytes_after: Option<u64>,
    /// `(bytes_after − bytes_before) / entries`.
    pub bytes_per_entry: Option<f64>,
    /// `store` or `rss`.
    pub bytes_source: String,
}

/// A store the sweep stopped measuring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedStore {
    pub store: String,
    /// The value it could not reach.
    pub at: u64,
    /// The largest value it was measured at, if any.
    pub reached: Option<u64>,
    pub reason: String,
}

impl PointFill {
    /// `bytes_per_entry` from the two readings; `None` where the memory did not grow: entries
    /// were added, so the figure moved by less than its own noise (a Redis Cluster's
    /// `used_memory` of whole nodes at a few thousand entries), and a negative cost per entry
    /// would say nothing true.
    pub fn per_entry(before: Option<u64>, after: Option<u64>, entries: u64) -> Option<f64> {
        let (before, after) = (before?, after?);
        (entries > 0 && after > before).then(|| (after - before) as f64 / entries as f64)
    }
}

impl SweepResults {
    /// Reads and checks a sweep results file; medians are recomputed from the rounds.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let mut results: Self = read_versioned(path, Some(SWEEP_KIND))?;
        for point in &mut results.points {
            for measurement in &mut point.measurements {
                measurement.update_median();
            }
        }
        Ok(results)
    }

    /// Writes the file atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_json(path, self)
    }

    /// Point `index` as a `revbench run` results file: its measurements under the sweep's
    /// header, stores and scenario.
    pub fn point_run(&self, index: usize) -> RunResults {
        let point = &self.points[index];
        RunResults {
            measurements: point.measurements.clone(),
            failures: point.failures.clone(),
            ..self.point_run_template()
        }
        .with_scenario(self.config.scenario.clone())
    }

    /// The whole sweep as one `revbench run` file, each point a scenario of its own named
    /// `<scenario>@<axis>=<value>` (e.g. `check-only@revoked=1000000`): how `compare` and
    /// `export` read a sweep.
    pub fn as_run(&self) -> RunResults {
        let mut run = self.point_run_template();
        for point in &self.points {
            let name = self.point_name(point.value);
            let mut scenario = self.config.scenario.clone();
            scenario.name = name.clone();
            run.config.scenarios.push(scenario);
            for m in &point.measurements {
                run.measurements.push(Measurement { scenario: name.clone(), ..m.clone() });
            }
            for f in &point.failures {
                run.failures.push(MeasurementFailure { scenario: name.clone(), ..f.clone() });
            }
        }
        run
    }

    /// `<scenario>@<axis>=<value>`: a point's name as a scenario.
    pub fn point_name(&self, value: u64) -> String {
        format!("{}@{}={value}", self.config.scenario.name, self.config.axis)
    }

    fn point_run_template(&self) -> RunResults {
        let c = &self.config;
        RunResults {
            header: self.header.clone(),
            config: RunConfig {
                scenarios: Vec::new(),
                rounds: c.rounds,
                quick: false,
                injected_latency_us: None,
                injected_work_ns: None,
                placement: c.placement.clone(),
                warmup_secs: Some(c.warmup_secs),
                paired: None,
            },
            stores: self.stores.clone(),
            measurements: Vec::new(),
            not_applicable: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// A point's value as people read it, in the axis's unit (`10M`, `15m`, `0.5 ms`).
    pub fn show(&self, value: u64) -> String {
        AxisKind::named(&self.config.axis).map_or(value.to_string(), |k| k.show(value))
    }

    /// The point whose value is `value`.
    pub fn point(&self, value: u64) -> Option<&SweepPoint> {
        self.points.iter().find(|p| p.value == value)
    }

    /// Whether the file at `path` is a sweep's (its `kind`), without reading it all twice
    /// when it is not JSON at all (the caller's own reader reports that).
    pub fn is_sweep_file(path: &Path) -> bool {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<KindOnly>(&text).ok())
            .is_some_and(|k| k.kind.as_deref() == Some(SWEEP_KIND))
    }
}

/// The 1, 5 and 15 minute load averages, `0.52 0.58 0.59`.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

impl RunResults {
    fn with_scenario(mut self, scenario: Scenario) -> Self {
        self.config.scenarios = vec![scenario];
        self
    }
}

/// Reads a `revbench run` file, or a sweep's as one ([`SweepResults::as_run`]).
pub fn read_run_or_sweep(path: &Path) -> Result<RunResults, ReadError> {
    if SweepResults::is_sweep_file(path) {
        Ok(SweepResults::read(path)?.as_run())
    } else {
        RunResults::read(path)
    }
}

#[derive(Deserialize)]
struct KindOnly {
    kind: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::PointFill;

    /// Bytes per entry only where the memory grew by the fill: a reading that fell or stayed
    /// gives none, never a negative cost.
    #[test]
    fn bytes_per_entry_needs_memory_that_grew() {
        assert_eq!(PointFill::per_entry(Some(1_000), Some(3_000), 10), Some(200.0));
        assert_eq!(PointFill::per_entry(Some(3_000), Some(1_000), 10), None, "memory fell");
        assert_eq!(PointFill::per_entry(Some(1_000), Some(1_000), 10), None, "memory stayed");
        assert_eq!(PointFill::per_entry(Some(1_000), Some(3_000), 0), None, "no entries");
        assert_eq!(PointFill::per_entry(None, Some(3_000), 10), None, "no reading before");
    }
}
