//! Units that appear in field names and types: a latency in microseconds is a [`Micros`].

/// A duration in whole microseconds (latency percentiles, injected delays).
pub type Micros = u64;

/// A count as people write it: `0`, `1500`, `10k`, `2.5M`, `1G` (powers of a thousand).
pub fn parse_count(raw: &str) -> Result<u64, String> {
    let text = raw.trim().replace('_', "");
    let (number, scale) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1e3),
        Some((i, 'm' | 'M')) => (&text[..i], 1e6),
        Some((i, 'g' | 'G' | 'b' | 'B')) => (&text[..i], 1e9),
        _ => (text.as_str(), 1.0),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("`{raw}` is not a count (e.g. 500, 10k, 2.5M)"))?;
    let scaled = value * scale;
    if !scaled.is_finite() || scaled < 0.0 || scaled.fract() != 0.0 || scaled > 1e15 {
        return Err(format!("`{raw}` is not a whole count (e.g. 500, 10k, 2.5M)"));
    }
    Ok(scaled as u64)
}

/// A size in bytes: `512`, `64KiB`, `256MiB`, `2GiB`, `1.5GB` (binary with `i`, decimal without).
pub fn parse_bytes(raw: &str) -> Result<u64, String> {
    let text = raw.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(format!("`{raw}`: unknown unit (use B, KiB, MiB, GiB, KB, MB, GB)")),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("`{raw}` is not a size"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{raw}` is not a size"));
    }
    Ok((value * scale).round() as u64)
}

/// A count for people: `950`, `12k`, `1.5M`, `10M`.
pub fn short_count(n: u64) -> String {
    let (value, suffix) = match n {
        n if n >= 1_000_000_000 => (n as f64 / 1e9, "G"),
        n if n >= 1_000_000 => (n as f64 / 1e6, "M"),
        n if n >= 1_000 => (n as f64 / 1e3, "k"),
        n => return n.to_string(),
    };
    let text = format!("{value:.1}");
    format!("{}{suffix}", text.strip_suffix(".0").unwrap_or(&text))
}

/// A size for people, in binary units: `512 B`, `1.5 MiB`, `2.3 GiB`.
pub fn short_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts and sizes as people write them, and what is refused.
    #[test]
    fn counts_and_sizes_parse() {
        assert_eq!(parse_count("10k"), Ok(10_000));
        assert_eq!(parse_count("2.5M"), Ok(2_500_000));
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("1_000"), Ok(1_000));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("-3").is_err());
        assert!(parse_count("ten").is_err());
        assert_eq!(parse_bytes("256MiB"), Ok(256 << 20));
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("512"), Ok(512));
        assert!(parse_bytes("3 parsecs").is_err());
        assert_eq!(short_count(10_000_000), "10M");
        assert_eq!(short_count(1_500), "1.5k");
        assert_eq!(short_count(999), "999");
        assert_eq!(short_bytes(1536.0), "1.5 KiB");
    }
}
