//! Waiting for something to happen: the one poll loop of the tests, bounded like every wait.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// What was awaited did not happen in time. Its `Debug` is its message, so `.unwrap()` says
/// what was awaited and for how long.
pub struct Timeout {
    what: String,
    within: Duration,
    every: Duration,
    tries: u32,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { what, within, every, tries } = self;
        write!(f, "no {what} within {within:?} ({tries} tries, every {every:?})")
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Timeout {}

/// Runs `check` now and then every `every` until it returns `Some`, and returns that value;
/// `Err` when it has not after `within` (the last try is at the deadline). `what` names the
/// awaited event in the error ("recovery within 5 s" reads as `no recovery within 5s`).
pub async fn poll_until<T>(
    what: &str,
    within: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Result<T, Timeout> {
    let deadline = Instant::now() + within;
    let mut tries = 0;
    loop {
        tries += 1;
        if let Some(value) = check().await {
            return Ok(value);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Timeout { what: what.to_string(), within, every, tries });
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}
