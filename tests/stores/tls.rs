//! Stores behind TLS and a password, as managed services run them: the shared conformance suite
//! over `rediss://user:password@…` and PostgreSQL with `sslmode=require`, each server's
//! certificate checked against a CA made at test time; a wrong CA is one clear line and exit 2,
//! and the password is never printed.

use crate::common;
use crate::common::conformance::run_all;
use crate::common::tls_servers::TlsServers;
use revbench::revocation::{open, Jti};

fn unique(label: &str) -> String {
    format!("revbench_test_{label}_{}", &Jti::random().to_string()[..12])
}

fn with(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// `rediss://` with a user and password honours the contract, verified against the test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_passes_conformance() {
    let Some(servers) = TlsServers::get_or_skip() else { return };
    let url =
        with(&servers.redis_url, &format!("ca_file={}&prefix={}:", servers.ca_file, unique("tls")));
    let store = open(&url).await.unwrap();
    run_all(store.clone()).await;
    assert!(store.server_version().await.unwrap().starts_with("Redis "));
    store.clear().await.unwrap();
}

/// PostgreSQL with `sslmode=require` and a password honours the contract, verified against the
/// test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_passes_conformance() {
    let Some(servers) = TlsServers::get_or_skip() else { return };
    let url = with(
        &servers.postgres_url,
        &format!("ca_file={}&table={}&pool=2", servers.ca_file, unique("tls")),
    );
    let store = open(&url).await.unwrap();
    run_all(store.clone()).await;
    assert!(store.stats().await.unwrap().entries.unwrap() >= 1000);
}

/// `revbench serve` against either server with a CA that did not sign its certificate exits 2
/// with one line that names the fix, and the password appears nowhere in it.
#[test]
fn a_wrong_ca_is_one_line_and_exit_2() {
    let Some(servers) = TlsServers::get_or_skip() else { return };
    let password = servers.password();
    for url in [&servers.redis_url, &servers.postgres_url] {
        let url = with(url, &format!("ca_file={}", servers.wrong_ca_file));
        let (code, stderr) = serve(&url);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains("UnknownIssuer"), "cause not named: {stderr}");
        assert!(stderr.contains("pass ca_file=PATH"), "fix not named: {stderr}");
        assert!(stderr.contains("revbench:****@"), "{stderr}");
        assert!(!stderr.contains(&password), "password printed: {stderr}");
    }
}

/// Runs `revbench serve --store URL` and returns its exit code and stderr (it must exit).
fn serve(url: &str) -> (Option<i32>, String) {
    common::process::revbench_exit(&["serve", "--addr", "127.0.0.1:0", "--store", url], &[])
}
