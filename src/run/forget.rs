//! What a measurement's load revoked, noted as it happens and removed once the measurement is
//! over, for a store kept filled across measurements ([`super::measure::StoreState::Kept`], a
//! `revoked=` sweep's shared store): every round then starts from the prefill alone.
//!
//! Every logout the harness sends (the load's steps, the replay-window probes, the restart
//! scenario's copies, warm-up included) is noted before it is sent, as the `(jti, exp)` its
//! token carries: a logout whose answer was lost may still have reached the store. The
//! harness reads the claims of tokens its own servers issued, without checking their
//! signature: a token it could not read is counted, not guessed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine;
use serde::Deserialize;

use crate::harness::Target;
use crate::jti::Jti;
use crate::lock::MutexExt;
use crate::results::LoadForgotten;
use crate::time::UnixSeconds;

/// Most logouts noted per measurement: 2 M entries of 32 bytes (64 MiB), many times what a
/// round of minutes at thousands of logouts per second adds. Past it, logouts are counted as
/// missed, and their entries stay in the store (reported).
pub const MAX_NOTED: usize = 2_000_000;

/// The logouts of one measurement; it notes nothing unless made with [`LoggedOut::noting`]
/// (then a logout costs the harness one decode of its token's claims).
#[derive(Default)]
pub struct LoggedOut {
    noting: bool,
    // A std Mutex: held for one push, never across an await.
    entries: Mutex<Vec<(Jti, UnixSeconds)>>,
    /// Logouts not noted: past [`MAX_NOTED`], or a token whose claims could not be read.
    missed: AtomicU64,
}

impl LoggedOut {
    /// A journal that notes every logout.
    pub fn noting() -> Self {
        Self { noting: true, ..Self::default() }
    }

    /// Notes the entry a logout of `token` puts in the store; call it before sending the
    /// logout.
    pub fn note(&self, token: &str) {
        if !self.noting {
            return;
        }
        let claims = claims_of(token);
        let mut entries = self.entries.locked();
        match claims {
            Some(entry) if entries.len() < MAX_NOTED => entries.push(entry),
            _ => {
                self.missed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Takes what was noted out: the entries, and how many logouts were missed.
    fn take(&self) -> (Vec<(Jti, UnixSeconds)>, u64) {
        let entries = std::mem::take(&mut *self.entries.locked());
        (entries, self.missed.swap(0, Ordering::Relaxed))
    }
}

/// Removes what `logged_out` noted from `target`'s store, once the servers have stopped (so
/// no logout is still on its way), and says how it went. A failure is recorded, not returned:
/// the measurement itself stands.
pub async fn forget_noted(target: &Target, logged_out: &LoggedOut) -> LoadForgotten {
    let (entries, missed) = logged_out.take();
    let started = Instant::now();
    let outcome = target.handle().forget_many(&entries).await;
    LoadForgotten {
        noted: entries.len() as u64,
        missed,
        removed: outcome.as_ref().ok().copied(),
        error: outcome.err().map(|e| e.to_string()),
        secs: started.elapsed().as_secs_f64(),
        entries_after: None,
        prefill_entries: None,
    }
}

/// The `jti` and `exp` in a JWT's payload, if it has them.
fn claims_of(token: &str) -> Option<(Jti, UnixSeconds)> {
    #[derive(Deserialize)]
    struct Claims {
        jti: String,
        exp: UnixSeconds,
    }
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Claims = serde_json::from_slice(&json).ok()?;
    Some((claims.jti.parse().ok()?, claims.exp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenKeys;

    /// A token the servers issue is noted as its own jti and exp; a token that is not a JWT is
    /// counted as missed; a journal that is not noting keeps nothing.
    #[test]
    fn notes_the_jti_and_exp_a_logout_revokes() {
        let keys = TokenKeys::hs256(b"a-secret-of-at-least-thirty-two-bytes!").unwrap();
        let (token, claims) = keys.issue("user-1", 1_700_000_000, 900);
        let noted = LoggedOut::noting();
        noted.note(&token);
        noted.note("not.a-token");
        let (entries, missed) = noted.take();
        assert_eq!(entries, [(claims.jti.parse().unwrap(), claims.exp)]);
        assert_eq!(missed, 1);
        assert_eq!(noted.take(), (Vec::new(), 0), "taken once");
        let off = LoggedOut::default();
        off.note(&token);
        assert_eq!(off.take(), (Vec::new(), 0));
    }
}
