//! `revbench history` at the CLI edge: reads the files, orders them, prints the shifts, draws
//! their charts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::{analyse, chart, Entry, Series, Settings};
use crate::results::RunResults;

/// How the files are put in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// By the start time each file records (`started_at`), then by name.
    Start,
    /// As given: arguments in order, each directory's files by path.
    Given,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `revbench history`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Results files of `revbench run`, or directories searched (recursively) for them; in a
    /// directory, `.json` files that are not results of a run are skipped with a note.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Order::Start)]
    pub order: Order,
    /// Write a chart (SVG) of every shifted series here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fewest files on either side of a shift.
    #[arg(long, default_value_t = Settings::default().min_segment)]
    pub min_segment: usize,
    /// Largest permutation p-value (199 shuffles, fixed seed) that counts as a shift.
    #[arg(long, default_value_t = Settings::default().alpha)]
    pub max_p: f64,
    /// Exit 1 when a shift makes a metric worse (with --recent, only one in the last files);
    /// exit 3 when no series has the 2 × --min-segment files a shift needs.
    #[arg(long)]
    pub fail_on_shift: bool,
    /// With --fail-on-shift, only shifts in the last N files count.
    #[arg(long)]
    pub recent: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `revbench history`: exit 0, or with `--fail-on-shift` 1 on a shift to worse and 3
/// when no series was long enough to test.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.min_segment < 2 {
        bail!("--min-segment must be at least 2 (a level needs two values to have a spread)");
    }
    let entries = read(&args.paths, args.order)?;
    let settings =
        Settings { min_segment: args.min_segment, alpha: args.max_p, ..Settings::default() };
    let series = analyse(&entries, &settings);
    match args.format {
        Format::Text => print!("{}", text(&entries, &series, &settings, args.order)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&series)?),
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for s in series.iter().filter(|s| !s.shifts.is_empty()) {
            let svg = crate::report::plot::svg(&chart::of(s)).map_err(anyhow::Error::msg)?;
            let path = dir.join(chart::file_name(s));
            std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let first_counted = entries.len().saturating_sub(args.recent.unwrap_or(entries.len()));
    let worse = series.iter().flat_map(|s| &s.shifts).any(|s| s.worse && s.index >= first_counted);
    let testable = series.iter().any(|s| s.points.len() >= 2 * settings.min_segment);
    Ok(ExitCode::from(match (args.fail_on_shift, worse, testable) {
        (false, _, _) => 0,
        (true, true, _) => 1,
        (true, false, false) => crate::compare::EXIT_INCONCLUSIVE,
        (true, false, true) => 0,
    }))
}

/// The results files under `paths`, in order.
fn read(paths: &[PathBuf], order: Order) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for path in paths {
        if path.is_dir() {
            for file in json_files(path)? {
                match RunResults::read(&file) {
                    Ok(results) => entries.push(entry(&file, results)),
                    Err(e) => eprintln!("note: skipped {}: {e}", file.display()),
                }
            }
        } else {
            entries.push(entry(path, RunResults::read(path)?));
        }
    }
    if entries.is_empty() {
        bail!("no results files of `revbench run` in {paths:?}");
    }
    if order == Order::Start {
        entries.sort_by(|a, b| {
            (a.results.header.started_at.as_str(), &a.name)
                .cmp(&(b.results.header.started_at.as_str(), &b.name))
        });
    }
    Ok(entries)
}

fn entry(path: &Path, results: RunResults) -> Entry {
    Entry { name: path.display().to_string(), results }
}

/// Every `.json` file under `dir`, by path.
fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for item in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = item?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn text(entries: &[Entry], series: &[Series], settings: &Settings, order: Order) -> String {
    let (first, last) = (&entries[0].results.header, &entries[entries.len() - 1].results.header);
    let ordered = match order {
        Order::Start => "ordered by start time",
        Order::Given => "in the order given",
    };
    let mut out = format!(
        "history of {} results files, {ordered} ({} … {})\n",
        entries.len(),
        first.started_at,
        last.started_at
    );
    for s in series {
        for shift in &s.shifts {
            out += &format!(
                "SHIFT {} / {}: {} from file {} of {} ({}): {} → {} {} ({:+.1}%, {}; p = {:.3})\n",
                s.scenario,
                s.store,
                s.metric,
                shift.index + 1,
                entries.len(),
                shift.file,
                value(shift.before),
                value(shift.after),
                s.unit,
                shift.change * 100.0,
                if shift.worse { "worse" } else { "better" },
                shift.p_value
            );
        }
    }
    let too_short = series.iter().filter(|s| s.points.len() < 2 * settings.min_segment).count();
    let flat = series.iter().filter(|s| s.shifts.is_empty()).count() - too_short;
    out += &format!(
        "no shift in {flat} series; {too_short} too short to test (fewer than {} files measured them)\n",
        2 * settings.min_segment
    );
    out
}

/// A value as shown: `5012`, `12.3`, `0.0123`.
fn value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}
