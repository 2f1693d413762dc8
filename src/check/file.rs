//! A TOML file of thresholds (`revbench check --thresholds slo.toml`), each with the store and
//! scenario it applies to:
//!
//! ```toml
//! [[threshold]]
//! rule = "p99 < 2ms"
//! scenario = "single-user"   # optional: only this scenario
//! store = "redis"            # optional: only this store (its label)
//!
//! [[threshold]]
//! rule = "leak == 0"
//! ```

use std::path::Path;

use anyhow::{anyhow, Context};
use serde::Deserialize;

use super::{threshold, Scoped};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    threshold: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    store: Option<String>,
    scenario: Option<String>,
}

/// The thresholds of the file at `path`.
pub fn read(path: &Path) -> anyhow::Result<Vec<Scoped>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The thresholds of a file's text; errors name the entry and show the format.
pub fn parse(text: &str) -> Result<Vec<Scoped>, String> {
    let file: File = toml::from_str(text).map_err(|e| {
        format!("{} (write [[threshold]] entries with rule = \"p99 < 2ms\" and optional store and scenario)", e.message().trim())
    })?;
    file.threshold
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let threshold =
                threshold::parse(&e.rule).map_err(|err| format!("threshold {}: {err}", i + 1))?;
            Ok(Scoped { threshold, store: e.store, scenario: e.scenario })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries parse with their scope; a bad rule or an unknown key names the fix.
    #[test]
    fn entries_parse_with_their_scope() {
        let text = "[[threshold]]\nrule = 'p99 < 2ms'\nstore = 'redis'\n\n[[threshold]]\nrule = 'leak == 0'\nscenario = 'logout-replay'\n";
        let all = parse(text).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].threshold.value, all[0].store.as_deref()), (2000.0, Some("redis")));
        assert_eq!(
            (all[1].store.as_deref(), all[1].scenario.as_deref()),
            (None, Some("logout-replay"))
        );
        let bad = parse("[[threshold]]\nrule = 'p98 < 2ms'\n").unwrap_err();
        assert!(bad.starts_with("threshold 1:") && bad.contains("not a metric"), "{bad}");
        let unknown = parse("[[threshold]]\nrule = 'p99 < 2ms'\nstores = 'x'\n").unwrap_err();
        assert!(
            unknown.contains("unknown field") && unknown.contains("[[threshold]]"),
            "{unknown}"
        );
    }
}
