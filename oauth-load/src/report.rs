//! The report: a markdown section with the machine, the command, the table and a text
//! chart, and its place in `BENCHMARKS.md` between [`START`] and [`END`].

use std::fmt::Write as _;
use std::time::Duration;

use crate::machine::Machine;
use crate::scenario::{Bounds, Outcome, Scenario};
use crate::server::Store;

/// The marker before the section.
pub const START: &str = "<!-- HTTP-LOAD-START -->";
/// The marker after the section.
pub const END: &str = "<!-- HTTP-LOAD-END -->";

/// The widest bar of the chart, in characters.
const BAR_WIDTH: usize = 40;

/// One measured scenario on one store, with the server's memory after it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The store the demo ran on.
    pub store: Store,
    /// What the scenario measured.
    pub outcome: Outcome,
    /// The demo's `VmRSS` after the scenario, in KiB.
    pub rss_kib: u64,
}

/// Everything the section says.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// The machine.
    pub machine: &'a Machine,
    /// The command that produced it.
    pub command: &'a str,
    /// The bounds of each scenario.
    pub bounds: Bounds,
    /// The rows, in the order they ran.
    pub rows: &'a [Row],
    /// The load average before and after the run.
    pub load: (&'a str, &'a str),
    /// How long the whole run took.
    pub took: Duration,
    /// Where the server and the generator ran: which CPUs, or why they were not pinned.
    pub placement: &'a str,
    /// The table of the goals, judged on `rows` (see [`crate::goals`]).
    pub goals: &'a str,
}

/// The markdown of the section (without the markers).
pub fn section(parts: &Section<'_>) -> String {
    let mut out = String::new();
    let bounds = parts.bounds;
    let _ = write!(
        out,
        "## Over HTTP: the axum demo under load

Measured from outside by `oauth-load`: it starts the release build of the axum demo
(`target/release/axum-demo`) as a child process on a free loopback port, once with
`FINRIFT_DB=:memory:` and once on a fresh SQLite file (the demo's defaults: WAL,
`synchronous = FULL`), and drives it over HTTP/1.1 with keep-alive clients, one
connection each, at 1, 16 and 64 concurrent connections, each connection from its own
loopback source address (`127.0.0.2`, `127.0.0.3`, ...). Each scenario runs for at most
{requests} operations or {seconds} s, whichever comes first, after its connections are
open and one unmeasured operation of its kind; every answer is checked (status, and the
token, form fields or redirect it must carry). The server's resident memory (`VmRSS` of
`/proc/<pid>/status`) is read after each scenario; one process serves all the scenarios
of a store in the order listed, so what the earlier ones stored is still there.

Run it with:

```sh
cargo run --release -p oauth-load            # builds the demo if needed, rewrites this section
cargo run --release -p oauth-load -- --quick # a few hundred operations per scenario, prints only
```

The scenarios:

- **client credentials**: `POST /token` for `demo-service` with HTTP Basic; `200` with an
  `access_token`. Its secret is a password-style value kept as a PBKDF2 derivation: the
  engine derives it once and then remembers the secret it checked (its secret memory), so
  these numbers show the remembered check, not one PBKDF2 per request.
- **API call (JWT)**: `GET /api/payments` with one ES256 JWT access token got beforehand;
  `200`.
- **revocation**: `POST /revoke` as `demo-service`, each of a distinct live access token
  minted beforehand (unmeasured, as many as the same bounds let it mint, so this scenario
  may run fewer operations than the others); `200`, and afterwards a revoked token is
  refused by the API.
- **code flow**: a whole authorization-code flow with PKCE as `alice`, one operation of
  three requests: `GET /authorize`, the login form posted with its `finrift_csrf` cookie
  (`decision=approve`), the code read from the 303's `Location` (its `state` and `iss`
  checked), `POST /token`. The user's password is checked by PBKDF2 on every login, on the
  engine's hashing pool of two threads: that sets this scenario's pace.

Why one address per connection: the demo's failure limiter keys its budgets by the
caller's IP address and counts the credential checks still under way against them, so
one address may have at most its budget (10) of client authentications or logins in
flight; beyond that it is asked to retry in a second (`429` with `Retry-After`), by
design. From one address, 16 or 64 connections measure that guard (a trial run from
`127.0.0.1` alone got `429` for part of the SQLite client-credentials requests and most
code flows at 16 and 64 connections); from separate addresses they measure the server, as
that many separate callers would see it.

Client credentials and revocations write to the store on every request (the grant
issued, the grant revoked): on SQLite each is durable (`synchronous = FULL`) before it is
answered, and the flushes, not the HTTP layer, are what separate them from the memory
store. Concurrent requests share flushes: the store's writer thread commits the writes
waiting together in one transaction, so 16 connections get several times what one gets.
The API calls
verify the JWT's signature and read the store (a revoked token must be refused).

The load generator runs on the same machine as the server. Where the machine has two
CPUs or more and `taskset` (util-linux) is there, the server runs on one CPU (its runtime
then runs one worker, beside the engine's hashing pool) and the generator on the others,
so that the generator's work is not counted against the server; `--no-pin` runs both
unpinned. The machine is a shared VM where other work runs beside it, so take the
numbers as an order of magnitude, and compare rows of one run rather than runs.

- Machine: `nproc` = {cpus}, {model}
- Placement: {placement}
- Command: `{command}`
- Load average before: `{before}`; after: `{after}`
- The whole run took {took:.1} s.

",
        requests = int(bounds.max_requests),
        seconds = bounds.max_duration.as_secs_f64(),
        cpus = parts.machine.cpus,
        model = parts.machine.cpu_model,
        command = parts.command,
        before = parts.load.0,
        after = parts.load.1,
        took = parts.took.as_secs_f64(),
        placement = parts.placement,
    );
    out.push_str(&table(parts.rows));
    out.push('\n');
    out.push_str(
        "The goals over HTTP (client-credentials tokens are ES256 JWT access tokens):\n\n",
    );
    out.push_str(parts.goals);
    out.push('\n');
    if let Some(note) = memory_note(parts.rows) {
        out.push_str(&note);
        out.push('\n');
    }
    out.push_str(&chart(parts.rows));
    out
}

/// What the memory store's resident memory holds after its 64-connection client
/// credentials scenario: the grants issued so far, kept until they expire (long after the
/// run), and the server itself. The bytes per grant are at most the growth of `VmRSS` over
/// that scenario divided by its requests (the connections it adds grow it too); `None`
/// without the 16- and 64-connection rows.
pub fn memory_note(rows: &[Row]) -> Option<String> {
    let credentials: Vec<&Row> = rows
        .iter()
        .filter(|r| r.store == Store::Memory && r.outcome.scenario == Scenario::ClientCredentials)
        .collect();
    let at = |connections: usize| {
        credentials
            .iter()
            .find(|r| r.outcome.connections == connections)
    };
    let (before, last) = (at(16)?, at(64)?);
    if last.outcome.completed == 0 || last.rss_kib < before.rss_kib {
        return None;
    }
    let per_grant = (last.rss_kib - before.rss_kib) as f64 * 1024.0 / last.outcome.completed as f64;
    let issued: u64 = credentials.iter().map(|r| r.outcome.completed).sum();
    let grants_mib = per_grant * issued as f64 / (1024.0 * 1024.0);
    let total_mib = last.rss_kib as f64 / 1024.0;
    Some(format!(
        "What the memory store's server holds after the 64-connection client-credentials \
         scenario ({total_mib:.1} MiB): the {issued} grants those scenarios issued, each with \
         its token's record, kept until they expire (after this run), which grew it by \
         about {per_grant:.0} bytes per request over that scenario (the connections it \
         added count in that too, so a grant costs at most that): at most about \
         {grants_mib:.1} MiB of grants, and at least about {server:.1} MiB of the server \
         itself (runtime, connections, keys, the allocator's spare room).\n",
        issued = int(issued),
        server = (total_mib - grants_mib).max(0.0),
    ))
}

/// The table, one line per row.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| store | scenario | connections | operations | per second | p50 | p99 | errors | server RSS after |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let o = &row.outcome;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} MiB |",
            row.store.name(),
            o.scenario.name(),
            o.connections,
            int(o.completed),
            int(o.per_second().round() as u64),
            millis(o.latency.p50),
            millis(o.latency.p99),
            o.errors,
            row.rss_kib as f64 / 1024.0,
        );
    }
    out
}

/// Operations per second as bars of `#`, one block per scenario, each scaled to that
/// scenario's fastest row.
pub fn chart(rows: &[Row]) -> String {
    let mut out =
        String::from("Operations per second, by scenario (bars scaled per scenario):\n\n```text\n");
    for scenario in Scenario::ALL {
        let of_scenario: Vec<&Row> = rows
            .iter()
            .filter(|row| row.outcome.scenario == scenario)
            .collect();
        let Some(top) = of_scenario
            .iter()
            .map(|row| row.outcome.per_second())
            .reduce(f64::max)
        else {
            continue;
        };
        let _ = writeln!(out, "{}: {}s per second", scenario.name(), scenario.unit());
        for row in of_scenario {
            let rate = row.outcome.per_second();
            let width = if top > 0.0 {
                ((rate / top) * BAR_WIDTH as f64).round() as usize
            } else {
                0
            };
            let _ = writeln!(
                out,
                "  {:<6} {:>2} | {:<bar$} {}",
                row.store.name(),
                row.outcome.connections,
                "#".repeat(width.max(usize::from(rate > 0.0))),
                int(rate.round() as u64),
                bar = BAR_WIDTH,
            );
        }
        out.push('\n');
    }
    if out.ends_with("\n\n") {
        out.pop();
    }
    out.push_str("```\n");
    out
}

/// `document` with `section` between the markers: what was between them is replaced,
/// everything else is kept as it is. Without both markers (in order), they are added at
/// the end.
pub fn place(document: &str, section: &str) -> String {
    let body = format!("{START}\n{}\n{END}", section.trim_end());
    if let Some(start) = document.find(START) {
        if let Some(end) = document[start..].find(END) {
            let end = start + end + END.len();
            return format!("{}{body}{}", &document[..start], &document[end..]);
        }
    }
    let mut out = document.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&body);
    out.push('\n');
    out
}

/// An integer with thousands separators: `12,345`.
pub(crate) fn int(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A latency in milliseconds: two decimals below 10 ms, one below 100 ms, none below a
/// second; in seconds from there.
fn millis(value: Duration) -> String {
    let ms = value.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Latency;

    fn row(store: Store, scenario: Scenario, connections: usize, completed: u64) -> Row {
        Row {
            store,
            outcome: Outcome {
                scenario,
                connections,
                completed,
                errors: 0,
                first_error: None,
                elapsed: Duration::from_secs(1),
                latency: Latency {
                    p50: Duration::from_micros(420),
                    p99: Duration::from_millis(12),
                    max: Duration::from_millis(20),
                },
            },
            rss_kib: 20 * 1024,
        }
    }

    #[test]
    fn the_memory_note_splits_resident_memory_into_grants_and_server() {
        let mut rows = vec![
            row(Store::Memory, Scenario::ClientCredentials, 1, 1_000),
            row(Store::Memory, Scenario::ClientCredentials, 16, 10_000),
            row(Store::Memory, Scenario::ClientCredentials, 64, 20_000),
        ];
        rows[1].rss_kib = 20_000;
        // 20,000 requests grew it by 10,000 KiB: 512 bytes each.
        rows[2].rss_kib = 30_000;
        let note = memory_note(&rows).unwrap();
        assert!(note.contains("(29.3 MiB)"), "{note}");
        assert!(note.contains("the 31,000 grants"), "{note}");
        assert!(note.contains("about 512 bytes per request"), "{note}");
        // 31,000 × 512 bytes = 15.1 MiB of grants, the other 14.2 MiB the server's.
        assert!(note.contains("at most about 15.1 MiB of grants"), "{note}");
        assert!(
            note.contains("at least about 14.2 MiB of the server"),
            "{note}"
        );
        assert_eq!(memory_note(&rows[..2]), None);
    }

    #[test]
    fn places_the_section_between_the_markers_only() {
        let doc = format!("# T\n\nbefore\n\n{START}\nold\n{END}\n\nafter\n");
        let placed = place(&doc, "new\n");
        assert_eq!(
            placed,
            format!("# T\n\nbefore\n\n{START}\nnew\n{END}\n\nafter\n")
        );
        // Again: the same.
        assert_eq!(place(&placed, "new"), placed);
        // No markers: added at the end.
        assert_eq!(
            place("# T\n\ntext", "new"),
            format!("# T\n\ntext\n\n{START}\nnew\n{END}\n")
        );
        // An END before START does not count.
        let odd = format!("{END}\n{START}\nx");
        assert!(place(&odd, "new").ends_with(&format!("{START}\nnew\n{END}\n")));
    }

    #[test]
    fn table_and_chart() {
        let rows = [
            row(Store::Memory, Scenario::ClientCredentials, 1, 1000),
            row(Store::Memory, Scenario::ClientCredentials, 16, 4000),
            row(Store::Sqlite, Scenario::CodeFlow, 1, 50),
        ];
        let table = table(&rows);
        assert!(table.contains(
            "| memory | client credentials | 16 | 4,000 | 4,000 | 0.42 ms | 12.0 ms | 0 | 20.0 MiB |"
        ));
        let chart = chart(&rows);
        assert!(chart.contains(&format!("  memory 16 | {} 4,000", "#".repeat(BAR_WIDTH))));
        assert!(chart.contains(&format!("  memory  1 | {:<40} 1,000", "#".repeat(10))));
        assert!(chart.contains("code flow (3 requests each): flows per second"));
        assert!(chart.starts_with("Operations per second") && chart.ends_with("```\n"));
    }

    #[test]
    fn numbers() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(millis(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(millis(Duration::from_micros(12345)), "12.3 ms");
        assert_eq!(millis(Duration::from_millis(250)), "250 ms");
        assert_eq!(millis(Duration::from_millis(1683)), "1.68 s");
    }
}
