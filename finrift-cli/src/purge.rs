//! `finrift purge`: delete what expired, through the token store's bounded batches.
//!
//! It needs no engine (and so no issuer or key configuration): it is the loop of
//! `Engine::purge_expired`, with the instant given by the admin.

use std::io::Write;

use oauth_core::storage::PurgeReport;
use oauth_core::{TokenStore, PURGE_BATCH};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::CliError;

/// Purges what could no longer matter at `before`, batch after batch, and prints the
/// totals.
pub async fn run<S: TokenStore + ?Sized>(
    store: &S,
    before: OffsetDateTime,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut total = PurgeReport::default();
    loop {
        let step = store
            .purge_expired_batch(before, PURGE_BATCH)
            .await
            .map_err(|e| CliError::storage("purge expired records", &e))?;
        total = total + step;
        // A step that did nothing yet says there is more would spin: stop.
        if !step.more || !step.did_work() {
            break;
        }
    }
    let instant = before
        .format(&Rfc3339)
        .unwrap_or_else(|_| before.to_string());
    writeln!(
        out,
        "purged what expired by {instant}: {} codes, {} tokens, {} grants, {} one-time-use marks",
        total.codes, total.tokens, total.grants, total.uses
    )
    .and_then(|()| out.flush())
    .map_err(|e| CliError::output(&e))
}
