//! `revbench footprint` at the CLI edge.

use std::time::Duration;

use anyhow::Context;

use super::{measure, FootprintRequest};
use crate::time::parse_duration;

/// `revbench footprint`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Store to measure; shared servers get a private key prefix, table or database that is
    /// removed afterwards (one the URL names is its parent, never touched). Also read from
    /// REVBENCH_STORE, which keeps a password out of the process list.
    #[arg(long, env = crate::server::command::STORE_ENV, hide_env_values = true)]
    pub store: String,

    /// How many ids to revoke.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,

    /// Token lifetime: entries expire between half of it and all of it from now.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Print the measurement as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `revbench footprint` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let request = FootprintRequest {
        store_url: args.store.clone(),
        entries: args.entries,
        token_ttl: args.token_ttl,
    };
    let measured = measure(&request).await.with_context(|| {
        format!("measuring the footprint of {}", crate::redact::redact(&args.store))
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&measured)?);
    } else {
        println!("{}", measured.summary());
    }
    Ok(())
}
