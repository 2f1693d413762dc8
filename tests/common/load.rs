//! Closed-loop load on `GET /api/me` with a mix of live and revoked tokens, every request
//! recorded with its start and end instants so a test can judge each one by when it ran.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::TestServer;

/// Whether the token a request carried had been revoked before the load started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Live,
    Revoked,
}

/// One request: when it was sent, when its answer came, and the status (0: no HTTP answer).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub kind: TokenKind,
    pub start: Instant,
    pub end: Instant,
    pub status: u16,
}

/// Workers sending requests back to back until [`Load::stop`].
pub struct Load {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` workers; worker `i` alternates between live and revoked tokens.
    pub fn start(server: &TestServer, workers: usize, live: &[String], revoked: &[String]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut tokens: Vec<(TokenKind, String)> = Vec::new();
        tokens.extend(live.iter().map(|t| (TokenKind::Live, t.clone())));
        tokens.extend(revoked.iter().map(|t| (TokenKind::Revoked, t.clone())));
        let workers = (0..workers)
            .map(|worker| {
                let (stop, samples, tokens) = (stop.clone(), samples.clone(), tokens.clone());
                let url = server.url("/api/me");
                tokio::spawn(async move {
                    // Short timeout: a request must never outlive the outage it measures.
                    let client =
                        reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
                    let mut next = worker;
                    while !stop.load(Ordering::Relaxed) {
                        let (kind, token) = &tokens[next % tokens.len()];
                        next += 1;
                        let start = Instant::now();
                        let status = match client.get(&url).bearer_auth(token).send().await {
                            Ok(response) => response.status().as_u16(),
                            Err(_) => 0,
                        };
                        let sample = Sample { kind: *kind, start, end: Instant::now(), status };
                        samples.lock().unwrap().push(sample);
                    }
                })
            })
            .collect();
        Self { stop, samples, workers }
    }

    /// The samples recorded so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().unwrap().clone()
    }

    /// Stops the workers, waits for their last requests, and returns every sample.
    pub async fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.unwrap();
        }
        let samples = self.samples.lock().unwrap().clone();
        samples
    }
}
