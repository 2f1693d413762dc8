//! Group commit for checks: the check commands of concurrent requests (`EXISTS` for
//! `redis://`, a script call for `redis+buckets://`) go to Redis as one pipeline.
//!
//! redis-rs's multiplexed connection writes a command as soon as its driver task sees it, and
//! on the server's multi-threaded runtime that task is woken for nearly every check, so
//! concurrent checks cost a write and a cross-thread wake-up each, and Redis reads them a few
//! at a time. Here the first check to find the queue empty spawns a flush
//! task that yields once, so the requests already running on the runtime add their checks,
//! then sends the batch as one pipeline: one write and one round trip for the batch, still
//! one command per check, each answered from its own reply (an integer, non-zero for
//! "revoked").

use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use tokio::sync::oneshot;

use crate::lock::MutexExt;
use crate::revocation::{Jti, StoreError};
use crate::time::UnixSeconds;

type Answer = Result<bool, StoreError>;

/// The command that checks one token, added to a pipeline; `retry` is set when the first
/// attempt failed with `NOSCRIPT` (the server lost its script cache), so a script is sent
/// whole (`EVAL`) rather than by its digest.
pub(crate) type CheckCommand =
    Box<dyn Fn(&mut redis::Pipeline, Jti, UnixSeconds, bool) + Send + Sync>;

/// Checks waiting for the next pipeline, and what sends it.
pub(crate) struct CheckBatcher {
    conn: ConnectionManager,
    backend: &'static str,
    command: CheckCommand,
    // A std Mutex: held only to push or take, never across an await.
    waiting: Mutex<Vec<(Jti, UnixSeconds, oneshot::Sender<Answer>)>>,
}

impl CheckBatcher {
    pub(crate) fn new(
        conn: ConnectionManager,
        backend: &'static str,
        command: CheckCommand,
    ) -> Arc<Self> {
        Arc::new(Self { conn, backend, command, waiting: Mutex::new(Vec::new()) })
    }

    /// Whether the token `jti` (expiring at `exp`) is revoked, asked in the next pipeline.
    pub(crate) async fn is_revoked(self: &Arc<Self>, jti: Jti, exp: UnixSeconds) -> Answer {
        let backend = self.backend;
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.locked();
            waiting.push((jti, exp, answer));
            waiting.len() == 1
        };
        if first {
            // A task of its own: a request dropped mid-check cannot strand the others.
            tokio::spawn(self.clone().flush());
        }
        answered.await.unwrap_or_else(|_| Err(StoreError::backend(backend, "check lost")))
    }

    async fn flush(self: Arc<Self>) {
        // Runs after the tasks that are ready now, which may queue checks of their own.
        tokio::task::yield_now().await;
        let batch = std::mem::take(&mut *self.waiting.locked());
        let mut counts = self.send(&batch, false).await;
        if matches!(&counts, Err(e) if is_noscript(e)) {
            counts = self.send(&batch, true).await;
        }
        let backend = self.backend;
        match counts {
            Ok(counts) if counts.len() == batch.len() => {
                for ((_, _, answer), count) in batch.into_iter().zip(counts) {
                    let _ = answer.send(Ok(count > 0));
                }
            }
            Ok(counts) => {
                let message = format!("{} replies to {} checks", counts.len(), batch.len());
                for (_, _, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(backend, &message)));
                }
            }
            Err(e) => {
                for (_, _, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(backend, &e)));
                }
            }
        }
    }

    async fn send(
        &self,
        batch: &[(Jti, UnixSeconds, oneshot::Sender<Answer>)],
        retry: bool,
    ) -> redis::RedisResult<Vec<u64>> {
        let mut pipe = redis::pipe();
        for &(jti, exp, _) in batch {
            (self.command)(&mut pipe, jti, exp, retry);
        }
        pipe.query_async::<Vec<u64>>(&mut self.conn.clone()).await
    }
}

/// Whether the server answered `NOSCRIPT` (it lost its script cache: a restart, `SCRIPT FLUSH`).
pub(crate) fn is_noscript(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
        || e.code() == Some("NOSCRIPT")
}
