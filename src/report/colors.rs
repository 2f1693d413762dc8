//! One colour per store, the same in every chart.

use plotters::style::RGBColor;

use crate::revocation::SCHEMES;

/// Colours of the stores in [`SCHEMES`] order (a new store takes the next one).
const PALETTE: [RGBColor; 13] = [
    RGBColor(128, 128, 128),
    RGBColor(230, 145, 56),
    RGBColor(46, 160, 67),
    RGBColor(23, 190, 207),
    RGBColor(214, 39, 40),
    RGBColor(140, 86, 75),
    RGBColor(31, 119, 180),
    RGBColor(148, 103, 189),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 255),
    RGBColor(0, 128, 128),
    // Names outside the table.
    RGBColor(255, 187, 120),
];

/// The microbenchmarks' reference `HashSet`, which is no store.
const REFERENCE: (&str, RGBColor) = ("hashset", RGBColor(0, 0, 0));

/// The colour of `store` (names outside the table get a stable colour from their name).
pub fn of(store: &str) -> RGBColor {
    if store == REFERENCE.0 {
        return REFERENCE.1;
    }
    let index = SCHEMES.iter().position(|s| s.name == store).unwrap_or_else(|| {
        let hash = store.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        SCHEMES.len() + hash % PALETTE.len().saturating_sub(SCHEMES.len()).max(1)
    });
    PALETTE[index % PALETTE.len()]
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
