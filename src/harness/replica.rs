//! Reference server replicas as separate `revbench serve` processes on free loopback ports.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::server::{Listening, StatsResponse};

/// How long a replica may take to print its address and answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a replica may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How to start each replica.
#[derive(Debug, Clone)]
pub struct ReplicaSpec {
    /// The `revbench` executable.
    pub exe: PathBuf,
    pub store_url: String,
    pub token_ttl: Duration,
    /// Shared by every replica so a token issued by one verifies on the others.
    pub jwt_secret: String,
    pub inject_latency: Option<Duration>,
    /// CPU work per check (`serve --inject-work`).
    pub inject_work: Option<Duration>,
    pub fail_open: bool,
    /// CPUs the servers may run on (`--pin`), or `None` for anywhere.
    pub cpus: Option<Vec<usize>>,
    /// The token each replica's `/stats` requires (random per run, see
    /// [`crate::harness::output::shared_secret`]).
    pub admin_token: String,
}

#[derive(Debug, Error)]
pub enum ReplicaError {
    #[error("cannot start `{exe} serve`: {reason}")]
    Spawn { exe: String, reason: String },
    #[error("replica for {} did not come up: {reason}", crate::redact::redact(.store))]
    NotReady { store: String, reason: String },
}

/// One running replica; it ends when this handle is dropped, and when this process ends
/// however it ends (its standard input is a pipe from here).
pub struct Replica {
    /// Holds the write end of the replica's standard input.
    child: Child,
    pub base_url: String,
    pub pid: u32,
    /// What the server said when it started listening (its store, any prefill facts).
    pub listening: Listening,
    /// The token its `/stats` requires.
    pub admin_token: String,
}

impl ReplicaSpec {
    /// Starts one replica and waits until `/healthz` answers 200.
    pub async fn start(&self, http: &reqwest::Client) -> Result<Replica, ReplicaError> {
        self.start_with_args(http, &[], START_TIMEOUT).await
    }

    /// [`ReplicaSpec::start`] with more `serve` arguments (e.g. `--prefill N`, which fills
    /// before listening and so needs a longer `start_timeout` to print its address).
    pub async fn start_with_args(
        &self,
        http: &reqwest::Client,
        extra_args: &[String],
        start_timeout: Duration,
    ) -> Result<Replica, ReplicaError> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("serve")
            // Through the environment: arguments are visible to every local user (`ps`).
            .env(crate::server::command::STORE_ENV, &self.store_url)
            .args(["--addr", "127.0.0.1:0"])
            .arg("--token-ttl")
            .arg(format!("{}s", self.token_ttl.as_secs().max(1)))
            .env(crate::token::SECRET_ENV, &self.jwt_secret)
            .env(crate::server::admin::ADMIN_TOKEN_ENV, &self.admin_token)
            // The replica stops when this pipe closes: when the child handle is dropped, or
            // when this process ends in any way (the kernel closes its end).
            .arg("--exit-with-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .args(extra_args)
            .kill_on_drop(true);
        if let Some(delay) = self.inject_latency {
            cmd.arg("--inject-latency").arg(format!("{}us", delay.as_micros()));
        }
        if let Some(work) = self.inject_work {
            cmd.arg("--inject-work").arg(format!("{}ns", work.as_nanos()));
        }
        if self.fail_open {
            cmd.arg("--fail-open");
        }
        if let Some(cpus) = &self.cpus {
            crate::harness::pinning::pin_command(&mut cmd, cpus.clone());
        }
        let mut child = cmd.spawn().map_err(|e| ReplicaError::Spawn {
            exe: self.exe.display().to_string(),
            reason: e.to_string(),
        })?;
        let not_ready =
            |reason: String| ReplicaError::NotReady { store: self.store_url.clone(), reason };
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(start_timeout, lines.next_line())
            .await
            .map_err(|_| {
                not_ready(format!("no address printed within {} s", start_timeout.as_secs()))
            })?
            .map_err(|e| not_ready(e.to_string()))?
            .ok_or_else(|| {
                not_ready("it exited before listening (see its error above)".to_string())
            })?;
        let listening: Listening = line.parse().map_err(|e| not_ready(format!("{e}")))?;
        let base_url = listening.base_url();
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let pid = child.id().unwrap_or(0);
        let admin_token = self.admin_token.clone();
        let replica = Replica { child, base_url, pid, listening, admin_token };
        replica.wait_healthy(http).await.map_err(not_ready)?;
        Ok(replica)
    }
}

impl Replica {
    async fn wait_healthy(&self, http: &reqwest::Client) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            match http.get(format!("{}/healthz", self.base_url)).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => last = format!("/healthz answered {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("not healthy within 15 s: {last}"))
    }

    /// The replica's `/stats`, with the store's size read now (a keyspace walk for a shared
    /// store, at most one a second: `growth` samples with it).
    pub async fn stats(&self, http: &reqwest::Client) -> Option<StatsResponse> {
        super::remote::stats(http, &self.base_url, Some(&self.admin_token), true).await.ok()
    }

    /// Peak resident set size so far (`VmHWM`).
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        crate::process::peak_resident_bytes(self.pid)
    }

    /// CPU time (user + system) the replica has used so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::process::cpu_time(self.pid)
    }

    /// SIGTERM (graceful shutdown), then SIGKILL if it has not exited in time.
    pub async fn stop(mut self) {
        #[cfg(unix)]
        if self.pid != 0 {
            // SAFETY: sending a signal to our own child's pid has no memory-safety effects.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
