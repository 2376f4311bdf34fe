//! `finrift schema` and `finrift migrate`: what they print.

use std::io::Write;

use crate::backend::{Migration, SchemaState};
use crate::error::CliError;

/// Prints a store's schema version and whether it is current.
pub fn print_state(state: SchemaState, out: &mut dyn Write) -> Result<(), CliError> {
    let SchemaState { found, current } = state;
    let verdict = if found == current {
        "current".to_owned()
    } else if found == 0 {
        "no finrift schema yet: `finrift migrate` creates it".to_owned()
    } else if found < current {
        format!("older than this build's {current}: `finrift migrate` brings it up to date")
    } else {
        format!("newer than this build's {current}: written by a newer finrift")
    };
    writeln!(out, "schema version {found} ({verdict})")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))
}

/// Prints what a migration did.
pub fn print_migration(migration: Migration, out: &mut dyn Write) -> Result<(), CliError> {
    let Migration { before, after } = migration;
    let text = match before {
        None => format!("created the store at schema version {after}"),
        Some(before) if before == after => format!("schema version {after}: already current"),
        Some(before) => format!("migrated from schema version {before} to {after}"),
    };
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))
}
