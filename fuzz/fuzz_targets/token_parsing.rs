//! Token parsing on untrusted bytes: finding the token in the request headers
//! (`token_from_headers`) and verifying it (`TokenKeys::verify`, HS256 and EdDSA).
//! Any panic is a crash; the only acceptable outcomes are a token or a `TokenError`.
//! The input is used both as a whole token and, split at its first `\n`, as the raw values of
//! an `Authorization` and a `Cookie` header, so one corpus explores both layers.
#![no_main]

use std::sync::LazyLock;

use http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use revbench::server::token_from_headers;
use revbench::token::TokenKeys;

/// A fixed `now` well inside any plausible `exp`, so expiry never hides a deeper path.
const NOW: u64 = 1_700_000_000;

static HS256: LazyLock<TokenKeys> =
    LazyLock::new(|| TokenKeys::hs256(b"fuzzing-secret-that-is-32-bytes!").unwrap());
static EDDSA: LazyLock<TokenKeys> = LazyLock::new(|| TokenKeys::eddsa([7u8; 32]));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        verify_everywhere(text);
    }
    let (authorization, cookie) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let mut headers = HeaderMap::new();
    // Bytes hyper would refuse as header values never reach the server, so skip them here.
    if let Ok(value) = HeaderValue::from_bytes(authorization) {
        headers.insert(header::AUTHORIZATION, value);
    }
    if let Ok(value) = HeaderValue::from_bytes(cookie) {
        headers.insert(header::COOKIE, value);
    }
    if let Ok(token) = token_from_headers(&headers) {
        verify_everywhere(token);
    }
    headers.remove(header::AUTHORIZATION);
    if let Ok(token) = token_from_headers(&headers) {
        verify_everywhere(token);
    }
});

fn verify_everywhere(token: &str) {
    let _ = HS256.verify(token, NOW);
    let _ = EDDSA.verify(token, NOW);
}
