//! One colour per store, the same in every chart: a store takes its scheme's colour, and a
//! second (third, …) store of one scheme in a run a lighter (darker, …) shade of it, so two
//! Redis URLs are two lines that both read as Redis.

use std::collections::BTreeMap;

use plotters::style::RGBColor;

use super::vocabulary::shown_name;
use crate::results::StoreRecord;
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
fn to_hex(RGBColor(r, g, b): RGBColor) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `color` mixed with white (`toward` 255) or black (0) by `share`.
fn shade(RGBColor(r, g, b): RGBColor, toward: u8, share: f64) -> RGBColor {
    let mix = |c: u8| (c as f64 + (toward as f64 - c as f64) * share).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// The `n`th shade of a scheme's colour: 0 is the colour itself, then lighter and darker in
/// turn, each further from it.
fn nth_shade(color: RGBColor, n: usize) -> RGBColor {
    if n == 0 {
        return color;
    }
    let step = n.div_ceil(2) as f64;
    if n % 2 == 1 {
        shade(color, 255, (0.35 * step).min(0.8))
    } else {
        shade(color, 0, (0.3 * step).min(0.7))
    }
}

/// Every store of a run and its colour, by label (and by the name tables show it under).
#[derive(Debug, Clone, Default)]
pub struct Palette(BTreeMap<String, RGBColor>);

impl Palette {
    /// The colours of `stores`, in the order the run lists them.
    pub fn of(stores: &[StoreRecord]) -> Self {
        let mut colors = BTreeMap::new();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for store in stores {
            let n = seen.entry(store.scheme_name()).or_default();
            let color = nth_shade(of(store.scheme_name()), *n);
            *n += 1;
            colors.insert(store.name.clone(), color);
            colors.insert(shown_name(&store.name, stores), color);
        }
        Palette(colors)
    }

    /// The colour of the store labelled `label` (or shown as it); a name not in the run gets
    /// [`of`]'s.
    pub fn color(&self, label: &str) -> RGBColor {
        self.0.get(label).copied().unwrap_or_else(|| of(label))
    }

    /// [`Palette::color`] as `#rrggbb`.
    pub fn hex(&self, label: &str) -> String {
        to_hex(self.color(label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known stores have fixed colours; unknown ones are stable.
    #[test]
    fn stable_colours() {
        assert_eq!(to_hex(of("redis")), "#d62728");
        assert_eq!(super::of("custom"), super::of("custom"));
    }

    /// Two stores of one scheme get two shades of its colour; the first keeps the colour.
    #[test]
    fn stores_of_one_scheme_are_told_apart() {
        let record = |label: &str, url: &str| StoreRecord::measured(label, url, None, None);
        let stores = [
            record("redis", "redis://127.0.0.1:6379"),
            record("none", "none:"),
            record("b", "redis://127.0.0.1:6379/9"),
        ];
        let palette = Palette::of(&stores);
        assert_eq!(palette.hex("redis"), "#d62728");
        assert_eq!(palette.color("none"), of("none"));
        assert_ne!(palette.color("b"), palette.color("redis"));
        assert_eq!(palette.color("unknown"), of("unknown"));
    }
}
