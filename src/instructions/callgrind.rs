//! Counting instructions with valgrind's callgrind: the total of one run of the probe loop,
//! read from callgrind's output file.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

/// The instructions (`Ir`) callgrind counted in `exe instructions loop --store URL --checks N`
/// (every thread, from the first instruction to exit).
pub fn count(exe: &Path, url: &str, checks: u64, scratch: &Path) -> anyhow::Result<u64> {
    let out = scratch.join(format!("callgrind.{checks}.out"));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--quiet")
        .arg(exe)
        .args(["instructions", "loop", "--checks", &checks.to_string()])
        .env(crate::server::command::STORE_ENV, url)
        .status()
        .context("valgrind did not start: install it (apt-get install valgrind)")?;
    if !status.success() {
        bail!("the probe under callgrind failed ({status}) for {checks} checks");
    }
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    total(&text).with_context(|| format!("no `summary:` or `totals:` line in {}", out.display()))
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
    /// The summary line of a callgrind output file gives the instruction count.
    #[test]
    fn reads_the_summary_line() {
        let text = "version: 1\ncmd: x\nevents: Ir\nfl=a\n0 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(super::total(text), Some(123456));
        assert_eq!(super::total("events: Ir\n"), None);
    }
}
