//! The loop counted under callgrind: `checks` revocation checks of one token, each the
//! server's own check path ([`AppState::authenticate`]: the token found in the request's
//! headers, verified, and the store asked), one after another on this thread.

use std::hint::black_box;

use axum::http::{header, HeaderMap, HeaderValue};

use crate::revocation;
use crate::server::{AppState, ServerConfig};
use crate::time::now_secs;
use crate::token::TokenKeys;

/// Test knob: this many extra steps of `--inject-work`'s hash loop per check, so a test can make
/// a candidate that does a known amount of extra work (`docs/ci.md`). Never set in use.
pub const EXTRA_WORK_ENV: &str = "REVBENCH_INSTRUCTIONS_EXTRA_WORK";

/// Runs `checks` checks against the store at `url`; fails if one is refused.
pub async fn run(url: &str, checks: u64) -> anyhow::Result<()> {
    let store = revocation::open(url).await?;
    // A fixed key and subject: the same token bytes (but `iat`/`exp`) in every count.
    let keys = TokenKeys::hs256(&[7u8; 32])?;
    let state = AppState::new(store, keys, ServerConfig::default());
    let (token, _) = state.keys.issue("instructions", now_secs(), 3600);
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?);
    let extra: u64 = std::env::var(EXTRA_WORK_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    for _ in 0..checks {
        let caller = state.authenticate(black_box(&headers)).await;
        anyhow::ensure!(caller.is_ok(), "a live token was refused: {:?}", caller.err());
        crate::injected_work::spin(extra);
    }
    Ok(())
}
