//! Declarative workloads: one TOML file per scenario (like YCSB's workload files).
//!
//! ```toml
//! description = "..."
//! users = 8              # concurrent simulated users
//! ramp_up = "0s"         # time to start them all
//! duration = "10s"       # measured time per store and round
//! token_ttl = "15m"      # lifetime of tokens the servers issue
//! replicas = 1           # server processes per store
//! rate = 2000            # optional: constant arrival rate (requests/s, all users)
//! restart_then_replay = false  # optional: restart the replicas, then replay kept copies
//!
//! [[steps]]
//! kind = "me"            # see StepKind
//! weight = 50
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The scenarios shipped in `scenarios/`, compiled in so `--scenario NAME` works anywhere.
pub const BUILTIN: [(&str, &str); 11] = [
    ("steady", include_str!("../scenarios/steady.toml")),
    ("logout-replay", include_str!("../scenarios/logout-replay.toml")),
    ("replicas", include_str!("../scenarios/replicas.toml")),
    ("restart", include_str!("../scenarios/restart.toml")),
    ("check-only", include_str!("../scenarios/check-only.toml")),
    ("single-user", include_str!("../scenarios/single-user.toml")),
    ("constant-rate", include_str!("../scenarios/constant-rate.toml")),
    ("store-outage", include_str!("../scenarios/store-outage.toml")),
    ("outage-replicas", include_str!("../scenarios/outage-replicas.toml")),
    ("refresh", include_str!("../scenarios/refresh.toml")),
    ("many-tokens", include_str!("../scenarios/many-tokens.toml")),
];

/// Scenarios `revbench run` measures when none is named.
pub const DEFAULT_SCENARIOS: [&str; 4] = ["steady", "logout-replay", "replicas", "restart"];

/// Most users or replicas a scenario may ask for on one machine.
const MAX_USERS: usize = 10_000;
const MAX_REPLICAS: usize = 16;

/// One thing a simulated user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// `GET /api/me` with the user's live token (logging in first if it has none).
    Me,
    /// `POST /logout`, then `POST /login` for a fresh token.
    Relogin,
    /// Log in, copy the token, log out, replay the copy on the same replica.
    Replay,
    /// Log in and log out on one replica, replay the copy on the next replica.
    ReplayCrossReplica,
    /// Log in, log out, keep the copy to replay after the replicas restart.
    LogoutKeepCopy,
    /// `GET /api/me`, renewing the token first once half its lifetime has passed: `POST
    /// /refresh` when the strategy issues refresh tokens, else a new login.
    Refresh,
    /// `POST /login` again without logging out (another device); the old token stays alive.
    LoginAgain,
}

impl StepKind {
    pub const ALL: [StepKind; 7] = [
        StepKind::Me,
        StepKind::Relogin,
        StepKind::Replay,
        StepKind::ReplayCrossReplica,
        StepKind::LogoutKeepCopy,
        StepKind::Refresh,
        StepKind::LoginAgain,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StepKind::Me => "me",
            StepKind::Relogin => "relogin",
            StepKind::Replay => "replay",
            StepKind::ReplayCrossReplica => "replay_cross_replica",
            StepKind::LogoutKeepCopy => "logout_keep_copy",
            StepKind::Refresh => "refresh",
            StepKind::LoginAgain => "login_again",
        }
    }
}

/// A step and how often it is picked relative to the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub kind: StepKind,
    pub weight: usize,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    description: String,
    users: usize,
    ramp_up: String,
    duration: String,
    token_ttl: String,
    #[serde(default = "one")]
    replicas: usize,
    rate: Option<f64>,
    #[serde(default)]
    restart_then_replay: bool,
    outage_after: Option<String>,
    outage_for: Option<String>,
    steps: Vec<Step>,
}

fn one() -> usize {
    1
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub users: usize,
    #[serde(with = "humantime_serde_secs")]
    pub ramp_up: Duration,
    #[serde(with = "humantime_serde_secs")]
    pub duration: Duration,
    #[serde(with = "humantime_serde_secs")]
    pub token_ttl: Duration,
    pub replicas: usize,
    /// Requests per second across all users (open model), or `None` for closed-loop users.
    pub rate: Option<f64>,
    pub restart_then_replay: bool,
    /// Cut the store off from the servers for a while (shared stores only).
    pub outage: Option<Outage>,
    pub steps: Vec<Step>,
}

/// When the store becomes unreachable, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    #[serde(with = "humantime_serde_secs")]
    pub after: Duration,
    #[serde(with = "humantime_serde_secs")]
    pub length: Duration,
}

/// A scenario file that cannot be used; the message names the file, the key and the fix.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{source_name}: {message}")]
pub struct ScenarioError {
    pub source_name: String,
    pub message: String,
}

impl Scenario {
    /// Resolves `NAME` (a built-in) or `PATH` (a TOML file).
    pub fn load(name_or_path: &str) -> Result<Self, ScenarioError> {
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
                source_name: name_or_path.to_string(),
                message: format!("cannot read it ({e})"),
            })?;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
            return Self::parse(name, name_or_path, &text);
        }
        match BUILTIN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => Self::parse(name, &format!("scenarios/{name}.toml"), text),
            None => Err(ScenarioError {
                source_name: name_or_path.to_string(),
                message: format!(
                    "no such scenario; use one of {} or a path to a .toml file",
                    BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// Parses and validates scenario text; `source_name` is used in errors.
    pub fn parse(name: &str, source_name: &str, text: &str) -> Result<Self, ScenarioError> {
        let fail =
            |message: String| ScenarioError { source_name: source_name.to_string(), message };
        let file: ScenarioFile = toml::from_str(text).map_err(|e| {
            fail(format!("{} (see scenarios/steady.toml for the format)", e.message().trim()))
        })?;
        let duration = |key: &str, raw: &str| {
            humantime::parse_duration(raw).map_err(|e| {
                fail(format!("key `{key}`: `{raw}` is not a duration ({e}); write e.g. \"10s\""))
            })
        };
        let scenario = Scenario {
            name: name.to_string(),
            description: file.description,
            users: file.users,
            ramp_up: duration("ramp_up", &file.ramp_up)?,
            duration: duration("duration", &file.duration)?,
            token_ttl: duration("token_ttl", &file.token_ttl)?,
            replicas: file.replicas,
            rate: file.rate,
            restart_then_replay: file.restart_then_replay,
            outage: match (&file.outage_after, &file.outage_for) {
                (None, None) => None,
                (Some(after), Some(length)) => Some(Outage {
                    after: duration("outage_after", after)?,
                    length: duration("outage_for", length)?,
                }),
                _ => {
                    return Err(fail(
                        "keys `outage_after` and `outage_for`: give both or neither".to_string(),
                    ))
                }
            },
            steps: file.steps,
        };
        scenario.validate().map_err(fail)?;
        Ok(scenario)
    }

    /// Whether the scenario can be run: the message names the key and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_USERS).contains(&self.users) {
            return Err(format!(
                "key `users`: {} is out of range; use 1 to {MAX_USERS}",
                self.users
            ));
        }
        if !(1..=MAX_REPLICAS).contains(&self.replicas) {
            return Err(format!(
                "key `replicas`: {} is out of range; use 1 to {MAX_REPLICAS}",
                self.replicas
            ));
        }
        if self.duration.is_zero() {
            return Err("key `duration`: must be above zero, e.g. \"10s\"".to_string());
        }
        if self.token_ttl < Duration::from_secs(1) {
            return Err("key `token_ttl`: must be at least 1s".to_string());
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!("key `rate`: {rate} must be a positive number of requests/s"));
            }
        }
        if self.steps.is_empty() || self.steps.iter().all(|s| s.weight == 0) {
            return Err("key `steps`: add at least one [[steps]] with a weight above 0".to_string());
        }
        if let Some(outage) = self.outage {
            if outage.length.is_zero() || outage.after + outage.length >= self.duration {
                return Err(
                    "keys `outage_after`/`outage_for`: the outage must last above zero and \
                            end before `duration`, so recovery is measured too"
                        .to_string(),
                );
            }
        }
        if self.replays_across_replicas() && self.replicas < 2 {
            return Err(
                "key `replicas`: step `replay_cross_replica` needs replicas >= 2".to_string()
            );
        }
        let keeps = self.steps.iter().any(|s| s.kind == StepKind::LogoutKeepCopy);
        if keeps != self.restart_then_replay {
            return Err("key `restart_then_replay`: set it to true exactly when a step is \
                        `logout_keep_copy` (the copies are replayed after the restart)"
                .to_string());
        }
        Ok(())
    }

    /// Does a step log out on one replica and replay on another (so it needs two)?
    pub fn replays_across_replicas(&self) -> bool {
        self.steps.iter().any(|s| s.kind == StepKind::ReplayCrossReplica)
    }

    /// Does any step replay tokens?
    pub fn replays(&self) -> bool {
        self.restart_then_replay
            || self
                .steps
                .iter()
                .any(|s| matches!(s.kind, StepKind::Replay | StepKind::ReplayCrossReplica))
    }
}

/// Durations serialized as seconds (f64) in results files.
mod humantime_serde_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped scenario parses and validates.
    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN {
            let scenario = Scenario::load(name).unwrap();
            assert_eq!(scenario.name, name);
        }
        assert_eq!(Scenario::load("replicas").unwrap().replicas, 3);
        assert!(Scenario::load("restart").unwrap().restart_then_replay);
        assert_eq!(Scenario::load("constant-rate").unwrap().rate, Some(2000.0));
        assert!(Scenario::load("store-outage").unwrap().outage.is_some());
    }

    fn error_of(text: &str) -> String {
        Scenario::parse("t", "scenarios/t.toml", text).unwrap_err().to_string()
    }

    const BASE: &str = "description = \"d\"\nusers = 2\nramp_up = \"0s\"\nduration = \"1s\"\n\
                        token_ttl = \"1m\"\n";
    const ME: &str = "\n[[steps]]\nkind = \"me\"\nweight = 1\n";

    /// Unknown keys, bad values and bad combinations name the file, the key and the fix.
    #[test]
    fn bad_files_name_file_key_and_fix() {
        let unknown = error_of(&format!("{BASE}userz = 3{ME}"));
        assert!(
            unknown.starts_with("scenarios/t.toml: ") && unknown.contains("userz"),
            "{unknown}"
        );
        let users = error_of(&(BASE.replace("users = 2", "users = 0") + ME));
        assert!(users.contains("key `users`") && users.contains("1 to"), "{users}");
        let duration = error_of(&(BASE.replace("\"1s\"", "\"soon\"") + ME));
        assert!(duration.contains("key `duration`") && duration.contains("10s"), "{duration}");
        let kind = error_of(&format!("{BASE}\n[[steps]]\nkind = \"dance\"\nweight = 1\n"));
        assert!(kind.contains("dance"), "{kind}");
        let cross =
            error_of(&format!("{BASE}\n[[steps]]\nkind = \"replay_cross_replica\"\nweight = 1\n"));
        assert!(cross.contains("replicas >= 2"), "{cross}");
        let no_steps = error_of(&format!("{BASE}steps = []"));
        assert!(no_steps.contains("key `steps`"), "{no_steps}");
        let half = error_of(&format!("{BASE}outage_after = \"1s\"{ME}"));
        assert!(half.contains("give both"), "{half}");
        let late = error_of(&format!("{BASE}outage_after = \"1s\"\noutage_for = \"1s\"{ME}"));
        assert!(late.contains("end before `duration`"), "{late}");
        let rate = error_of(&format!("{BASE}rate = -5.0{ME}"));
        assert!(rate.contains("key `rate`"), "{rate}");
    }

    /// An unknown scenario name lists the built-in ones.
    #[test]
    fn unknown_name_lists_builtins() {
        let err = Scenario::load("nope").unwrap_err().to_string();
        assert!(err.contains("steady") && err.contains(".toml"), "{err}");
    }
}
