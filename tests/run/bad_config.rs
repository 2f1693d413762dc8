//! Bad configuration given to the `revbench` binary: each mistake ends the process with exit
//! code 2 and an `error:` line that names the problem and the fix — never a panic, never a
//! hang. (`compare` on mismatched or other-version files is covered in `tests/reports/report.rs`.)

use crate::common;
use crate::common::run::RunArgs;

/// What a finished `revbench` process left behind.
struct Exit {
    code: Option<i32>,
    stderr: String,
}

impl Exit {
    fn first_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }
}

/// Runs `revbench` with `args` (and extra environment), killing it after 20 s.
fn revbench(args: &[&str], env: &[(&str, &str)]) -> Exit {
    let (code, stderr) = common::process::revbench_exit(args, env);
    Exit { code, stderr }
}

/// Asserts exit 2, one `error:` line mentioning every `needles`, and no panic.
fn assert_one_line_error(exit: &Exit, needles: &[&str]) {
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    assert!(!exit.stderr.contains("panicked"), "{}", exit.stderr);
    assert_eq!(exit.stderr.lines().count(), 1, "one line: {}", exit.stderr);
    let line = exit.first_line();
    assert!(line.starts_with("error: "), "{line}");
    for needle in needles {
        assert!(line.contains(needle), "{line:?} lacks {needle:?}");
    }
}

/// An unknown store scheme names the URL and lists the valid schemes.
#[test]
fn unknown_store_scheme() {
    let exit = revbench(&["serve", "--store", "memcached://localhost:11211"], &[]);
    assert_one_line_error(&exit, &["memcached://localhost:11211", "redis://", "memory:"]);
}

/// A malformed store URL names the URL and what is wrong with it.
#[test]
fn malformed_store_url() {
    let exit = revbench(&["serve", "--store", "redis://[::1"], &[]);
    assert_one_line_error(&exit, &["bad store URL", "redis://[::1"]);
}

/// Unreachable Redis, PostgreSQL and MongoDB (a closed port) name the backend, the URL and
/// the fix.
#[test]
fn unreachable_store() {
    let exit = revbench(&["serve", "--store", "redis://127.0.0.1:1/0"], &[]);
    assert_one_line_error(&exit, &["cannot reach redis", "127.0.0.1:1", "start Redis"]);
    let exit = revbench(&["serve", "--store", "postgres://postgres@127.0.0.1:1/postgres"], &[]);
    assert_one_line_error(&exit, &["cannot reach postgres", "127.0.0.1:1", "start PostgreSQL"]);
    let exit = revbench(&["serve", "--store", "mongodb://127.0.0.1:1/revbench"], &[]);
    assert_one_line_error(&exit, &["cannot reach mongodb", "127.0.0.1:1", "start MongoDB"]);
}

/// A host name that does not resolve is reported as unreachable, not as a panic or a hang.
#[test]
fn unresolvable_host() {
    let exit = revbench(&["serve", "--store", "redis://no-such-host.invalid:6379/0"], &[]);
    assert_one_line_error(&exit, &["cannot reach redis", "no-such-host.invalid"]);
}

/// A short HS256 secret is refused with its length and how to make a good one.
#[test]
fn short_secret() {
    let exit = revbench(&["serve", "--store", "none:"], &[("REVBENCH_JWT_SECRET", "short")]);
    assert_one_line_error(&exit, &["REVBENCH_JWT_SECRET is 5 bytes", "openssl rand -hex 32"]);
}

/// A port already in use names the address and says to pick another.
#[test]
fn port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let exit = revbench(&["serve", "--store", "none:", "--addr", &addr], &[]);
    assert_one_line_error(&exit, &[&format!("cannot listen on {addr}"), "pick another --addr"]);
}

/// A bad `--token-ttl` is a usage error (clap: exit 2, usage lines follow) whose first line
/// names the value and the expected form.
#[test]
fn bad_token_ttl() {
    let exit = revbench(&["serve", "--token-ttl", "banana"], &[]);
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    assert!(!exit.stderr.contains("panicked"), "{}", exit.stderr);
    let line = exit.first_line();
    assert!(line.starts_with("error: ") && line.contains("banana"), "{line}");
    assert!(line.contains("use e.g. 30s, 15m, 1h"), "{line}");
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("revbench-badcfg-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A scenario file with an unknown key names the file, the key and where the format is.
#[test]
fn bad_scenario_file() {
    let dir = temp_dir("scenario");
    let file = dir.join("mine.toml");
    std::fs::write(&file, "description = \"x\"\nusers = 2\nramp_up = \"0s\"\nduration = \"1s\"\ntoken_ttl = \"1m\"\nuserz = 3\n[[steps]]\nkind = \"me\"\nweight = 1\n").unwrap();
    let run = RunArgs::short(&dir.join("out")).scenario(file.to_str().unwrap()).stores("none:");
    let exit = revbench(&run.args(), &[]);
    assert_one_line_error(&exit, &["mine.toml", "userz", "scenarios/steady.toml"]);
    let exit = revbench(&["run", "--scenario", "no-such-scenario", "--stores", "none:"], &[]);
    assert_one_line_error(&exit, &["no-such-scenario", "steady", ".toml"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// An output directory that cannot be written names the directory and the fix, and an existing
/// results.json there is left exactly as it was.
#[test]
fn unwritable_output_dir() {
    let dir = temp_dir("unwritable");
    // A regular file where a directory is needed: unwritable even for root.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let run = RunArgs::short(&blocker.join("run")).scenario("check-only").stores("none:");
    let exit = revbench(&run.args(), &[]);
    assert_one_line_error(&exit, &["cannot create", "--out"]);

    let results = dir.join("results.json");
    std::fs::write(&results, "{\"keep\": true}").unwrap();
    let exit = revbench(&RunArgs::short(&dir).scenario("nope").stores("none:").args(), &[]);
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    assert_eq!(std::fs::read_to_string(&results).unwrap(), "{\"keep\": true}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `report` and `compare` on a file that is not results, or of another schema version, exit 2
/// with one line naming the file.
#[test]
fn unusable_results_files() {
    let dir = temp_dir("results");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let exit = revbench(&["report", garbage.to_str().unwrap()], &[]);
    assert_one_line_error(&exit, &["garbage.json", "not a revbench results file"]);
    let old = dir.join("old.json");
    std::fs::write(&old, "{\"schema_version\": 0}").unwrap();
    let exit = revbench(&["compare", old.to_str().unwrap(), old.to_str().unwrap()], &[]);
    assert_one_line_error(&exit, &["old.json", "schema_version 0"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// A store URL given to `run` or `growth` that names no store, or does not parse, stops the
/// command before it measures anything, whether it came from `--stores` or `REVBENCH_STORES`.
#[test]
fn run_and_growth_refuse_unknown_store_urls() {
    let exit = revbench(&["run", "--quick", "--stores", "none:,memcached://x:1"], &[]);
    assert_one_line_error(&exit, &["--stores", "memcached://x:1", "redis://"]);
    let exit = revbench(&["run", "--quick"], &[("REVBENCH_STORES", "memcached://y:1")]);
    assert_one_line_error(&exit, &["memcached://y:1"]);
    let exit = revbench(&["growth", "--stores", "redis://[::1"], &[]);
    assert_one_line_error(&exit, &["bad store URL", "redis://[::1"]);
    let exit = revbench(&["growth"], &[("REVBENCH_STORES", "memcached://z:1")]);
    assert_one_line_error(&exit, &["memcached://z:1"]);
    // footprint reads REVBENCH_STORE as serve does.
    let exit = revbench(&["footprint"], &[("REVBENCH_STORE", "memcached://q:1")]);
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    assert!(
        exit.stderr.contains("error: measuring the footprint of memcached://q:1"),
        "{}",
        exit.stderr
    );
}

/// A run in which every store was skipped fails (exit 2) after saying why each was skipped:
/// an empty table is not a result.
#[test]
fn run_with_nothing_measured_fails() {
    let out = temp_dir("nothing-measured");
    let run = RunArgs::short(&out).stores("redis://127.0.0.1:1/0").scenario("check-only");
    let exit = revbench(&run.no_report().args(), &[]);
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    assert!(
        exit.stderr.contains("skipped redis://127.0.0.1:1/0: cannot reach redis"),
        "{}",
        exit.stderr
    );
    let last = exit.stderr.lines().last().unwrap_or("");
    assert!(last.starts_with("error: nothing was measured"), "{}", exit.stderr);
    let _ = std::fs::remove_dir_all(&out);
}

/// A paired run in which every store was skipped measured nothing: exit 2, as a single run.
#[test]
fn paired_run_with_nothing_measured_fails() {
    let out = temp_dir("nothing-measured-paired");
    let exe = env!("CARGO_BIN_EXE_revbench");
    let run = RunArgs::short(&out)
        .stores("redis://127.0.0.1:1/0")
        .scenario("check-only")
        .with(&["--baseline-binary", exe]);
    let exit = revbench(&run.no_report().args(), &[]);
    assert_eq!(exit.code, Some(2), "{}", exit.stderr);
    let last = exit.stderr.lines().last().unwrap_or("");
    assert!(last.starts_with("error: nothing was measured"), "{}", exit.stderr);
    let _ = std::fs::remove_dir_all(&out);
}

/// Two `--stores` entries with one label would pool their rounds under one row: refused
/// before anything runs, naming the fix (`name=URL`); a name that is not plain is no name.
#[test]
fn two_stores_with_one_label_are_refused() {
    let run = RunArgs::bare().stores("redis://127.0.0.1:1/0,redis://localhost:1/0");
    let exit = revbench(&run.args(), &[]);
    assert_one_line_error(&exit, &["both be labelled `redis:1`", "a=redis://127.0.0.1:1/0"]);
    let run = RunArgs::bare().stores("x=hashmap:,x=memory:");
    assert_one_line_error(&revbench(&run.args(), &[]), &["labelled `x`"]);
}
