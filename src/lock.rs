//! The one way revbench takes a std lock: a poisoned lock is used as it is.
//!
//! A lock is poisoned when a thread panics while holding it. Every critical section in
//! revbench is one small update (a push, a take, an insert, a counter or histogram record, an
//! `Arc` swap) that leaves the data valid if a panic cuts it short, so what a poisoned lock
//! holds is still sound. Panicking again would turn the one panic, already reported where it
//! happened, into a failure of every later caller: every check of a store (a server that
//! answers 503 until restarted), every sample of a measurement.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`Mutex`] access that ignores poisoning (see the module's doc).
pub trait MutexExt<T: ?Sized> {
    /// Locks, even if a panic poisoned the lock.
    fn locked(&self) -> MutexGuard<'_, T>;

    /// The data through `&mut` (no locking needed), even if a panic poisoned the lock.
    fn locked_mut(&mut self) -> &mut T;
}

impl<T: ?Sized> MutexExt<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn locked_mut(&mut self) -> &mut T {
        self.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`RwLock`] access that ignores poisoning (see the module's doc).
pub trait RwLockExt<T: ?Sized> {
    /// Read-locks, even if a panic poisoned the lock.
    fn read_locked(&self) -> RwLockReadGuard<'_, T>;

    /// Write-locks, even if a panic poisoned the lock.
    fn write_locked(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_locked(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock poisoned by a panic while it was held still hands out its data, as it was left.
    #[test]
    fn poisoned_locks_keep_their_data() {
        let mutex = Mutex::new(vec![1]);
        let rwlock = RwLock::new(2);
        let panicked = std::panic::catch_unwind(|| {
            let _guards = (mutex.lock().unwrap(), rwlock.write().unwrap());
            panic!("poison both");
        });
        assert!(panicked.is_err());
        assert!(mutex.is_poisoned() && rwlock.is_poisoned());
        mutex.locked().push(3);
        assert_eq!(*mutex.locked(), [1, 3]);
        *rwlock.write_locked() += 1;
        assert_eq!(*rwlock.read_locked(), 3);
        let mut mutex = mutex;
        assert_eq!(mutex.locked_mut().len(), 2);
    }
}
