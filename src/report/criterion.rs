//! Reads criterion's saved estimates (`target/criterion/**/new/`) for the microbenchmark
//! table: median check latency by benchmark id.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One criterion benchmark's median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroResult {
    /// Full id, e.g. `is_revoked/redis/100000/miss`.
    pub id: String,
    pub median_ns: f64,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: Estimate,
}

/// Every benchmark under `dir`, sorted by id; empty when there is none.
pub fn read_all(dir: &Path) -> Vec<MicroResult> {
    let mut found = Vec::new();
    visit(dir, &mut found, 0);
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

fn visit(dir: &Path, found: &mut Vec<MicroResult>, depth: usize) {
    // criterion nests ids at most a few levels deep; the bound keeps a stray symlink loop out.
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(result) = read_one(&path) {
                found.push(result);
            }
        } else if path.file_name().is_some_and(|n| n != "report" && n != "base") {
            visit(&path, found, depth + 1);
        }
    }
}

fn read_one(dir: &Path) -> Option<MicroResult> {
    let bench: BenchmarkJson =
        serde_json::from_str(&std::fs::read_to_string(dir.join("benchmark.json")).ok()?).ok()?;
    let estimates: EstimatesJson =
        serde_json::from_str(&std::fs::read_to_string(dir.join("estimates.json")).ok()?).ok()?;
    Some(MicroResult { id: bench.full_id, median_ns: estimates.median.point_estimate })
}

/// Parses `is_revoked/<store>/<size>/<hit|miss>` and `reference/hashset/<size>/<hit|miss>`
/// into (store, entries, kind); sizes may be written `1000`, `100k` or `1M`.
pub fn micro_point(id: &str) -> Option<(String, u64, &str)> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.as_slice() {
        ["is_revoked", store, size, kind] => Some((store.to_string(), parse_size(size)?, kind)),
        ["reference", "hashset", size, kind] => {
            Some(("hashset".to_string(), parse_size(size)?, kind))
        }
        ["reference", "hashset", size] => Some(("hashset".to_string(), parse_size(size)?, "miss")),
        _ => None,
    }
}

/// `1000`, `100k`, `1M` → entries.
fn parse_size(raw: &str) -> Option<u64> {
    let (digits, factor) = match raw.strip_suffix('k') {
        Some(d) => (d, 1_000),
        None => match raw.strip_suffix('M') {
            Some(d) => (d, 1_000_000),
            None => (raw, 1),
        },
    };
    digits.parse::<u64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Benchmark ids give their store, size and kind; sizes may carry a `k` or `M` suffix.
    #[test]
    fn reads_benchmark_ids() {
        assert_eq!(parse_size("100k"), Some(100_000));
        assert_eq!(parse_size("1M"), Some(1_000_000));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("x"), None);
        assert_eq!(
            micro_point("is_revoked/redis/100k/hit"),
            Some(("redis".into(), 100_000, "hit"))
        );
        assert_eq!(
            micro_point("reference/hashset/1M"),
            Some(("hashset".into(), 1_000_000, "miss"))
        );
        assert_eq!(micro_point("is_revoked/redis/many/hit"), None);
    }

    /// Benchmarks are found at any depth; `base` copies and broken files are ignored.
    #[test]
    fn reads_nested_estimates() {
        let root = std::env::temp_dir()
            .join(format!("revbench-criterion-{}", crate::revocation::Jti::random()));
        let write = |rel: &str, id: &str, median: f64| {
            let dir = root.join(rel);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("benchmark.json"), format!(r#"{{"full_id":"{id}"}}"#)).unwrap();
            std::fs::write(
                dir.join("estimates.json"),
                format!(r#"{{"median":{{"point_estimate":{median}}}}}"#),
            )
            .unwrap();
        };
        write("is_revoked/redis/1000/miss/new", "is_revoked/redis/1000/miss", 52000.0);
        write("reference/hashset/1000/new", "reference/hashset/1000", 20.5);
        write("reference/hashset/1000/base", "ignored", 1.0);
        std::fs::create_dir_all(root.join("broken/new")).unwrap();
        let found = read_all(&root);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].id, "is_revoked/redis/1000/miss");
        assert_eq!(found[1].median_ns, 20.5);
        let _ = std::fs::remove_dir_all(root);
    }
}
