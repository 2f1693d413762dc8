//! One timer per runtime serving every sleep on it: a heap of deadlines, the timer armed only
//! when the earliest deadline changes, and one expiry waking every waiter that is due.
//!
//! Arming a timer and taking its interrupt are the expensive part of a short sleep (measured
//! on this project's 2-vCPU VM: ~10 µs of CPU to arm and disarm a 25 µs timerfd, ~14 µs for a
//! whole sleep on one), so a timer per sleep costs as much as a whole `none:` request. Here
//! many sleepers share one expiry, and waiters that are due are also woken by the next sleep
//! to register, so a busy server often wakes them before their timer fires.

use std::cmp::Ordering as Order;
use std::collections::BinaryHeap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::Waker;

use tokio::runtime::{Handle, Id};
use tokio::time::Instant;

use super::timer_fd::TimerFd;

/// The deadlines of one runtime's sleeps and the timer that serves them.
pub(super) struct Deadlines {
    timer: TimerFd,
    // A std Mutex: held for a heap operation and at most one syscall, never across an await.
    state: Mutex<State>,
    /// False once the task serving the timer has ended (its runtime shut down, or the timer
    /// failed): sleeps then fall back to tokio's timer.
    serving: AtomicBool,
    /// How many times the timer was armed (the costly call this design keeps rare).
    arms: AtomicU64,
}

#[derive(Default)]
struct State {
    waiting: BinaryHeap<Waiter>,
    /// What the timer is armed for, until its expiry is read.
    armed: Option<Instant>,
}

struct Waiter {
    at: Instant,
    waker: Waker,
}

// Ordered by deadline, earliest first (BinaryHeap is a max-heap).
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Order {
        other.at.cmp(&self.at)
    }
}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Waiter {}

impl State {
    /// Removes every waiter due at `now` into `due`.
    fn take_due(&mut self, now: Instant, due: &mut Vec<Waker>) {
        while self.waiting.peek().is_some_and(|w| w.at <= now) {
            due.extend(self.waiting.pop().map(|w| w.waker));
        }
    }
}

impl Deadlines {
    /// The current runtime's deadlines, started on first use; `None` outside a runtime or if
    /// no timer can be made (e.g. out of file descriptors).
    pub(super) fn current() -> Option<Arc<Self>> {
        let runtime = Handle::try_current().ok()?;
        let id = runtime.id();
        let cached = CURRENT.with(|current| {
            current
                .borrow()
                .as_ref()
                .filter(|(of, d)| *of == id && d.serving())
                .map(|(_, d)| d.clone())
        });
        if cached.is_some() {
            return cached;
        }
        let deadlines = Self::of_runtime(&runtime, id)?;
        CURRENT.with(|current| *current.borrow_mut() = Some((id, deadlines.clone())));
        Some(deadlines)
    }

    /// The runtime's deadlines shared by its threads, or new ones served by a task on it.
    fn of_runtime(runtime: &Handle, id: Id) -> Option<Arc<Self>> {
        let mut all = ALL.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|(_, d)| d.upgrade().is_some_and(|d| d.serving()));
        if let Some(found) = all.iter().find(|(of, _)| *of == id).and_then(|(_, d)| d.upgrade()) {
            return Some(found);
        }
        let deadlines = Arc::new(Self {
            timer: TimerFd::new().ok()?,
            state: Mutex::default(),
            serving: AtomicBool::new(true),
            arms: AtomicU64::new(0),
        });
        all.push((id, Arc::downgrade(&deadlines)));
        runtime.spawn(deadlines.clone().serve());
        Some(deadlines)
    }

    pub(super) fn serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// Wakes `waker` at `at` or later. Also wakes every waiter already due, and arms the timer
    /// only if `at` is earlier than what it is armed for.
    pub(super) fn wake_at(&self, at: Instant, waker: Waker) -> io::Result<()> {
        let mut due = Vec::new();
        let armed = {
            let mut state = self.lock();
            state.take_due(Instant::now(), &mut due);
            state.waiting.push(Waiter { at, waker });
            if state.armed.is_none_or(|armed| at < armed) {
                state.armed = Some(at);
                self.arm(at)
            } else {
                Ok(())
            }
        };
        due.into_iter().for_each(Waker::wake);
        armed
    }

    /// Each expiry wakes every waiter due and arms the timer for the next deadline. Ends when
    /// its runtime drops it, or on a timer error (waking every waiter, which then fall back).
    async fn serve(self: Arc<Self>) {
        let _stopped = Stopped(&self);
        loop {
            let expired = self.timer.expired().await;
            let mut due = Vec::new();
            let armed = {
                let mut state = self.lock();
                state.armed = None;
                state.take_due(Instant::now(), &mut due);
                match state.waiting.peek().map(|w| w.at) {
                    Some(next) if expired.is_ok() => {
                        state.armed = Some(next);
                        self.arm(next)
                    }
                    _ => Ok(()),
                }
            };
            due.into_iter().for_each(Waker::wake);
            if expired.is_err() || armed.is_err() {
                return;
            }
        }
    }

    fn arm(&self, at: Instant) -> io::Result<()> {
        self.arms.fetch_add(1, Ordering::Relaxed);
        self.timer.arm(at)
    }

    /// How many times the timer was armed so far.
    #[cfg(test)]
    pub(super) fn arms(&self) -> u64 {
        self.arms.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks the deadlines no longer served and wakes every waiter (they fall back to tokio's
/// timer), however the serving task ends.
struct Stopped<'a>(&'a Deadlines);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.serving.store(false, Ordering::Release);
        let waiting = std::mem::take(&mut self.0.lock().waiting);
        waiting.into_iter().for_each(|w| w.waker.wake());
    }
}

thread_local! {
    /// The deadlines this thread used last, with their runtime: a lookup without the lock.
    static CURRENT: std::cell::RefCell<Option<(Id, Arc<Deadlines>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Every runtime's deadlines (weak: they live as long as the task serving them).
static ALL: Mutex<Vec<(Id, Weak<Deadlines>)>> = Mutex::new(Vec::new());
