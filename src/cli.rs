//! Command-line definitions and dispatch. `main.rs` only parses and reports errors.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::token::SigningAlgorithm;

/// revbench: what it costs, and what it buys, to revoke JWTs at logout.
#[derive(Debug, Parser)]
#[command(name = "revbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reference auth server with one revocation store.
    Serve(ServeArgs),
    /// Fill a store with revoked ids and print the memory it takes per entry.
    Footprint(FootprintArgs),
}

/// `revbench serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Revocation store URL: none:, naive:, memory:, hashmap:, redis://host:port/db,
    /// mongodb://host:port/db or postgres://user@host:port/db.
    #[arg(long, default_value = "memory:")]
    pub store: String,

    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Lifetime of issued tokens, e.g. 15m, 30s.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Let requests through when the store cannot answer (each one is counted in /stats).
    #[arg(long)]
    pub fail_open: bool,

    /// Signature algorithm; HS256 reads its secret from REVBENCH_JWT_SECRET (32+ bytes).
    #[arg(long, value_enum, default_value_t = SigningAlgorithm::Hs256)]
    pub algorithm: SigningAlgorithm,

    /// Mark the token cookie `Secure` (for a server behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
}

/// `revbench footprint`.
#[derive(Debug, Clone, Args)]
pub struct FootprintArgs {
    /// Store to measure; shared servers get a private key prefix, table or database that is
    /// removed afterwards.
    #[arg(long)]
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

/// Parses `15m`, `30s`, `1h 30m`, … with a message naming the expected form.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw)
        .map_err(|e| format!("`{raw}` is not a duration ({e}); use e.g. 30s, 15m, 1h"))
}

/// Runs the command; the exit code is 0 on success.
pub async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::server::serve::serve(args).await.map(|()| ExitCode::SUCCESS),
        Command::Footprint(args) => footprint(args).await.map(|()| ExitCode::SUCCESS),
    }
}

async fn footprint(args: FootprintArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let request = crate::footprint::FootprintRequest {
        store_url: args.store.clone(),
        entries: args.entries,
        token_ttl: args.token_ttl,
    };
    let measured = crate::footprint::measure(&request)
        .await
        .with_context(|| format!("measuring the footprint of {}", args.store))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&measured)?);
    } else {
        println!("{}", measured.summary());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `footprint` parses its flags and defaults to a million entries.
    #[test]
    fn footprint_flags_parse() {
        let cli = Cli::try_parse_from(["revbench", "footprint", "--store", "hashmap:", "--json"])
            .unwrap();
        let Command::Footprint(args) = cli.command else { panic!("not footprint") };
        assert_eq!((args.store.as_str(), args.entries, args.json), ("hashmap:", 1_000_000, true));
        assert!(Cli::try_parse_from(["revbench", "footprint"]).is_err(), "--store is required");
    }
}
