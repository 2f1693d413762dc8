//! The machine and software a measurement ran on, recorded beside every number.

use serde::{Deserialize, Serialize};

/// Where and with what a run was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    pub memory_bytes: Option<u64>,
    /// Distribution and kernel, e.g. "Debian GNU/Linux 12 (bookworm), Linux 6.1.0".
    pub os: String,
    pub rustc: String,
    pub revbench_version: String,
    pub git_commit: String,
    /// Free text the caller adds (e.g. "CI runner, 2 vCPU").
    pub note: Option<String>,
    /// `run --target`: the base URLs of the servers measured, which ran elsewhere (credentials
    /// redacted); this machine is then only the load generator's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The load average (1, 5 and 15 minutes, `/proc/loadavg`) when the run started, and
    /// when it finished: how busy the machine was; absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_average: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_average_at_end: Option<String>,
}

impl Environment {
    /// Reads this machine's description (Linux `/proc` and `/etc/os-release`; "unknown"
    /// elsewhere).
    pub fn capture() -> Self {
        Self {
            cpu_model: read("/proc/cpuinfo")
                .and_then(|info| field(&info, "model name"))
                .unwrap_or_else(|| "unknown".to_string()),
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            memory_bytes: read("/proc/meminfo")
                .and_then(|info| field(&info, "MemTotal"))
                .and_then(|kb| kb.trim_end_matches(" kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024),
            os: os_description(),
            rustc: env!("REVBENCH_RUSTC_VERSION").to_string(),
            revbench_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("REVBENCH_GIT_COMMIT").to_string(),
            note: None,
            targets: Vec::new(),
            load_average: load_average(),
            load_average_at_end: None,
        }
    }
}

/// The 1, 5 and 15 minute load averages now (`"1.52 0.98 0.61"`), where `/proc` has them.
pub fn load_average() -> Option<String> {
    let text = read("/proc/loadavg")?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The value of `name: value` (or `name=value`) in a `/proc`-style text.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':').or_else(|| line.split_once('='))?;
        (key.trim() == name).then(|| value.trim().trim_matches('"').to_string())
    })
}

fn os_description() -> String {
    let distro = read("/etc/os-release").and_then(|text| field(&text, "PRETTY_NAME"));
    let kernel = read("/proc/sys/kernel/osrelease").map(|k| format!("Linux {}", k.trim()));
    match (distro, kernel) {
        (Some(d), Some(k)) => format!("{d}, {k}"),
        (Some(d), None) => d,
        (None, Some(k)) => k,
        (None, None) => std::env::consts::OS.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load average is the three figures of `/proc/loadavg`, each a number.
    #[test]
    #[cfg(target_os = "linux")]
    fn load_average_is_three_numbers() {
        let load = load_average().expect("/proc/loadavg is readable on Linux");
        let figures: Vec<f64> = load.split(' ').map(|f| f.parse().unwrap()).collect();
        assert_eq!(figures.len(), 3, "{load}");
        assert!(figures.iter().all(|f| *f >= 0.0), "{load}");
    }

    /// Fields are read from both `key: value` and `KEY="value"` lines.
    #[test]
    fn reads_fields() {
        assert_eq!(field("model name\t: Xeon\nflags: a", "model name").as_deref(), Some("Xeon"));
        assert_eq!(field("PRETTY_NAME=\"Debian 12\"", "PRETTY_NAME").as_deref(), Some("Debian 12"));
        assert_eq!(field("a: 1", "b"), None);
    }

    /// The recorded commit is 12 hex digits, with `-dirty` when the tree had changes not
    /// committed (build.rs), or `unknown` outside a git checkout.
    #[test]
    fn commit_says_whether_the_tree_was_modified() {
        let commit = Environment::capture().git_commit;
        let hash = commit.strip_suffix("-dirty").unwrap_or(&commit);
        let is_hash = hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit());
        assert!(is_hash || commit == "unknown", "{commit}");
    }

    /// The captured environment names this build.
    #[test]
    fn capture_names_this_build() {
        let env = Environment::capture();
        assert!(env.cores >= 1);
        assert_eq!(env.revbench_version, env!("CARGO_PKG_VERSION"));
        assert!(env.rustc.starts_with("rustc"), "{}", env.rustc);
    }
}
