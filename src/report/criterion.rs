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

#[cfg(test)]
mod tests {
    use super::*;

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
