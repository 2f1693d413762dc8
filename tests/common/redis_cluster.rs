//! The Redis Cluster the tests use: `REDIS_CLUSTER_URL` when set (CI sets it), otherwise a
//! local 3-master cluster that `scripts/redis-cluster.sh` starts once and every later call
//! reuses (about 3 s the first time, 10 ms after).

/// The cluster's store URL, or why there is none. With `REVBENCH_REQUIRE_REDIS_CLUSTER=1`
/// (CI) no cluster is a failure, not a skip.
pub fn url() -> Result<String, String> {
    let found = match std::env::var("REDIS_CLUSTER_URL") {
        Ok(url) => Ok(url),
        Err(_) => start_local(),
    };
    if let Err(reason) = &found {
        super::backend::fail_if_required("REVBENCH_REQUIRE_REDIS_CLUSTER", "redis-cluster", reason);
    }
    found
}

/// Starts the local cluster (or finds it running) and returns its URL.
pub fn start_local() -> Result<String, String> {
    super::process::start_script("redis-cluster.sh").map(|url| url.trim().to_string())
}
