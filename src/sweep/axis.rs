//! `--axis NAME=V1,V2,…`: the parameter a sweep varies, and its values.

use crate::units::parse_count;

/// The axes a sweep can vary.
pub const AXES: [&str; 1] = [REVOKED];

/// Live revoked entries each store holds while it is measured.
pub const REVOKED: &str = "revoked";

/// One axis and its values, in sweep order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<u64>,
}

impl std::str::FromStr for Axis {
    type Err = String;

    /// `revoked=0,10k,100k,1M,10M`: values strictly increasing (a shared store only grows
    /// between points).
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: write NAME=V1,V2,… e.g. revoked=0,10k,1M"))?;
        let name = name.trim();
        if !AXES.contains(&name) {
            return Err(format!("unknown axis `{name}`: use one of {}", AXES.join(", ")));
        }
        let values = values.split(',').map(parse_count).collect::<Result<Vec<u64>, _>>()?;
        if values.is_empty() {
            return Err(format!("`{text}`: give at least one value"));
        }
        if let Some(w) = values.windows(2).find(|w| w[1] <= w[0]) {
            return Err(format!(
                "`{text}`: values must increase ({} then {}): a store only grows between points",
                w[0], w[1]
            ));
        }
        Ok(Axis { name: name.to_string(), values })
    }
}

impl Axis {
    /// Whether the values span a decade or more (a log axis then reads better).
    pub fn spans_decades(&self) -> bool {
        let positive: Vec<u64> = self.values.iter().copied().filter(|v| *v > 0).collect();
        match (positive.first(), positive.last()) {
            (Some(&low), Some(&high)) => high as f64 / low as f64 >= 10.0,
            _ => false,
        }
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
}
