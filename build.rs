//! Records the compiler and git commit, so every results file says what produced it. A tree
//! with changes not committed is recorded as `<commit>-dirty`: its figures are not the
//! commit's.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".to_string());
    let commit = match output("git", &["rev-parse", "--short=12", "HEAD"]) {
        // Tracked files changed, or files git does not ignore added: either may be built in.
        Some(commit) => match output("git", &["status", "--porcelain"]) {
            Some(changes) if changes.is_empty() => commit,
            Some(_) => format!("{commit}-dirty"),
            None => format!("{commit}-unknown-state"),
        },
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=REVBENCH_RUSTC_VERSION={version}");
    println!("cargo:rustc-env=REVBENCH_GIT_COMMIT={commit}");
    // Rerun when a commit is made or checked out (HEAD, the index, the refs; in a worktree
    // `.git` is a file, so ask git where they are) and when any file of the build changes,
    // since that may make the tree dirty or clean again.
    for (flag, file) in
        [("--git-dir", "HEAD"), ("--git-dir", "index"), ("--git-common-dir", "refs")]
    {
        if let Some(dir) = output("git", &["rev-parse", flag]) {
            println!("cargo:rerun-if-changed={dir}/{file}");
        }
    }
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src", "benches", "tests", "scenarios"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
