//! `--pin`: keep the servers and the load client on separate CPUs, so they do not steal each
//! other's time slices.

use tokio::process::Command;

/// The placement `--pin` uses on this machine: servers on the last CPU, the client on the
/// others. `None` when there is only one CPU.
pub fn split_cpus() -> Option<(Vec<usize>, Vec<usize>)> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (cpus >= 2).then(|| ((cpus - 1..cpus).collect(), (0..cpus - 1).collect()))
}

#[cfg(target_os = "linux")]
fn set_affinity(pid: libc::pid_t, cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is a plain bit set; zeroed is the empty set, filled by CPU_SET.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in cpus {
            libc::CPU_SET(*cpu, &mut set);
        }
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Makes the spawned process (and every thread it starts) run only on `cpus`.
pub fn pin_command(cmd: &mut Command, cpus: Vec<usize>) {
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs between fork and exec and only calls sched_setaffinity, which
    // is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || set_affinity(0, &cpus));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (cmd, cpus);
}

/// Pins every thread of this process to `cpus`; threads started later inherit it.
pub fn pin_this_process(cpus: &[usize]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    for task in std::fs::read_dir("/proc/self/task")? {
        let tid = task?.file_name().to_string_lossy().parse::<libc::pid_t>().unwrap_or(0);
        set_affinity(tid, cpus)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpus;
    Ok(())
}
