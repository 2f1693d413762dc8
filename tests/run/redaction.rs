//! Passwords in store URLs are never shown or stored: not in errors, on the terminal, in
//! `results.json` or in the reports. The URLs carry a password the servers here do not need
//! (PostgreSQL trusts local connections) or refuse (no such Redis user), so both the
//! measured and the skipped paths are exercised.

use std::process::{Command, Stdio};

use crate::common::backend::{require_or_skip, Backend};
use crate::common::run::RunArgs;

const SECRET: &str = "hunter2-do-not-print";

fn revbench(args: &[&str]) -> (bool, String) {
    revbench_with(args, &[])
}

/// Runs revbench with `args` and extra environment; its success and everything it printed.
fn revbench_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("revbench runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A store that cannot be opened is reported with its URL redacted.
#[test]
fn errors_show_no_password() {
    // Nothing listens on port 1; the error names the URL it could not reach.
    let url = format!("redis://nobody:{SECRET}@127.0.0.1:1/0");
    let (ok, text) = revbench(&["footprint", "--store", &url, "--entries", "10"]);
    assert!(!ok, "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("nobody:****@127.0.0.1:1"), "{text}");
    let (ok, text) = revbench(&["serve", "--store", &format!("postgres://u:{SECRET}@[::1")]);
    assert!(!ok, "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

/// A run with a measured store and a skipped one, both with passwords, given in
/// `REVBENCH_STORES` (which keeps them off the process list), writes none of them to the
/// terminal, results.json, report.md or report.html.
#[tokio::test]
async fn run_stores_no_password() {
    let Some(postgres) = require_or_skip(Backend::Postgres).await else { return };
    let mut postgres = url::Url::parse(&postgres).unwrap();
    postgres.set_password(Some(SECRET)).unwrap();
    let skipped = format!("redis://nobody:{SECRET}@127.0.0.1:1/0");
    let stores = format!("{postgres},{skipped}");
    let out = std::env::temp_dir().join(format!("revbench-redact-{}", std::process::id()));
    let run = RunArgs::short(&out).scenario("check-only");
    let (ok, text) = revbench_with(&run.args(), &[("REVBENCH_STORES", &stores)]);
    assert!(ok, "{text}");
    assert!(!text.contains(SECRET), "terminal: {text}");
    assert!(text.contains("nobody:****@"), "the skipped store is named: {text}");
    for file in ["results.json", "report.md", "report.html"] {
        let written = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!written.contains(SECRET), "{file}: {written}");
        assert!(written.contains(":****@"), "{file} names the stores, redacted");
    }
    // Exactly the two stores named in REVBENCH_STORES, not the default list.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let names: Vec<&str> =
        results["stores"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    // Labels name the skipped store by its port, never by its password.
    assert_eq!(names, ["postgres", "redis:1"], "{text}");
    let _ = std::fs::remove_dir_all(&out);
}
