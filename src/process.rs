//! Measuring processes (Linux `/proc`, `getrusage`): resident memory, peak resident memory and
//! CPU time, of this process or a child. Every reader of these numbers goes through here.

use std::time::Duration;

/// Current resident set size of process `pid` (`VmRSS`), in bytes.
pub fn resident_bytes(pid: u32) -> Option<u64> {
    status_field_bytes(pid, "VmRSS:")
}

/// Peak resident set size of process `pid` so far (`VmHWM`), in bytes.
pub fn peak_resident_bytes(pid: u32) -> Option<u64> {
    status_field_bytes(pid, "VmHWM:")
}

/// This process's resident memory from `/proc/self/statm`, after handing freed heap pages back
/// to the OS (glibc keeps them otherwise, and a store's old, resized tables would count).
pub fn own_resident_bytes_trimmed() -> Result<u64, String> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the OS; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
    let statm = std::fs::read_to_string("/proc/self/statm")
        .map_err(|e| format!("/proc/self/statm: {e}"))?;
    let pages = resident_pages(&statm).ok_or_else(|| format!("unreadable statm `{statm}`"))?;
    Ok(pages * page_size())
}

/// CPU time (user + system) process `pid` has used so far, to the nanosecond: its CPU
/// clock (`clock_getcpuclockid`), or `/proc/PID/stat` in clock ticks (10 ms, too coarse to
/// tell 5% of a second's CPU) where that clock cannot be read.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    process_clock(pid).or_else(|| cpu_ticks(pid))
}

/// The process's CPU clock, whole thread group, threads that ended included.
fn process_clock(pid: u32) -> Option<Duration> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: both calls write only into the zeroed values we pass.
    unsafe {
        let mut clock: libc::clockid_t = 0;
        if libc::clock_getcpuclockid(pid, &mut clock) != 0 {
            return None;
        }
        let mut ts: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(clock, &mut ts) != 0 {
            return None;
        }
        Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }
}

/// CPU time from `/proc/PID/stat`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_sec > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_sec as f64))
}

/// CPU time (user + system) this process has used, with microsecond resolution.
pub fn own_cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass and has no other effects.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn status_field_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_field_bytes(&status, field)
}

/// A `VmXXX:   1234 kB` line of `/proc/PID/status`, in bytes.
fn vm_field_bytes(status: &str, field: &str) -> Option<u64> {
    let kb = status.lines().find_map(|l| l.strip_prefix(field))?;
    kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok().map(|kb| kb * 1024)
}

/// The second field of `/proc/self/statm`: resident pages.
fn resident_pages(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

fn page_size() -> u64 {
    // SAFETY: sysconf reads a constant of the running system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VmRSS and VmHWM are read in bytes from the status text, and our own process has them.
    #[test]
    fn reads_vm_fields() {
        let status = "Name:\trevbench\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(vm_field_bytes(status, "VmRSS:"), Some(1024 * 1024));
        assert_eq!(vm_field_bytes(status, "VmHWM:"), Some(2048 * 1024));
        assert_eq!(vm_field_bytes(status, "VmSwap:"), None);
        let me = std::process::id();
        assert!(resident_bytes(me).unwrap() > 0);
        // Resident first: the peak read after it covers it even if memory grows in between
        // (other tests run in this process and allocate meanwhile).
        let resident = resident_bytes(me).unwrap();
        assert!(peak_resident_bytes(me).unwrap() >= resident);
        assert!(own_resident_bytes_trimmed().unwrap() > 0);
    }

    /// statm's resident field is read, and garbage is refused.
    #[test]
    fn reads_statm() {
        assert_eq!(resident_pages("100 25 3 1 0 20 0"), Some(25));
        assert_eq!(resident_pages("garbage"), None);
    }

    /// CPU spent spinning shows up in every reader of our own CPU time (spun by CPU time, not
    /// wall time, so a busy machine cannot starve the test).
    #[test]
    fn reads_cpu_time() {
        let pid = std::process::id();
        let (by_clock, by_stat, by_rusage) =
            (cpu_time(pid).unwrap(), cpu_ticks(pid).unwrap(), own_cpu_time());
        let wall = std::time::Instant::now();
        while own_cpu_time() < by_rusage + Duration::from_millis(60) {
            assert!(wall.elapsed() < Duration::from_secs(30), "no CPU time for 30 s");
        }
        assert!(cpu_time(pid).unwrap() >= by_clock + Duration::from_millis(60));
        // /proc counts in clock ticks (10 ms): allow two of them.
        assert!(cpu_ticks(pid).unwrap() >= by_stat + Duration::from_millis(40));
    }
}
