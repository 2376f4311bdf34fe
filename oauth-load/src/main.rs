//! `finrift-load`: the axum demo under load over HTTP, on the memory store and on
//! SQLite, at 1, 16 and 64 connections; writes its section of `BENCHMARKS.md`.
//!
//! ```sh
//! cargo run --release -p oauth-load -- [--quick] [--no-build | --demo <path>]
//!     [--no-pin] [--seconds <s>] [--requests <n>] [--out <file>]
//! ```
//!
//! - `--quick`: at most 300 operations or 2 s per scenario; prints the section and writes
//!   no file unless `--out` names one.
//! - `--no-build`: do not run `cargo build --release -p examples --bin axum-demo` first
//!   (it is run by default, a no-op when the demo is up to date).
//! - `--demo <path>`: the demo binary to start (implies `--no-build`); by default
//!   `<target>/release/axum-demo` beside this binary's target directory.
//! - `--no-pin`: run the server and the generator on any CPU (by default, with two CPUs
//!   or more, the server runs on the first and the generator on the others).
//! - `--seconds`, `--requests`: the bounds of each scenario (default 3 s or 50,000
//!   operations, whichever first).
//! - `--out <file>`: the markdown file whose marked section is rewritten (default the
//!   workspace's `BENCHMARKS.md`).

#![forbid(unsafe_code)]
// A load generator measures wall time: it has no engine `Clock` to read it through.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oauth_load::goals;
use oauth_load::machine::{load_average, Machine};
use oauth_load::pinning::Pinning;
use oauth_load::report::{self, Row, Section};
use oauth_load::server::{DemoProcess, Store};
use oauth_load::{run, Bounds, Error, Scenario};

/// The connection counts every scenario runs at.
const CONNECTIONS: [usize; 3] = [1, 16, 64];

/// The command line.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    build: bool,
    pin: bool,
    demo: Option<PathBuf>,
    seconds: Option<f64>,
    requests: Option<u64>,
    out: Option<PathBuf>,
    /// The arguments as given, for the report.
    given: Vec<String>,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, Error> {
        let mut options = Options {
            build: true,
            pin: true,
            ..Options::default()
        };
        let args: Vec<String> = args.collect();
        options.given = args.clone();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| Error::from(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--no-build" => options.build = false,
                "--no-pin" => options.pin = false,
                "--demo" => {
                    options.demo = Some(value("--demo")?.into());
                    options.build = false;
                }
                "--seconds" => options.seconds = Some(value("--seconds")?.parse()?),
                "--requests" => options.requests = Some(value("--requests")?.parse()?),
                "--out" => options.out = Some(value("--out")?.into()),
                "-h" | "--help" => {
                    return Err(
                        "usage: finrift-load [--quick] [--no-build | --demo <path>] [--no-pin] \
                                [--seconds <s>] [--requests <n>] [--out <file>]"
                            .into(),
                    )
                }
                other => return Err(format!("unknown argument {other} (try --help)").into()),
            }
        }
        Ok(options)
    }

    fn bounds(&self) -> Result<Bounds, Error> {
        let (requests, seconds) = if self.quick {
            (300, 2.0)
        } else {
            (50_000, 3.0)
        };
        let seconds = self.seconds.unwrap_or(seconds);
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err("--seconds must be a positive number".into());
        }
        Ok(Bounds {
            max_requests: self.requests.unwrap_or(requests).max(1),
            max_duration: Duration::from_secs_f64(seconds),
        })
    }

    fn command(&self) -> String {
        let mut command = String::from("cargo run --release -p oauth-load");
        if !self.given.is_empty() {
            command.push_str(" -- ");
            command.push_str(&self.given.join(" "));
        }
        command
    }
}

/// The workspace root, where `BENCHMARKS.md` lives.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The target directory this binary was built into (`<target>/<profile>/finrift-load`).
fn target_dir() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no target directory above {}", exe.display()).into())
}

/// `cargo build --release -p examples --bin axum-demo` into `target`.
fn build_demo(target: &Path) -> Result<(), Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the demo: cargo build --release -p examples --bin axum-demo");
    let mut command = Command::new(cargo);
    // `cargo run` gave this process the variables of the package it runs; build scripts
    // that watch them (ring's does) would see a change and rebuild the demo each time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    let status = command
        .args(["build", "--release", "-p", "examples", "--bin", "axum-demo"])
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .status()?;
    if !status.success() {
        return Err(format!("building the demo failed: {status}").into());
    }
    Ok(())
}

/// The server on one CPU and this process on the others, if `pin` and the machine allows;
/// and what the report says about it.
fn place(pin: bool) -> (Option<Pinning>, String) {
    if !pin {
        return (None, "not pinned (`--no-pin`)".to_owned());
    }
    let Some(pinning) = Pinning::plan() else {
        return (
            None,
            "not pinned (this process may use a single CPU)".to_owned(),
        );
    };
    match pinning.pin_generator() {
        Ok(()) => {
            let placement = pinning.describe();
            (Some(pinning), placement)
        }
        Err(error) => (None, format!("not pinned ({error})")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = Options::parse(std::env::args().skip(1))?;
    let bounds = options.bounds()?;
    let demo = match &options.demo {
        Some(path) => path.clone(),
        None => {
            let target = target_dir()?;
            if options.build {
                build_demo(&target)?;
            }
            target.join("release").join("axum-demo")
        }
    };

    // Pinned after the build, which may use every CPU.
    let (pinning, placement) = place(options.pin);
    eprintln!("placement: {placement}");

    let machine = Machine::current();
    let load_before = load_average();
    let started = Instant::now();
    let mut rows = Vec::new();
    for store in Store::ALL {
        let process = DemoProcess::start(&demo, store, pinning.as_ref()).await?;
        eprintln!(
            "{}: the demo runs at {} (pid {}), {:.1} MiB resident",
            store.name(),
            process.base(),
            process.pid(),
            process.rss_kib()? as f64 / 1024.0
        );
        for scenario in Scenario::ALL {
            for connections in CONNECTIONS {
                let outcome = run(process.base(), scenario, connections, bounds).await?;
                let rss_kib = process.rss_kib()?;
                eprintln!(
                    "  {:<28} {:>2} connections: {:>7} ops, {:>9.0}/s, p50 {:?}, p99 {:?}, {} errors{}",
                    scenario.name(),
                    connections,
                    outcome.completed,
                    outcome.per_second(),
                    outcome.latency.p50,
                    outcome.latency.p99,
                    outcome.errors,
                    outcome
                        .first_error
                        .as_deref()
                        .map(|e| format!(" (first: {e})"))
                        .unwrap_or_default(),
                );
                rows.push(Row {
                    store,
                    outcome,
                    rss_kib,
                });
            }
        }
        process.stop()?;
    }
    let load_after = load_average();

    let command = options.command();
    let goals = goals::table(&goals::judge(&rows));
    let section = report::section(&Section {
        machine: &machine,
        command: &command,
        bounds,
        rows: &rows,
        load: (&load_before, &load_after),
        took: started.elapsed(),
        placement: &placement,
        goals: &goals,
    });
    println!("{section}");
    let out = match (&options.out, options.quick) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(workspace_root().join("BENCHMARKS.md")),
        (None, true) => None,
    };
    if let Some(path) = out {
        let document = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error.into()),
        };
        std::fs::write(&path, report::place(&document, &section))?;
        eprintln!("wrote the HTTP section of {}", path.display());
    }

    let errors: u64 = rows.iter().map(|row| row.outcome.errors).sum();
    if errors > 0 {
        return Err(format!("{errors} operations failed their checks").into());
    }
    Ok(())
}
