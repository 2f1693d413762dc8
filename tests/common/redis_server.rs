//! A `redis-server` process of the test's own, on a free loopback port, that the test may kill
//! and restart — the shared Redis on 6379 is never touched.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::backend::Backend;

/// Whether the revocations written to it survive a restart of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// No snapshot, no append-only file: a restart starts empty.
    None,
    /// Append-only file, fsynced before each write is answered (`appendfsync always`), so a
    /// `SIGKILL` loses nothing that was acknowledged.
    AppendOnly,
}

/// A running `redis-server`; killed and its data directory removed when dropped.
pub struct RedisServer {
    pub addr: SocketAddr,
    persistence: Persistence,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port, or `None` (printing why) when there is no `redis-server` on
    /// PATH. With `REVBENCH_REQUIRE_REDIS=1` (CI) a missing binary is a failure, not a skip.
    pub fn start(persistence: Persistence) -> Option<Self> {
        if Command::new("redis-server").arg("--version").output().is_err() {
            return Backend::Redis.skip("redis-server not found on PATH (`.ci/run` installs it)");
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir =
            std::env::temp_dir().join(format!("revbench-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server =
            Self { addr: SocketAddr::from(([127, 0, 0, 1], port)), persistence, dir, child: None };
        server.restart();
        Some(server)
    }

    /// The store URL for this server.
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    /// Kills the process with SIGKILL (no chance to save anything) and waits for it to go.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same port and data directory; returns once it accepts
    /// connections. Panics after 5 s.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "kill the server before restarting it");
        let appendonly = match self.persistence {
            Persistence::None => "no",
            Persistence::AppendOnly => "yes",
        };
        let child = Command::new("redis-server")
            .args(["--port", &self.addr.port().to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", appendonly, "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {}", self.addr);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
