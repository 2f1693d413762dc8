//! A `revbench run` killed with SIGKILL in mid-measurement leaves no `revbench serve` running.

use std::process::Stdio;
use std::time::Duration;

use crate::common::poll::poll_until;
use crate::common::run::RunArgs;

/// Pids of the live processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat_of(pid).is_some_and(|(state, ppid)| state != 'Z' && ppid == parent))
        .collect()
}

/// State and parent pid of `pid`, from `/proc/PID/stat`.
fn stat_of(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// A process that exited but was not reaped yet (a zombie) counts as ended.
fn running(pid: u32) -> bool {
    stat_of(pid).is_some_and(|(state, _)| state != 'Z')
}

/// Is `pid` a `revbench serve`?
fn is_serve(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == b"serve"))
}

/// SIGKILL to a `revbench run` while it measures: its `revbench serve` replicas end by
/// themselves within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_no_server_running() {
    let out = std::env::temp_dir().join(format!("revbench-killed-{}", std::process::id()));
    let args =
        RunArgs::short(&out).stores("memory:").scenario("replicas").duration("60s").no_report();
    let mut run = tokio::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let run_pid = run.id().unwrap();
    let every = Duration::from_millis(100);
    let servers = || children_of(run_pid).into_iter().filter(|&p| is_serve(p)).collect::<Vec<_>>();
    let started = async || (!servers().is_empty()).then_some(());
    poll_until("a replica", Duration::from_secs(20), every, started).await.unwrap();
    // In the measured window (after the warm-up), with load running.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let servers = servers();
    assert!(run.try_wait().unwrap().is_none(), "the run ended before it was killed");
    assert!(!servers.is_empty(), "no replica running when the run was killed");
    run.start_kill().unwrap();
    run.wait().await.unwrap();
    let killed = std::time::Instant::now();
    let gone = async || servers.iter().all(|&pid| !running(pid)).then_some(());
    let ended = poll_until("end of every replica", Duration::from_secs(10), every, gone).await;
    println!("{} replicas ended {:?} after the run was killed", servers.len(), killed.elapsed());
    let _ = std::fs::remove_dir_all(out);
    if ended.is_err() {
        for &pid in &servers {
            // SAFETY: a signal to a replica this test's run started (checked just above).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
    ended.unwrap();
}
