//! A Linux `timerfd`, registered with the current runtime's reactor: an hrtimer without timer
//! slack whose expiry makes the fd readable, which wakes the reactor (epoll) on the spot.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

/// One-shot timer; [`TimerFd::arm`] replaces whatever it was armed for.
pub(super) struct TimerFd(AsyncFd<Fd>);

struct Fd(OwnedFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl TimerFd {
    /// A new timer, registered with the current runtime's reactor (call inside a runtime).
    pub(super) fn new() -> io::Result<Self> {
        // SAFETY: timerfd_create takes no pointers; a negative result is an error, otherwise
        // we own the new descriptor and wrap it at once so it is closed on every path.
        let fd = unsafe {
            libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let fd = Fd(unsafe { OwnedFd::from_raw_fd(fd) });
        // SAFETY: `Fd` owns its descriptor, always returns that one, and closes it only when
        // dropped with the `AsyncFd`.
        Ok(Self(unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? }))
    }

    /// Arms the timer to expire at `at` (at once if `at` has passed). Reprogramming a timer is
    /// the expensive part of a sleep (on a VM, an exit to the hypervisor): call it only when the
    /// earliest deadline changes.
    pub(super) fn arm(&self, at: Instant) -> io::Result<()> {
        let delay = at.saturating_duration_since(Instant::now()).max(Duration::from_nanos(1));
        let value = libc::timespec {
            tv_sec: delay.as_secs() as libc::time_t,
            tv_nsec: delay.subsec_nanos() as libc::c_long,
        };
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let spec = libc::itimerspec { it_interval: zero, it_value: value };
        // SAFETY: `spec` lives across the call; a null old-value pointer is allowed.
        if unsafe { libc::timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } < 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits until the timer has expired since it was last read, and reads it.
    pub(super) async fn expired(&self) -> io::Result<()> {
        loop {
            let mut ready = self.0.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into the 8-byte buffer.
            let read = unsafe {
                libc::read(ready.get_inner().as_raw_fd(), expirations.as_mut_ptr().cast(), 8)
            };
            let error = (read != 8).then(io::Error::last_os_error);
            // One-shot: not readable again until it is armed and expires again (a readiness
            // event after the one this guard saw is kept).
            ready.clear_ready();
            match error {
                None => return Ok(()),
                Some(error) if error.kind() != io::ErrorKind::WouldBlock => return Err(error),
                Some(_) => {}
            }
        }
    }
}
