//! One colour per store, the same in every chart.

use plotters::style::RGBColor;

const KNOWN: [(&str, RGBColor); 8] = [
    ("none", RGBColor(128, 128, 128)),
    ("naive", RGBColor(230, 145, 56)),
    ("memory", RGBColor(46, 160, 67)),
    ("hashmap", RGBColor(23, 190, 207)),
    ("redis", RGBColor(214, 39, 40)),
    ("mongodb", RGBColor(140, 86, 75)),
    ("postgres", RGBColor(31, 119, 180)),
    ("hashset", RGBColor(0, 0, 0)),
];

const SPARE: [RGBColor; 4] = [
    RGBColor(148, 103, 189),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 255),
];

/// The colour of `store` (unknown names get a stable spare colour from their name).
pub fn of(store: &str) -> RGBColor {
    KNOWN.iter().find(|(name, _)| *name == store).map(|(_, c)| *c).unwrap_or_else(|| {
        let hash = store.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        SPARE[hash % SPARE.len()]
    })
}

/// `#rrggbb`, for HTML.
pub fn hex(store: &str) -> String {
    let RGBColor(r, g, b) = of(store);
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    /// Known stores have fixed colours; unknown ones are stable.
    #[test]
    fn stable_colours() {
        assert_eq!(super::hex("redis"), "#d62728");
        assert_eq!(super::of("custom"), super::of("custom"));
    }
}
