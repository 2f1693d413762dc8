//! Strategies beyond a per-request deny-list lookup: a local copy kept in sync, a per-user
//! cut-off, short-lived access tokens with rotated refresh tokens.

pub mod cutoff_redis;
pub mod hybrid;
pub mod refresh;
pub mod refresh_redis;
