//! Group commit for checks: the `EXISTS` of concurrent requests go to Redis as one pipeline.
//!
//! redis-rs's multiplexed connection writes a command as soon as its driver task sees it, and
//! on the server's multi-threaded runtime that task is woken for nearly every check, so
//! concurrent checks cost a write and a cross-thread wake-up each, and Redis reads them a few
//! at a time. Here the first check to find the queue empty spawns a flush
//! task that yields once, so the requests already running on the runtime add their checks,
//! then sends the batch as one pipeline: one write and one round trip for the batch, still
//! one `EXISTS` per check, each answered from its own reply.

use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use tokio::sync::oneshot;

use super::BACKEND;
use crate::lock::MutexExt;
use crate::revocation::{Jti, StoreError};

type Answer = Result<bool, StoreError>;

/// Checks waiting for the next pipeline, and what sends it.
pub(super) struct CheckBatcher {
    conn: ConnectionManager,
    prefix: String,
    // A std Mutex: held only to push or take, never across an await.
    waiting: Mutex<Vec<(Jti, oneshot::Sender<Answer>)>>,
}

impl CheckBatcher {
    pub(super) fn new(conn: ConnectionManager, prefix: String) -> Arc<Self> {
        Arc::new(Self { conn, prefix, waiting: Mutex::new(Vec::new()) })
    }

    /// Whether `jti` has a key, asked in the next pipeline.
    pub(super) async fn is_revoked(self: &Arc<Self>, jti: Jti) -> Answer {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.locked();
            waiting.push((jti, answer));
            waiting.len() == 1
        };
        if first {
            // A task of its own: a request dropped mid-check cannot strand the others.
            tokio::spawn(self.clone().flush());
        }
        answered.await.unwrap_or_else(|_| Err(StoreError::backend(BACKEND, "check lost")))
    }

    async fn flush(self: Arc<Self>) {
        // Runs after the tasks that are ready now, which may queue checks of their own.
        tokio::task::yield_now().await;
        let batch = std::mem::take(&mut *self.waiting.locked());
        let mut pipe = redis::pipe();
        for (jti, _) in &batch {
            pipe.cmd("EXISTS").arg(super::jti_key(&self.prefix, *jti));
        }
        let counts = pipe.query_async::<Vec<u64>>(&mut self.conn.clone()).await;
        match counts {
            Ok(counts) if counts.len() == batch.len() => {
                for ((_, answer), count) in batch.into_iter().zip(counts) {
                    let _ = answer.send(Ok(count > 0));
                }
            }
            Ok(counts) => {
                let message = format!("{} replies to {} checks", counts.len(), batch.len());
                for (_, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(BACKEND, &message)));
                }
            }
            Err(e) => {
                for (_, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(BACKEND, &e)));
                }
            }
        }
    }
}
