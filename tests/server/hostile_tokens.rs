//! A corpus of hostile credentials sent to `GET /api/me` on a running server: each one gets a
//! 401 with a JSON error (or, for oversized heads, a 431), none is accepted, none reaches the
//! store, and the server keeps serving. Many are signed with the server's real secret so that
//! the claim checks, not only the signature check, are what refuses them.

use crate::common;
use crate::common::{client, login, TestServer, TEST_SECRET};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use revbench::revocation::open;
use revbench::server::{ServerConfig, StatsResponse, MAX_HEADER_BYTES};
use revbench::time::now_secs;
use revbench::token::TokenKeys;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One hostile request: a name for the report, and the headers it carries.
struct Hostile {
    name: &'static str,
    headers: Vec<(&'static str, Vec<u8>)>,
}

fn bearer(name: &'static str, token: impl Into<String>) -> Hostile {
    let value = format!("Bearer {}", token.into()).into_bytes();
    Hostile { name, headers: vec![("authorization", value)] }
}

fn header(name: &'static str, header: &'static str, value: impl Into<Vec<u8>>) -> Hostile {
    Hostile { name, headers: vec![(header, value.into())] }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.payload.signature` from raw JSON texts, HMAC-SHA256-signed with `secret`: lets a
/// test sign what no `Claims` struct can express (duplicate keys, wrong types).
fn hs256_raw(header: &str, payload: &str, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let key = EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256)
        .expect("HMAC signing cannot fail");
    format!("{signing_input}.{signature}")
}

const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A payload with every claim well formed, for cases that break one other thing.
fn good_payload() -> String {
    let now = now_secs();
    format!(r#"{{"sub":"mallory","jti":"{}","iat":{now},"exp":{}}}"#, "a".repeat(32), now + 600)
}

/// The payload with `claim` replaced by raw JSON `value` (or removed when `None`).
fn payload_with(claim: &str, value: Option<&str>) -> String {
    let mut claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&good_payload()).unwrap();
    claims.remove(claim);
    let mut text = serde_json::Value::Object(claims).to_string();
    if let Some(value) = value {
        text.insert_str(1, &format!(r#""{claim}":{value},"#));
    }
    text
}

/// Signed with the server's own secret: only the claims are wrong.
fn signed(payload: &str) -> String {
    hs256_raw(HS256_HEADER, payload, TEST_SECRET)
}

fn flip_byte(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// Inputs aimed at an HS256 server: header shapes, token structure, algorithms, claims, sizes.
fn hs256_corpus(good: &str) -> Vec<Hostile> {
    let now = now_secs();
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let other_secret = TokenKeys::hs256(&[9u8; 32]).unwrap().issue("mallory", now, 60).0;
    let none =
        |alg: &str| format!("{}.{}.", b64(format!(r#"{{"alg":"{alg}"}}"#)), b64(good_payload()));
    vec![
        // Header shapes.
        Hostile { name: "no credentials at all", headers: vec![] },
        header("empty Authorization", "authorization", ""),
        header("whitespace Authorization", "authorization", "   \t "),
        header("`Bearer` with no token", "authorization", "Bearer"),
        header("`Bearer` and spaces", "authorization", "Bearer      "),
        header("Basic credentials", "authorization", "Basic bWFsbG9yeTpzZWNyZXQ="),
        header("token without a scheme", "authorization", good.to_string()),
        header("non-ASCII Authorization", "authorization", b"Bearer \xff\xfe.\x80.\x81".to_vec()),
        header("empty token cookie", "cookie", "token="),
        header("garbage token cookie", "cookie", "token=garbage; other=1"),
        Hostile {
            name: "forged Authorization before a valid one",
            headers: vec![
                ("authorization", format!("Bearer {other_secret}").into_bytes()),
                ("authorization", format!("Bearer {good}").into_bytes()),
            ],
        },
        // Structure and encoding.
        bearer("one segment", "eyJhbGciOiJIUzI1NiJ9"),
        bearer("two segments", format!("{head}.{payload}")),
        bearer("four segments", format!("{good}.{signature}")),
        bearer("three empty segments", ".."),
        bearer("invalid base64", "!!!.@@@.###"),
        bearer("padded base64", format!("{head}==.{payload}.{signature}")),
        bearer(
            "standard-alphabet base64",
            format!("{}.{payload}.{signature}", STANDARD.encode("{\"alg\":\"HS256\"}>?")),
        ),
        bearer("space inside the token", format!("{head}. {payload}.{signature}")),
        bearer("header JSON is an array", signed_with_header("[]")),
        bearer("header JSON is a string", signed_with_header(r#""HS256""#)),
        bearer("header is not JSON", signed_with_header("hello")),
        bearer("payload is an array", signed("[1,2]")),
        bearer("payload is null", signed("null")),
        bearer("payload is a number", signed("42")),
        bearer("payload is not JSON", signed("{sub:mallory")),
        // Algorithms.
        bearer("alg none", none("none")),
        bearer("alg None", none("None")),
        bearer("alg NONE", none("NONE")),
        bearer(
            "alg none with a valid HS256 signature",
            format!("{}.{payload}.{signature}", b64(r#"{"alg":"none"}"#)),
        ),
        bearer("alg HS512 signed with the real secret", hs512(&good_payload())),
        bearer("no alg in the header", hs256_raw(r#"{"typ":"JWT"}"#, &good_payload(), TEST_SECRET)),
        // Key ids that a key-file or key-table lookup would trust, each signed with the key
        // such a lookup would find.
        bearer(
            "kid path traversal, empty key",
            hs256_raw(r#"{"alg":"HS256","kid":"../../../../../dev/null"}"#, &good_payload(), b""),
        ),
        bearer(
            "kid SQL injection",
            hs256_raw(r#"{"alg":"HS256","kid":"x' UNION SELECT 'k'-- "}"#, &good_payload(), b"k"),
        ),
        bearer(
            "jku pointing elsewhere",
            hs256_raw(
                r#"{"alg":"HS256","jku":"http://attacker.example/jwks"}"#,
                &good_payload(),
                b"attacker",
            ),
        ),
        // exp.
        bearer(
            "exp as a string",
            signed(&payload_with("exp", Some(&format!("\"{}\"", now + 600)))),
        ),
        bearer("exp negative", signed(&payload_with("exp", Some("-1")))),
        bearer("exp zero", signed(&payload_with("exp", Some("0")))),
        bearer("exp past u64", signed(&payload_with("exp", Some("18446744073709551616")))),
        bearer("exp a float", signed(&payload_with("exp", Some("1e300")))),
        bearer("exp null", signed(&payload_with("exp", Some("null")))),
        bearer("exp missing", signed(&payload_with("exp", None))),
        bearer("exp just passed", signed(&payload_with("exp", Some(&now.to_string())))),
        bearer(
            "exp far future, other secret",
            hs256_raw(HS256_HEADER, &payload_with("exp", Some("99999999999")), &[9u8; 32]),
        ),
        // jti.
        bearer("jti missing", signed(&payload_with("jti", None))),
        bearer("jti a number", signed(&payload_with("jti", Some("12345")))),
        bearer(
            "jti 10 KB",
            signed(&payload_with("jti", Some(&format!("\"{}\"", "a".repeat(10 * 1024))))),
        ),
        bearer(
            "jti not hex",
            signed(&payload_with("jti", Some(&format!("\"{}\"", "z".repeat(32))))),
        ),
        bearer(
            "jti SQL",
            signed(&payload_with("jti", Some(r#""'; DROP TABLE revoked_tokens; --""#))),
        ),
        bearer("sub missing", signed(&payload_with("sub", None))),
        // Duplicates: a parser that keeps the first or the last key would disagree with a
        // proxy that keeps the other.
        bearer("duplicate exp claims", signed(&format!(r#"{{"exp":1,{}"#, &good_payload()[1..]))),
        bearer(
            "duplicate jti claims",
            signed(&format!(r#"{{"jti":"{}",{}"#, "b".repeat(32), &good_payload()[1..])),
        ),
        bearer(
            "duplicate alg in the header",
            hs256_raw(r#"{"alg":"HS512","alg":"HS256"}"#, &good_payload(), TEST_SECRET),
        ),
        // Signatures and keys.
        bearer("flipped first signature byte", flip_byte(good, head.len() + payload.len() + 2)),
        bearer("flipped last signature byte", flip_byte(good, good.len() - 2)),
        bearer("truncated signature", &good[..good.len() - 1]),
        bearer("signature removed", format!("{head}.{payload}.")),
        bearer("token from another secret", other_secret),
        bearer(
            "EdDSA token at an HS256 server",
            TokenKeys::eddsa_random().issue("mallory", now, 60).0,
        ),
        // Size: over MAX_TOKEN_BYTES but well inside the header limit.
        bearer("5 KB token", format!("{good}{}", "A".repeat(5 * 1024))),
    ]
}

fn signed_with_header(header: &str) -> String {
    hs256_raw(header, &good_payload(), TEST_SECRET)
}

fn hs512(payload: &str) -> String {
    let signing_input = format!("{}.{}", b64(r#"{"alg":"HS512"}"#), b64(payload));
    let key = EncodingKey::from_secret(TEST_SECRET);
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS512).unwrap();
    format!("{signing_input}.{signature}")
}

/// Sends `hostile` and asserts a JSON refusal with `expected` status; returns the message.
async fn assert_refused(server: &TestServer, hostile: &Hostile, expected: u16) -> String {
    let mut request = client().get(server.url("/api/me"));
    for (name, value) in &hostile.headers {
        let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{}: {e}", hostile.name));
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert_eq!(status, expected, "{}: {body}", hostile.name);
    let message = body["error"].as_str().unwrap_or_else(|| panic!("{}: {body}", hostile.name));
    message.to_string()
}

/// The server's counters, to show hostile input never reached the store.
async fn stats(server: &TestServer) -> StatsResponse {
    crate::common::stats(&client(), server).await
}

/// Every input of the HS256 corpus gets a 401 JSON error, never reaches the store, and the
/// server answers a valid token after each one.
#[tokio::test]
async fn hs256_server_refuses_every_hostile_token() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let good = login(&client(), &server, "alice").await;
    let corpus = hs256_corpus(&good);
    assert!(corpus.len() >= 40, "the corpus has {} inputs", corpus.len());
    for hostile in &corpus {
        let message = assert_refused(&server, hostile, 401).await;
        println!("401 {:<45} {message}", hostile.name);
        assert_eq!(common::me(&client(), &server, &good).await.0, 200, "after {}", hostile.name);
    }
    // Only the valid token after each input was checked against the store.
    assert_eq!(stats(&server).await.counters.checks, corpus.len() as u64);
}

/// An EdDSA server refuses HS256 tokens made with its public key (key confusion), tokens that
/// carry their own key, and tokens of other key pairs.
#[tokio::test]
async fn eddsa_server_refuses_key_confusion() {
    let seed = [3u8; 32];
    let keys = TokenKeys::eddsa(seed);
    let store = open("memory:").await.unwrap();
    let server = TestServer::start_with_keys(store, ServerConfig::default(), keys).await;
    let good = login(&client(), &server, "alice").await;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let public_raw = public.to_bytes();
    // SubjectPublicKeyInfo for Ed25519 (RFC 8410 §4): a fixed prefix, then the 32 key bytes.
    let mut public_der =
        vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    public_der.extend_from_slice(&public_raw);
    let public_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(&public_der)
    );
    let (_, good_payload_b64) = good.split_once('.').unwrap();
    let good_payload_b64 = good_payload_b64.split_once('.').unwrap().0;
    let real_payload =
        String::from_utf8(URL_SAFE_NO_PAD.decode(good_payload_b64).unwrap()).unwrap();
    let attacker = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]);
    let attacker_x = b64(attacker.verifying_key().to_bytes());
    let embedded_jwk =
        format!(r#"{{"alg":"EdDSA","jwk":{{"kty":"OKP","crv":"Ed25519","x":"{attacker_x}"}}}}"#);
    let corpus = vec![
        bearer(
            "HS256 keyed with the raw public key",
            hs256_raw(HS256_HEADER, &real_payload, &public_raw),
        ),
        bearer(
            "HS256 keyed with the DER public key",
            hs256_raw(HS256_HEADER, &real_payload, &public_der),
        ),
        bearer(
            "HS256 keyed with the PEM public key",
            hs256_raw(HS256_HEADER, &real_payload, public_pem.as_bytes()),
        ),
        bearer("alg EdDSA over an HMAC signature", {
            let token = hs256_raw(HS256_HEADER, &real_payload, &public_raw);
            let (_, rest) = token.split_once('.').unwrap();
            format!("{}.{rest}", b64(r#"{"alg":"EdDSA"}"#))
        }),
        bearer(
            "EdDSA with an embedded attacker jwk",
            eddsa_raw(&embedded_jwk, &real_payload, &attacker),
        ),
        bearer(
            "EdDSA from another key pair",
            eddsa_raw(r#"{"alg":"EdDSA"}"#, &real_payload, &attacker),
        ),
        bearer(
            "HS256 token of the test secret",
            hs256_raw(HS256_HEADER, &real_payload, TEST_SECRET),
        ),
    ];
    for hostile in &corpus {
        let message = assert_refused(&server, hostile, 401).await;
        println!("401 {:<45} {message}", hostile.name);
    }
    assert_eq!(common::me(&client(), &server, &good).await.0, 200, "still serving");
    assert_eq!(stats(&server).await.counters.checks, 1, "no hostile token reached the store");
}

fn eddsa_raw(header: &str, payload: &str, key: &ed25519_dalek::SigningKey) -> String {
    use ed25519_dalek::Signer;
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    format!("{signing_input}.{}", b64(key.sign(signing_input.as_bytes()).to_bytes()))
}

/// Heads over MAX_HEADER_BYTES get a JSON 431 from the server; a 1 MB header is refused by
/// hyper itself (bare 431 or a closed connection) before any handler runs. Never a 200, and
/// the server keeps serving.
#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let good = login(&client(), &server, "alice").await;
    let padded = |bytes: usize| format!("{good}{}", "A".repeat(bytes));
    let twenty_kb = bearer("20 KB Authorization", padded(20 * 1024));
    let message = assert_refused(&server, &twenty_kb, 431).await;
    assert!(message.contains(&MAX_HEADER_BYTES.to_string()), "{message}");

    let outcome = raw_get_me(&server, &padded(1024 * 1024)).await;
    println!("1 MB Authorization header: {outcome}");
    assert!(
        outcome.starts_with("HTTP/1.1 431") || outcome.starts_with("connection closed"),
        "{outcome}"
    );
    assert_eq!(common::me(&client(), &server, &good).await.0, 200, "still serving");
}

/// Writes `GET /api/me` with `token` over a raw socket and describes what came back: the
/// status line, or how the connection ended. reqwest would hide a reset behind a generic error.
async fn raw_get_me(server: &TestServer, token: &str) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET /api/me HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\r\n");
    // The server may stop reading and close mid-write; what it answered (if anything) is
    // still read below.
    let written = stream.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut response))
            .await
            .expect("the server answers or closes within 5 s");
    match (response.is_empty(), written, read) {
        (false, _, _) => String::from_utf8_lossy(&response).lines().next().unwrap().to_string(),
        (true, Err(e), _) | (true, Ok(()), Err(e)) => format!("connection closed ({e})"),
        (true, Ok(()), Ok(_)) => "connection closed (no response)".to_string(),
    }
}

/// Malformed bodies and wrong content types on /login and /revoke get 4xx with a JSON error.
#[tokio::test]
async fn malformed_login_and_revoke_bodies_get_4xx_json() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let big_json = format!(r#"{{"username":"{}"}}"#, "a".repeat(20 * 1024));
    let big_form = format!("token={}", "a".repeat(20 * 1024));
    let long_name = format!(r#"{{"username":"{}"}}"#, "a".repeat(300));
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, Option<&str>, String, u16)> = vec![
        ("/login", Some(json), "{not json".into(), 400),
        ("/login", Some(json), "".into(), 400),
        ("/login", Some(json), "[]".into(), 422),
        ("/login", Some(json), r#""alice""#.into(), 422),
        ("/login", Some(json), r#"{"username": 5}"#.into(), 422),
        ("/login", Some(json), r#"{"username": "   "}"#.into(), 400),
        ("/login", Some(json), long_name, 400),
        ("/login", Some(json), big_json, 413),
        ("/login", Some("text/plain"), r#"{"username":"alice"}"#.into(), 415),
        ("/login", Some(form), "username=alice".into(), 415),
        ("/login", None, r#"{"username":"alice"}"#.into(), 415),
        ("/revoke", Some(json), r#"{"token":"abc"}"#.into(), 415),
        ("/revoke", None, "token=abc".into(), 415),
        ("/revoke", Some(form), "".into(), 400),
        ("/revoke", Some(form), "other=1".into(), 400),
        ("/revoke", Some(form), big_form, 413),
    ];
    for (path, content_type, body, expected) in cases {
        let mut request = client().post(server.url(path)).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let json: serde_json::Value = response.json().await.unwrap_or_default();
        let shown = &body[..body.len().min(40)];
        assert_eq!(status, expected, "{path} {content_type:?} {shown}: {json}");
        assert!(json["error"].is_string(), "{path} {shown}: {json}");
    }
}
