//! Group commit for checks: the check commands of concurrent requests (`EXISTS` for
//! `redis://`, `HMGET` or a script call for `redis+buckets://`) go to Redis as one pipeline.
//!
//! redis-rs's multiplexed connection writes a command as soon as its driver task sees it, and
//! on the server's multi-threaded runtime that task is woken for nearly every check, so
//! concurrent checks cost a write and a cross-thread wake-up each, and Redis reads them a few
//! at a time. Here the first check to find the queue empty spawns a flush
//! task that yields once, so the requests already running on the runtime add their checks,
//! then sends the batch as one pipeline: one write and one round trip for the batch, still
//! the same commands per check, each check answered from its own replies.

use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use redis::Value;
use tokio::sync::oneshot;

use crate::lock::MutexExt;
use crate::revocation::StoreError;

/// What a store sends for one check and how it reads the replies: the batcher knows neither.
pub(crate) trait CheckPlan: Send + Sync + 'static {
    /// One check's question, queued until its pipeline goes.
    type Query: Send + Sync + 'static;
    /// What the replies say.
    type Answer: Send + 'static;

    /// Adds the query's commands to `pipe`; `whole` is set when the first attempt failed with
    /// `NOSCRIPT` (the server lost its script cache), so a script is sent whole (`EVAL`)
    /// rather than by its digest.
    fn add(&self, pipe: &mut redis::Pipeline, query: &Self::Query, whole: bool);

    /// Reads the replies to the commands [`CheckPlan::add`] added for `query`, in order.
    fn read(&self, query: &Self::Query, replies: &[Value]) -> Result<Self::Answer, String>;
}

type Reply<P> = Result<<P as CheckPlan>::Answer, StoreError>;
type Waiting<P> = Vec<(<P as CheckPlan>::Query, oneshot::Sender<Reply<P>>)>;

/// Checks waiting for the next pipeline, and what sends it.
pub(crate) struct CheckBatcher<P: CheckPlan> {
    conn: ConnectionManager,
    backend: &'static str,
    plan: P,
    // A std Mutex: held only to push or take, never across an await.
    waiting: Mutex<Waiting<P>>,
}

impl<P: CheckPlan> CheckBatcher<P> {
    pub(crate) fn new(conn: ConnectionManager, backend: &'static str, plan: P) -> Arc<Self> {
        Arc::new(Self { conn, backend, plan, waiting: Mutex::new(Vec::new()) })
    }

    /// The answer to `query`, asked in the next pipeline.
    pub(crate) async fn ask(self: &Arc<Self>, query: P::Query) -> Reply<P> {
        let backend = self.backend;
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.locked();
            waiting.push((query, answer));
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
        let mut sent = self.send(&batch, false).await;
        if matches!(&sent, Err(e) if is_noscript(e)) {
            sent = self.send(&batch, true).await;
        }
        let backend = self.backend;
        match sent {
            Ok((counts, replies)) if counts.iter().sum::<usize>() == replies.len() => {
                let mut rest = replies.as_slice();
                for ((query, answer), count) in batch.into_iter().zip(counts) {
                    let (own, next) = rest.split_at(count);
                    rest = next;
                    let read = self.plan.read(&query, own);
                    let _ = answer.send(read.map_err(|e| StoreError::backend(backend, e)));
                }
            }
            Ok((counts, replies)) => {
                let message = format!(
                    "{} replies to {} commands",
                    replies.len(),
                    counts.iter().sum::<usize>()
                );
                for (_, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(backend, &message)));
                }
            }
            Err(e) => {
                for (_, answer) in batch {
                    let _ = answer.send(Err(StoreError::backend(backend, &e)));
                }
            }
        }
    }

    /// Sends the batch; returns how many commands each check added, and every reply.
    async fn send(
        &self,
        batch: &Waiting<P>,
        whole: bool,
    ) -> redis::RedisResult<(Vec<usize>, Vec<Value>)> {
        let mut pipe = redis::pipe();
        let counts = batch
            .iter()
            .map(|(query, _)| {
                let before = pipe.len();
                self.plan.add(&mut pipe, query, whole);
                pipe.len() - before
            })
            .collect();
        let replies = pipe.query_async::<Vec<Value>>(&mut self.conn.clone()).await?;
        Ok((counts, replies))
    }
}

/// Whether the server answered `NOSCRIPT` (it lost its script cache: a restart, `SCRIPT FLUSH`).
pub(crate) fn is_noscript(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
        || e.code() == Some("NOSCRIPT")
}
