//! What a strategy is, in the words the report's decision view shows beside its measured
//! numbers: declared once per scheme, in the store's own file (its `SCHEME.profile`), so a new
//! strategy appears in the decision view with no change to the report.
//!
//! Only descriptions live here. Every number the decision view shows (latency, replay
//! window, memory per entry) is measured in the run it reports.

/// What one entry of the store stands for: the unit of "memory per …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryUnit {
    /// Nothing is kept (`none:`).
    Nothing,
    /// One entry per revoked token (deny-lists).
    RevokedToken,
    /// One entry per user who logged out (cut-off strategies).
    LoggedOutUser,
    /// One entry per refresh token issued and not yet expired, used or not, plus one per live
    /// login (refresh-token rotation).
    RefreshToken,
}

impl EntryUnit {
    /// `revoked token`, `user who logged out`.
    pub fn noun(self) -> &'static str {
        match self {
            EntryUnit::Nothing => "entry",
            EntryUnit::RevokedToken => "revoked token",
            EntryUnit::LoggedOutUser => "user who logged out",
            EntryUnit::RefreshToken => "refresh token",
        }
    }
}

/// A strategy described for the decision view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// What it does at logout and on each request, in a few words.
    pub summary: &'static str,
    /// What it needs to run besides the server process.
    pub needs: &'static str,
    /// What it does while its store is unreachable (as built; the `store-outage` scenario
    /// measures it).
    pub when_down: &'static str,
    /// What one of its entries stands for.
    pub unit: EntryUnit,
}

/// "Nothing to run": the in-process stores.
pub const IN_PROCESS: &str = "nothing (in-process)";

/// The `when_down` of stores that live in the server process.
pub const NO_STORE_TO_LOSE: &str = "no separate store: it cannot be cut off (lost on restart)";

/// The `when_down` of stores checked on every request (unless the server runs fail-open).
pub const FAILS_CLOSED: &str = "fails closed: 503 on every check until it answers again \
    (`--fail-open` lets requests through instead, counted)";
