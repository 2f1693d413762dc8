//! A Redis and a PostgreSQL that require TLS and a password, certificates generated on first
//! use by `scripts/tls-servers.sh` (reused by later calls while they answer).

use std::collections::HashMap;

use super::backend::skip_unless_required;

/// Where the TLS servers are and which CA files to try.
pub struct TlsServers {
    /// `rediss://revbench:PASSWORD@127.0.0.1:PORT/0`
    pub redis_url: String,
    /// `postgres://revbench:PASSWORD@127.0.0.1:PORT/postgres?sslmode=require`
    pub postgres_url: String,
    /// The CA that signed both servers' certificates.
    pub ca_file: String,
    /// A CA that signed nothing here.
    pub wrong_ca_file: String,
}

impl TlsServers {
    /// Starts them (or finds them running), or skips (`None`, printing why) when they cannot
    /// start; with `REVBENCH_REQUIRE_TLS=1` (CI) that is a failure instead.
    pub fn get_or_skip() -> Option<Self> {
        // The tests of one binary run in parallel: one start at a time, or two would race to
        // make the same certificates and data directory.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        start().map_or_else(
            |reason| skip_unless_required("REVBENCH_REQUIRE_TLS", "the TLS servers", &reason),
            Some,
        )
    }

    /// The password both servers require (for checking it is never printed).
    pub fn password(&self) -> String {
        let url = url::Url::parse(&self.redis_url).unwrap();
        url.password().unwrap().to_string()
    }
}

fn start() -> Result<TlsServers, String> {
    let script = "scripts/tls-servers.sh";
    let stdout = super::process::start_script("tls-servers.sh")?;
    let values: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |key: &str| {
        values.get(key).map(|v| v.to_string()).ok_or(format!("{script} printed no {key}"))
    };
    Ok(TlsServers {
        redis_url: get("redis_url")?,
        postgres_url: get("postgres_url")?,
        ca_file: get("ca_file")?,
        wrong_ca_file: get("wrong_ca_file")?,
    })
}
