//! The fast path for the HS256 tokens this server issues, beside jsonwebtoken's general one.
//!
//! Every protected call verifies a token, and jsonwebtoken's `decode` does more than ours
//! need: it parses the header (a struct with a flattened map) twice, keys a fresh HMAC from
//! the secret, and parses the claims twice — work that would be counted against every store.
//! This path accepts only the exact shape `TokenKeys::sign` produces — our header segment
//! byte for byte, a payload of exactly the four `Claims` fields, a 32-byte signature — and
//! checks the HMAC with a key schedule computed once. It never refuses: whatever it does not
//! accept goes to the full check, which decides as before. Every token it accepts,
//! jsonwebtoken accepts too (see [`Hs256FastPath::verify`]); the tests below compare the two
//! on hostile and mutated inputs, and the fuzz target `token_parsing` feeds it arbitrary ones.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::Claims;
use crate::time::UnixSeconds;

/// Longest decoded payload taken here (ours are ~110 bytes, ~400 with the longest username);
/// a longer one goes to the full check.
const MAX_PAYLOAD_BYTES: usize = 1024;

/// The claims exactly as we issue them: any other field, a duplicate or another type does not
/// parse, and the token goes to the full check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExactClaims {
    sub: String,
    jti: String,
    iat: UnixSeconds,
    exp: UnixSeconds,
}

/// An HS256 key with its HMAC key schedule done once, and the header segment we sign with.
#[derive(Clone)]
pub(super) struct Hs256FastPath {
    /// `base64url(header) + "."`, as `TokenKeys::sign` writes it.
    header_segment: String,
    /// Keyed once: each check clones the state after the key blocks instead of re-keying.
    mac: Hmac<Sha256>,
}

impl Hs256FastPath {
    /// `header_segment` is the first segment of a token signed with `secret`.
    pub(super) fn new(secret: &[u8], header_segment: &str) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        Self { header_segment: format!("{header_segment}."), mac }
    }

    /// The claims of `token` when it has exactly our header, exactly our claims and a valid
    /// signature; `None` otherwise (the caller then runs the full check).
    ///
    /// Why jsonwebtoken accepts every token accepted here: it splits the signature off at the
    /// last `.` and the header off at the last `.` before it — the same three segments, since
    /// neither the payload nor the signature decoded here can contain a `.`; the header is the
    /// one it wrote (alg HS256, the pinned algorithm); it decodes the signature with the same
    /// base64url engine and compares it with HMAC-SHA256 over the same bytes; and a payload of
    /// exactly `sub`, `jti`, `iat`, `exp` (integers) is one its `Claims` accepts, with `exp`
    /// present and no `aud`, `iss`, `nbf` or `sub` rule to break. `exp` against `now` and the
    /// `jti` shape are checked by the caller on either path.
    pub(super) fn verify(&self, token: &str) -> Option<Claims> {
        let rest = token.strip_prefix(self.header_segment.as_str())?;
        let (payload_b64, signature_b64) = rest.rsplit_once('.')?;
        let mut signature = [0u8; 48];
        let signature_len = URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature).ok()?;
        if signature_len != 32 {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update(&token.as_bytes()[..self.header_segment.len() + payload_b64.len()]);
        // Constant-time comparison.
        mac.verify_slice(&signature[..signature_len]).ok()?;
        let mut payload = [0u8; MAX_PAYLOAD_BYTES];
        let payload_len = URL_SAFE_NO_PAD.decode_slice(payload_b64, &mut payload).ok()?;
        let claims: ExactClaims = serde_json::from_slice(&payload[..payload_len]).ok()?;
        Some(Claims { sub: claims.sub, jti: claims.jti, iat: claims.iat, exp: claims.exp })
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use crate::time::now_secs;
    use crate::token::{Claims, TokenKeys};

    const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";
    /// The header `TokenKeys::sign` writes for HS256.
    const OUR_HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

    /// `header.payload.signature` from raw JSON, signed with `secret`.
    fn raw(header: &str, payload: &str, secret: &[u8]) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Claims texts around the shape we issue: reordered, spaced, escaped, extended, retyped,
    /// duplicated.
    fn payloads(now: u64) -> Vec<String> {
        let jti = "0123456789abcdef0123456789abcdef";
        let exp = now + 600;
        let good = format!(r#""sub":"alice","jti":"{jti}","iat":{now},"exp":{exp}"#);
        let mut texts = vec![
            format!("{{{good}}}"),
            format!(r#"{{"exp":{exp},"iat":{now},"jti":"{jti}","sub":"alice"}}"#),
            format!(" {{ {} }} ", good.replace(',', " ,\n ")),
            format!(r#"{{"sub":"\u0061lice","jti":"{jti}","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"al\"ice\\","jti":"{jti}","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"","jti":"{jti}","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","jti":"{}","iat":{now},"exp":{exp}}}"#, jti.to_uppercase()),
            format!(r#"{{"sub":"alice","jti":"xyz","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":{now},"exp":{now}}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":{now}}}"#),
            format!(r#"{{"jti":"{jti}","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":{now},"exp":{exp}.0}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":{now},"exp":{exp}e0}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":-1,"exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","jti":"{jti}","iat":{now},"exp":"{exp}"}}"#),
            format!(r#"{{"sub":5,"jti":"{jti}","iat":{now},"exp":{exp}}}"#),
            format!(r#"{{"exp":1,{good}}}"#),
            format!(r#"{{"sub":"bob",{good}}}"#),
            format!("{{{good}}}x"),
            format!("[{{{good}}}]"),
            "null".to_string(),
            String::new(),
        ];
        for extra in [
            r#""aud":"api""#,
            r#""aud":["api"]"#,
            r#""aud":[]"#,
            r#""aud":5"#,
            r#""aud":null"#,
            r#""iss":"me""#,
            r#""nbf":99999999999"#,
            r#""nbf":"soon""#,
            r#""nbf":-1"#,
            r#""nbf":[1]"#,
            r#""nbf":{"a":1}"#,
            r#""extra":{"deep":[1,2,{"x":null}]}"#,
        ] {
            texts.push(format!("{{{good},{extra}}}"));
            texts.push(format!("{{{extra},{good}}}"));
        }
        texts
    }

    /// Headers around ours: the same fields spaced or reordered, extra fields, other algorithms.
    const HEADERS: &[&str] = &[
        OUR_HEADER,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{ "typ":"JWT","alg":"HS256"}"#,
        r#"{"typ":"JWT","alg":"HS256","kid":"1"}"#,
        r#"{"typ":"JWT","alg":"HS384"}"#,
        r#"{"typ":"JWT","alg":"none"}"#,
        r#"{"typ":"JWT","alg":"HS256","alg":"HS256"}"#,
        r#"{"typ":"JWT"}"#,
    ];

    /// Every claims text under every header, signed with the real secret and another, plus
    /// every one-byte change and every truncation of a valid token.
    fn corpus(keys: &TokenKeys, now: u64) -> Vec<String> {
        let mut tokens = Vec::new();
        for header in HEADERS {
            for payload in payloads(now) {
                tokens.push(raw(header, &payload, SECRET));
                tokens.push(raw(header, &payload, &[9u8; 32]));
            }
        }
        let (good, _) = keys.issue("alice", now, 600);
        for at in 0..good.len() {
            for byte in [b'A', b'B', b'_', b'-', b'.', b'=', b'+', b'/', b' '] {
                let mut bytes = good.clone().into_bytes();
                bytes[at] = byte;
                tokens.push(String::from_utf8(bytes).unwrap());
            }
            tokens.push(good[..at].to_string());
            tokens.push(format!("{}.{}", &good[..at], &good[at..]));
        }
        tokens.push(format!("{good}="));
        tokens.push(format!("{good}.x"));
        tokens.push(good);
        tokens
    }

    /// The fast path takes the tokens we issue and yields their claims.
    #[test]
    fn takes_issued_tokens() {
        let keys = TokenKeys::hs256(SECRET).unwrap();
        let (token, claims) = keys.issue("alice", now_secs(), 60);
        let fast = keys.fast_path.as_ref().expect("HS256 keys have a fast path");
        assert_eq!(fast.verify(&token), Some(claims));
    }

    /// On every input of the corpus, `verify` (fast path first) answers exactly what
    /// jsonwebtoken's full decode answers, and the fast path accepts only what the full
    /// decode accepts.
    #[test]
    fn agrees_with_the_full_check() {
        let keys = TokenKeys::hs256(SECRET).unwrap();
        let fast = keys.fast_path.as_ref().unwrap();
        let now = now_secs();
        let corpus = corpus(&keys, now);
        let (mut taken, mut accepted) = (0, 0);
        for token in &corpus {
            let full = keys.verify_full(token, now);
            assert_eq!(keys.verify(token, now), full, "{token}");
            if let Some(claims) = fast.verify(token) {
                taken += 1;
                // Before the caller's own `exp` and `jti` checks, which both paths share.
                let decoded =
                    jsonwebtoken::decode::<Claims>(token, &keys.decoding, &keys.validation)
                        .unwrap_or_else(|e| {
                            panic!("fast path took what jsonwebtoken refuses ({e}): {token}")
                        });
                assert_eq!(decoded.claims, claims, "{token}");
            }
            accepted += usize::from(full.is_ok());
        }
        assert!(corpus.len() > 1000, "{} inputs", corpus.len());
        assert!(taken >= 5 && accepted >= 5, "fast path took {taken}, {accepted} accepted");
    }
}
