//! `revbench clean URL [--older-than 1h] [--dry-run]`.

use std::time::Duration;

use anyhow::Context;

use crate::redact::redact;
use crate::time::{now_secs, parse_duration};

/// `revbench clean`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The store URL a run was given (its server and parent namespace: a Redis database and
    /// `prefix`, a PostgreSQL database, a MongoDB server). Also read from REVBENCH_STORE.
    #[arg(env = crate::server::command::STORE_ENV, hide_env_values = true)]
    pub url: String,

    /// Remove only namespaces made longer ago than this, e.g. 1h, 30m, 0s.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub older_than: Duration,

    /// List what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Lists revbench's namespaces under the URL and removes the stale ones.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let shown = redact(&args.url);
    let found = super::find(&args.url).await.with_context(|| format!("cannot list {shown}"))?;
    let now = now_secs();
    let (mut stale, mut kept) = (0, 0);
    for namespace in &found {
        let age = Duration::from_secs(now.saturating_sub(namespace.created));
        let described = format!(
            "{} (made by `{}` {} ago)",
            namespace.name,
            namespace.command,
            humantime::format_duration(age)
        );
        if age < args.older_than {
            kept += 1;
            println!("kept          {described}");
            continue;
        }
        stale += 1;
        if args.dry_run {
            println!("would remove  {described}");
        } else {
            super::remove(namespace)
                .await
                .with_context(|| format!("cannot remove {}", namespace.name))?;
            println!("removed       {described}");
        }
    }
    let verb = if args.dry_run { "would remove" } else { "removed" };
    println!(
        "{verb} {stale} of {} revbench namespaces under {shown} ({kept} younger than {})",
        found.len(),
        humantime::format_duration(args.older_than)
    );
    Ok(())
}
