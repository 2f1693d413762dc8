//! The per-user cut-off ("log out everywhere") over real HTTP: `cutoff:` in-process and
//! `cutoff+redis://` against the real Redis (a key prefix of its own, removed).

use std::sync::Arc;
use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::{client, login, me, TestServer};
use revbench::revocation::{namespaced, open, CutoffStore, Jti, RevocationStore, SharedStore};

async fn logout(http: &reqwest::Client, server: &TestServer, token: &str) -> u16 {
    let response = http.post(server.url("/logout")).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

/// The Redis variant in a prefix of its own, or `None` (skipped, printed).
async fn redis_cutoff() -> Option<SharedStore> {
    let redis = require_or_skip(Backend::Redis).await?;
    Some(open(&namespaced(&format!("cutoff+{redis}"), "test_cutoff").unwrap()).await.unwrap())
}

/// A logout refuses every token the user held (issued up to then), not other users' tokens;
/// logging in again in the same second gives a working token.
async fn logs_out_everywhere(store: SharedStore) {
    let server = TestServer::start(store.clone()).await;
    let http = client();
    let (phone, laptop) =
        (login(&http, &server, "alice").await, login(&http, &server, "alice").await);
    let bob = login(&http, &server, "bob").await;
    assert_eq!(logout(&http, &server, &phone).await, 204);
    assert_eq!(me(&http, &server, &phone).await.0, 401, "the logged-out token");
    assert_eq!(me(&http, &server, &laptop).await.0, 401, "alice's other token");
    assert_eq!(me(&http, &server, &bob).await.0, 200, "another user's token");
    let again = login(&http, &server, "alice").await;
    assert_eq!(me(&http, &server, &again).await.0, 200, "a login right after the logout");
}

/// `cutoff:` logs a user out everywhere on this server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_cutoff_logs_out_everywhere() {
    logs_out_everywhere(Arc::new(CutoffStore::default())).await;
}

/// `cutoff+redis://` logs a user out everywhere, on every server sharing the Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cutoff_logs_out_everywhere_across_servers() {
    let Some(store) = redis_cutoff().await else { return };
    logs_out_everywhere(store.clone()).await;
    let (a, b) = (TestServer::start(store.clone()).await, TestServer::start(store.clone()).await);
    let http = client();
    let token = login(&http, &a, "carol").await;
    assert_eq!(logout(&http, &a, &token).await, 204);
    assert_eq!(me(&http, &b, &token).await.0, 401, "the other server refuses it at once");
    store.destroy().await.unwrap();
}

/// One entry per user who logged out, however many tokens they held and logged out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_count_users_not_tokens() {
    let store: SharedStore = Arc::new(CutoffStore::default());
    let server = TestServer::start(store.clone()).await;
    let http = client();
    for user in ["u1", "u2", "u3"] {
        for _ in 0..20 {
            let token = login(&http, &server, user).await;
            assert_eq!(logout(&http, &server, &token).await, 204);
        }
    }
    assert_eq!(store.stats().await.unwrap().entries, Some(3));
}

/// A cut-off stops counting once every token it refuses has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cutoff_ends_with_the_tokens_it_refuses() {
    use revbench::revocation::TokenFacts;
    let store = CutoffStore::default();
    let now = revbench::time::now_secs();
    let token = TokenFacts { jti: Jti::random(), sub: "dave", iat: now, exp: now + 1 };
    store.log_out(token).await.unwrap();
    assert!(store.is_refused(token).await.unwrap());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(!store.is_refused(token).await.unwrap(), "kept past not_before + lifetime");
}
