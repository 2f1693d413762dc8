//! `--axis NAME=V1,V2,…`: the parameter a sweep varies ([`AxisKind`]), and its values.

pub use crate::results::axis::{spans_decades, AxisKind, REVOKED};

/// One axis and its values, in sweep order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<u64>,
}

impl std::str::FromStr for Axis {
    type Err = String;

    /// `revoked=0,10k,100k,1M,10M`: values strictly increasing (a shared store only grows
    /// between points, and a chart reads left to right).
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: write NAME=V1,V2,… e.g. revoked=0,10k,1M"))?;
        let name = name.trim();
        let names: Vec<&str> = AxisKind::ALL.iter().map(|k| k.name()).collect();
        let kind = AxisKind::named(name)
            .ok_or_else(|| format!("unknown axis `{name}`: use one of {}", names.join(", ")))?;
        let values = values
            .split(',')
            .map(|v| kind.parse_value(v))
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|e| format!("{e} (e.g. {})", kind.example()))?;
        if values.is_empty() {
            return Err(format!("`{text}`: give at least one value"));
        }
        if let Some(w) = values.windows(2).find(|w| w[1] <= w[0]) {
            let why = match kind {
                AxisKind::Revoked => "a store only grows between points",
                _ => "one point per value, in order",
            };
            return Err(format!(
                "`{text}`: values must increase ({} then {}): {why}",
                kind.show(w[0]),
                kind.show(w[1])
            ));
        }
        Ok(Axis { name: name.to_string(), values })
    }
}

impl Axis {
    /// What the axis varies.
    pub fn kind(&self) -> AxisKind {
        AxisKind::named(&self.name).expect("an axis is parsed from a known name")
    }

    /// Whether the values span a decade or more (a log axis then reads better).
    pub fn spans_decades(&self) -> bool {
        spans_decades(&self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The brief's axis parses; unknown axes, decreasing values and junk are refused.
    #[test]
    fn parses_and_refuses() {
        let axis: Axis = "revoked=0,10k,100k,1M,10M".parse().unwrap();
        assert_eq!(axis.values, [0, 10_000, 100_000, 1_000_000, 10_000_000]);
        assert!(axis.spans_decades());
        assert!(!"revoked=1k,2k".parse::<Axis>().unwrap().spans_decades());
        assert!("revoked=1M,10k".parse::<Axis>().unwrap_err().contains("must increase"));
        assert!("planets=1,2".parse::<Axis>().unwrap_err().contains("unknown axis"));
        assert!("revoked=1,x".parse::<Axis>().is_err());
        assert!("revoked".parse::<Axis>().is_err());
    }

    /// Each axis reads its own units: durations, percents and sub-millisecond round trips.
    #[test]
    fn every_axis_reads_its_unit() {
        let values = |text: &str| text.parse::<Axis>().map(|a| a.values);
        assert_eq!(values("users=1,8,64").unwrap(), [1, 8, 64]);
        assert_eq!(values("rate=500,2k").unwrap(), [500, 2_000]);
        assert_eq!(values("replicas=1,2,4").unwrap(), [1, 2, 4]);
        assert_eq!(values("token-ttl=1m,15m,1h").unwrap(), [60, 900, 3_600]);
        assert_eq!(values("logout-rate=0,1%,10%").unwrap(), [0, 1, 10]);
        assert_eq!(values("store-rtt=0ms,0.5ms,1ms").unwrap(), [0, 500, 1_000]);
        assert_eq!(values("store-rtt=0,250us,2ms").unwrap(), [0, 250, 2_000]);
        assert!(values("logout-rate=50,150").unwrap_err().contains("0 to 100"));
        assert!(values("store-rtt=1,2").unwrap_err().contains("0.5ms"));
        assert!(values("token-ttl=15m,1m").unwrap_err().contains("15m then 1m"));
        let rtt: Axis = "store-rtt=0ms,0.5ms".parse().unwrap();
        assert_eq!((rtt.kind(), rtt.kind().show(500)), (AxisKind::StoreRtt, "0.5 ms".into()));
    }
}
