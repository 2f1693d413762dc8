//! The axes a sweep can vary, as its results name them: each axis's name, unit and how its
//! values read and print. Every value is a whole number in the axis's unit: entries, users,
//! requests/s, replicas, seconds of token lifetime, percent of actions that log out,
//! microseconds of round trip.

use std::time::Duration;

use crate::units::{parse_count, short_count};

/// The parameters a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisKind {
    /// Live revoked entries each store holds while it is measured.
    Revoked,
    /// Concurrent simulated users (closed loop).
    Users,
    /// Requests per second across all users (open model).
    Rate,
    /// Server processes per store.
    Replicas,
    /// Lifetime of the tokens the servers issue, in seconds.
    TokenTtl,
    /// Percent of the users' actions that are a logout (then a fresh login).
    LogoutRate,
    /// Round trip added between the servers and their store, in microseconds.
    StoreRtt,
}

/// Live revoked entries each store holds while it is measured.
pub const REVOKED: &str = "revoked";

impl AxisKind {
    pub const ALL: [AxisKind; 7] = [
        AxisKind::Revoked,
        AxisKind::Users,
        AxisKind::Rate,
        AxisKind::Replicas,
        AxisKind::TokenTtl,
        AxisKind::LogoutRate,
        AxisKind::StoreRtt,
    ];

    /// The name on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            AxisKind::Revoked => REVOKED,
            AxisKind::Users => "users",
            AxisKind::Rate => "rate",
            AxisKind::Replicas => "replicas",
            AxisKind::TokenTtl => "token-ttl",
            AxisKind::LogoutRate => "logout-rate",
            AxisKind::StoreRtt => "store-rtt",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The unit its values are recorded in.
    pub fn unit(self) -> &'static str {
        match self {
            AxisKind::Revoked => "entries",
            AxisKind::Users => "users",
            AxisKind::Rate => "requests/s",
            AxisKind::Replicas => "replicas",
            AxisKind::TokenTtl => "s",
            AxisKind::LogoutRate => "%",
            AxisKind::StoreRtt => "µs",
        }
    }

    /// What the axis is, for a chart's x label.
    pub fn description(self) -> &'static str {
        match self {
            AxisKind::Revoked => "live revoked entries in the store",
            AxisKind::Users => "concurrent users",
            AxisKind::Rate => "offered load (requests/s)",
            AxisKind::Replicas => "server replicas",
            AxisKind::TokenTtl => "token lifetime (s)",
            AxisKind::LogoutRate => "share of actions that log out (%)",
            AxisKind::StoreRtt => "round trip added to the store (µs)",
        }
    }

    /// How to write one value, for the error that refuses it.
    pub fn example(self) -> &'static str {
        match self {
            AxisKind::Revoked => "revoked=0,10k,1M",
            AxisKind::Users => "users=1,8,64",
            AxisKind::Rate => "rate=500,2k,8k",
            AxisKind::Replicas => "replicas=1,2,4",
            AxisKind::TokenTtl => "token-ttl=1m,15m,1h",
            AxisKind::LogoutRate => "logout-rate=0,1%,10%",
            AxisKind::StoreRtt => "store-rtt=0ms,0.5ms,1ms",
        }
    }

    /// One value as written on the command line, in the axis's unit.
    pub fn parse_value(self, raw: &str) -> Result<u64, String> {
        match self {
            AxisKind::TokenTtl => crate::time::parse_duration(raw.trim()).map(|d| d.as_secs()),
            AxisKind::StoreRtt => parse_micros(raw),
            AxisKind::LogoutRate => {
                let n = parse_count(raw.trim().trim_end_matches('%'))?;
                (n <= 100).then_some(n).ok_or_else(|| format!("`{raw}`: a percent, 0 to 100"))
            }
            _ => parse_count(raw),
        }
    }

    /// One value for people: `10M`, `15m`, `5%`, `0.5 ms`.
    pub fn show(self, value: u64) -> String {
        match self {
            AxisKind::TokenTtl => {
                humantime::format_duration(Duration::from_secs(value)).to_string()
            }
            AxisKind::LogoutRate => format!("{value}%"),
            AxisKind::StoreRtt => format!("{} ms", value as f64 / 1e3),
            _ => short_count(value),
        }
    }
}

/// `0.5ms`, `500us`, `1ms`, `0` as whole microseconds (humantime has no fractions).
fn parse_micros(raw: &str) -> Result<u64, String> {
    let text = raw.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic() || c == 'µ').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "" if number.trim() == "0" => 0.0,
        _ => return Err(format!("`{raw}`: write a round trip as e.g. 0ms, 0.5ms, 500us")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("`{raw}` is not a duration"))?;
    let micros = value * scale;
    if !(0.0..=10e6).contains(&micros) {
        return Err(format!("`{raw}`: a round trip from 0 to 10s"));
    }
    Ok(micros.round() as u64)
}

/// Whether the positive `values` span a decade or more.
pub fn spans_decades(values: &[u64]) -> bool {
    let positive: Vec<u64> = values.iter().copied().filter(|v| *v > 0).collect();
    match (positive.first(), positive.last()) {
        (Some(&low), Some(&high)) => high as f64 / low as f64 >= 10.0,
        _ => false,
    }
}
