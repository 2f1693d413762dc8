//! The background sweep of an in-process store: a thread that calls `sweep` every interval.
//! It holds the store's state weakly, so it ends at its next wake-up once the store is dropped;
//! dropping the [`Sweeper`] wakes it at once.

use std::sync::{Arc, Weak};
use std::thread::{self, Thread};
use std::time::Duration;

/// A running sweep thread; dropping this handle lets it end.
pub struct Sweeper(Thread);

impl Sweeper {
    /// Starts `name`'s thread, calling `sweep(&shared)` every `interval` while `shared` lives.
    pub fn spawn<S: Send + Sync + 'static>(
        name: &str,
        shared: &Arc<S>,
        interval: Duration,
        sweep: fn(&S),
    ) -> Self {
        let weak: Weak<S> = Arc::downgrade(shared);
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || loop {
                thread::park_timeout(interval);
                let Some(shared) = weak.upgrade() else { return };
                sweep(&shared);
            })
            .expect("the OS can start one more thread");
        Self(thread.thread().clone())
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        // Wake the thread so it notices the store is gone without waiting out its interval.
        self.0.unpark();
    }
}
