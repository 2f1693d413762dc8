//! A threshold as written on the command line: `p99 < 2ms`, `rps >= 5000`, `leak == 0`.

use crate::results::RoundResult;

/// What a threshold is about (and what `revbench history` follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Check latency percentiles (µs).
    P50,
    P99,
    /// Requests per second.
    Rps,
    /// Replays of revoked tokens let in, of those answered (a fraction).
    Leak,
    /// CPU the servers spent per request they answered (µs).
    Cpu,
}

impl Metric {
    /// Every metric, in the order outputs list them.
    pub const ALL: [Metric; 5] = [Metric::Rps, Metric::P50, Metric::P99, Metric::Cpu, Metric::Leak];

    /// The metric's value in one round (the leak rate of its answered replays).
    pub fn read(self, r: &RoundResult) -> Option<f64> {
        match self {
            Metric::P50 => Some(r.check_latency()?.p50_us as f64),
            Metric::P99 => Some(r.check_latency()?.p99_us as f64),
            Metric::Rps => Some(r.requests_per_sec),
            Metric::Leak => r.leak_rate,
            Metric::Cpu => r.server_cpu_us_per_request,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::Rps => "rps",
            Metric::Leak => "leak",
            Metric::Cpu => "cpu",
        }
    }

    /// Whether a lower value is better (every metric but requests/s).
    pub fn lower_is_better(self) -> bool {
        self != Metric::Rps
    }

    /// The unit values are shown in.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::P50 | Metric::P99 | Metric::Cpu => "µs",
            Metric::Rps => "requests/s",
            Metric::Leak => "of answered replays",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    pub fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            Op::Lt => x < bound,
            Op::Le => x <= bound,
            Op::Gt => x > bound,
            Op::Ge => x >= bound,
            Op::Eq => x == bound,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }
}

/// `metric op value`, the value in the metric's unit (µs, requests/s, a fraction).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub op: Op,
    pub value: f64,
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match self.metric {
            Metric::P50 | Metric::P99 | Metric::Cpu => format!("{}us", self.value),
            Metric::Rps => format!("{}", self.value),
            Metric::Leak => format!("{}%", self.value * 100.0),
        };
        write!(f, "{} {} {value}", self.metric.name(), self.op.symbol())
    }
}

/// Parses `p99 < 2ms`, `p50<=500us`, `rps >= 5000`, `leak == 0`, `leak < 1%`.
pub fn parse(raw: &str) -> Result<Threshold, String> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("<", Op::Lt), (">", Op::Gt)];
    let (at, text, op) = ops
        .iter()
        .find_map(|(text, op)| raw.find(text).map(|at| (at, *text, *op)))
        .ok_or_else(|| format!("`{raw}` has no comparison; write e.g. 'p99 < 2ms'"))?;
    let (name, value) = (raw[..at].trim(), raw[at + text.len()..].trim());
    let metric = match name {
        "p50" => Metric::P50,
        "p99" => Metric::P99,
        "rps" | "requests_per_sec" => Metric::Rps,
        "leak" => Metric::Leak,
        "cpu" => Metric::Cpu,
        _ => return Err(format!("`{name}` is not a metric; use p50, p99, rps, cpu or leak")),
    };
    let value = match metric {
        Metric::P50 | Metric::P99 | Metric::Cpu => {
            crate::time::parse_duration(value).map_err(|e| format!("`{raw}`: {e}"))?.as_secs_f64()
                * 1e6
        }
        Metric::Rps => value.parse().map_err(|_| format!("`{value}` is not a number"))?,
        Metric::Leak => match value.strip_suffix('%') {
            Some(pct) => {
                pct.trim().parse::<f64>().map_err(|_| format!("`{value}` is not a percentage"))?
                    / 100.0
            }
            None => value
                .parse()
                .map_err(|_| format!("`{value}` is not a number; write 0 or e.g. 1%"))?,
        },
    };
    Ok(Threshold { metric, op, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_with_units() {
        let t = parse("p99 < 2ms").unwrap();
        assert_eq!((t.metric, t.op, t.value), (Metric::P99, Op::Lt, 2000.0));
        assert_eq!(parse("p50<=500us").unwrap().value, 500.0);
        assert_eq!(parse("leak == 0").unwrap().op, Op::Eq);
        assert_eq!(parse("leak < 1%").unwrap().value, 0.01);
        assert_eq!(parse("rps >= 5000").unwrap().op, Op::Ge);
        assert!(parse("p98 < 2ms").unwrap_err().contains("not a metric"));
        assert!(parse("p99 2ms").unwrap_err().contains("no comparison"));
        assert_eq!(parse("p99 < 2ms").unwrap().to_string(), "p99 < 2000us");
    }
}
