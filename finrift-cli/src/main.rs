//! # `finrift`, the admin command of a finrift store
//!
//! ```text
//! finrift --db /var/lib/finrift/finrift.db migrate
//! finrift --db /var/lib/finrift/finrift.db clients add billing \
//!     --grant client_credentials --scope read:payments --default-scope read:payments
//! export FINRIFT_DB=/var/lib/finrift/finrift.db
//! finrift clients list
//! finrift clients show billing
//! finrift clients remove billing
//! finrift purge
//! finrift schema
//! export FINRIFT_DB=postgres://finrift@db.internal/finrift
//! export FINRIFT_KEY_ENCRYPTION_KEY=...   # the key every instance is given
//! finrift keys list
//! finrift keys rotate
//! ```
//!
//! Each command exits 0 when it did its work and 1 with one line on standard error when
//! it did not (2 for a command line it cannot read). Data goes to standard output,
//! remarks for a person to standard error.
//!
//! ## Shape
//!
//! - [`target`] reads `--db` / `FINRIFT_DB` into a [`target::Target`], one variant per
//!   backend; [`backend`] opens it, with one module per backend, and hands the commands a
//!   `&dyn Storage`, and `&dyn KeySetStore` for [`keys`]. The commands ([`clients`],
//!   [`keys`], [`purge`], [`schema`]) work on the core's traits only, never on a
//!   concrete store.
//! - A command group is one module with a `run` function and one [`cli::Command`]
//!   variant, dispatched in [`run`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod cli;
mod clients;
mod error;
mod keys;
mod purge;
mod schema;
mod target;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use oauth_core::{Clock, SystemClock};

use crate::cli::{Cli, Command, KeysCommand};
use crate::error::CliError;
use crate::target::Target;

fn main() -> ExitCode {
    // Help, version and command-line errors exit here, as clap prints them.
    let cli = Cli::parse();
    // I/O and timers for PostgreSQL's sockets and timeouts.
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            note(&format!("error: {error}"));
            ExitCode::FAILURE
        }
    }
}

/// Runs the command `cli` names.
async fn run(cli: Cli) -> Result<(), CliError> {
    // Buffered for long listings; every command flushes and checks the flush.
    let mut out = BufWriter::new(io::stdout().lock());
    if let Command::Keys(KeysCommand::NewEncryptionKey) = &cli.command {
        // Works on no store, so it needs none given.
        return keys::new_encryption_key(&mut out);
    }
    let target = match &cli.db {
        Some(text) => Target::parse(text)?,
        None => {
            return Err(CliError::new(
                "no store given: pass --db <TARGET> or set FINRIFT_DB",
            ))
        }
    };
    match &cli.command {
        Command::Schema => schema::print_state(backend::schema(&target).await?, &mut out),
        Command::Migrate => schema::print_migration(backend::migrate(&target).await?, &mut out),
        Command::Clients(command) => {
            let store = backend::open(&target).await?;
            clients::run(store.storage(), command, &mut out).await
        }
        Command::Keys(command) => {
            let store = backend::open(&target).await?;
            keys::run(store.key_sets(), command, &mut out).await
        }
        Command::Purge(args) => {
            // Whole seconds, for a plain instant in the report; what expires within this
            // second waits for the next purge.
            let now = SystemClock.now();
            let now = now.replace_nanosecond(0).unwrap_or(now);
            let before = args.before.unwrap_or(now);
            if before > now {
                return Err(CliError::new(
                    "--before is in the future: purging then would delete codes and tokens \
                     that are still live",
                ));
            }
            let store = backend::open(&target).await?;
            purge::run(store.storage(), before, &mut out).await
        }
    }
}

/// Writes a remark for the person at the terminal to standard error. A failure to write
/// it is ignored: the remark is not the command's result, and the exit code still is.
fn note(text: &str) {
    let _ = writeln!(io::stderr(), "finrift: {text}");
}
