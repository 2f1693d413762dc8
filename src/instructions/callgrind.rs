//! Counting instructions with valgrind's callgrind: the total of one run of the probe loop,
//! read from callgrind's output file.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The instructions (`Ir`) callgrind counted in `exe instructions loop --store URL --checks N`
/// (every thread, from the first instruction to exit).
pub fn count(exe: &Path, url: &str, checks: u64, scratch: &Path) -> anyhow::Result<u64> {
    let out = scratch.join(format!("callgrind.{checks}.out"));
    let mut child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--quiet")
        .arg(exe)
        .args(["instructions", "loop", "--checks", &checks.to_string()])
        .env(crate::server::command::STORE_ENV, url)
        .spawn()
        .context("valgrind did not start: install it (apt-get install valgrind)")?;
    let status = wait_at_most(&mut child, DEADLINE)?
        .with_context(|| format!("the probe under callgrind took over {DEADLINE:?}: stopped"))?;
    if !status.success() {
        bail!("the probe under callgrind failed ({status}) for {checks} checks");
    }
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    total(&text).with_context(|| format!("no `summary:` or `totals:` line in {}", out.display()))
}

/// The longest one count may take: a probe of 10,000 checks takes seconds under callgrind,
/// so a count still running after this is stuck (e.g. its store stopped answering).
const DEADLINE: Duration = Duration::from_secs(600);

/// The child's exit status, or `None` (the child killed and reaped) if it runs past `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> anyhow::Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The first event count of the `summary:` (or `totals:`) line: instructions, callgrind's
/// default and first event.
pub fn total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A child past its limit is killed and reported as such; one that ends in time gives its
    /// status.
    #[test]
    fn a_stuck_child_is_stopped_at_its_deadline() {
        let mut stuck = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let started = std::time::Instant::now();
        let status = super::wait_at_most(&mut stuck, Duration::from_millis(200)).unwrap();
        assert!(status.is_none());
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let mut quick = std::process::Command::new("true").spawn().unwrap();
        let status = super::wait_at_most(&mut quick, Duration::from_secs(10)).unwrap();
        assert!(status.is_some_and(|s| s.success()));
    }

    /// The summary line of a callgrind output file gives the instruction count.
    #[test]
    fn reads_the_summary_line() {
        let text = "version: 1\ncmd: x\nevents: Ir\nfl=a\n0 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(super::total(text), Some(123456));
        assert_eq!(super::total("events: Ir\n"), None);
    }
}
