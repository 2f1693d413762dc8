//! The Redis Cluster the tests use: `REDIS_CLUSTER_URL` when set (CI sets it), otherwise a
//! local 3-master cluster that `scripts/redis-cluster.sh` starts once and every later call
//! reuses (about 3 s the first time, 10 ms after).

use std::process::Command;

/// The cluster's store URL, or why there is none. With `REVBENCH_REQUIRE_REDIS_CLUSTER=1`
/// (CI) no cluster is a failure, not a skip.
pub fn url() -> Result<String, String> {
    let found = match std::env::var("REDIS_CLUSTER_URL") {
        Ok(url) => Ok(url),
        Err(_) => start_local(),
    };
    if let Err(reason) = &found {
        if std::env::var("REVBENCH_REQUIRE_REDIS_CLUSTER").is_ok_and(|v| v == "1") {
            panic!("REVBENCH_REQUIRE_REDIS_CLUSTER=1 but {reason}");
        }
    }
    found
}

/// Starts the local cluster (or finds it running) and returns its URL.
pub fn start_local() -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster.sh");
    let output = Command::new("bash")
        .args([script, "start"])
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{script} start failed: {}", stderr.trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
