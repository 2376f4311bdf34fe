//! SC-03 under load: a writer process killed with SIGKILL while many writes are in flight,
//! over and over on the same file. The store commits concurrent writes in groups (one
//! transaction and one flush for the writes waiting together), so a kill lands in the
//! middle of a batch: some of its writes done in the transaction, none acknowledged yet.
//! Nothing acknowledged may be lost, and nothing may be half-written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::records::{approve, code, from_hex, grant, hex, pair};
use oauth_core::storage::{CodeConsumption, CodeLookup, Redemption, Rotation};
use oauth_core::{CodeStore, RandomSource, TokenStore};
use oauth_store_sqlite::SqliteStore;

/// The environment variable that makes this test binary the child writer.
const CHILD_DB: &str = "FINRIFT_SC03_CHILD_DB";
/// The test's own name, which the child is started with.
const TEST_NAME: &str = "sc03_killed_writer_under_concurrent_load_loses_no_acknowledged_write";
/// How many times the child is started on the same file and killed.
const KILLS: usize = 12;
/// The child's concurrent writer tasks: more than one batch's worth waits at any moment.
const TASKS: usize = 16;

/// SC-03: a child process runs 16 writer tasks (issue, approve, consume, redeem, rotate,
/// revoke)
/// on one SQLite file and prints each write once the store acknowledged it; the parent
/// kills it with SIGKILL after a random number of acknowledgements, twelve times, each
/// restart reopening the file the last kill left. After every kill the file passes
/// `PRAGMA integrity_check`, no grant is half-written (a code without its single-use mark,
/// a consumed code without its grant, a token without its grant, a grant without both
/// tokens of its issuance, redemption or rotation), and every write acknowledged in any
/// round is there.
#[test]
fn sc03_killed_writer_under_concurrent_load_loses_no_acknowledged_write() {
    if let Ok(path) = std::env::var(CHILD_DB) {
        child_write_loop(&path);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.db");
    let random = RandomSource::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut every_round = Vec::new();
    for _ in 0..KILLS {
        // From a handful of lines (the child barely started) to hundreds (mid-run).
        let mut draw = [0u8; 2];
        random.fill(&mut draw).unwrap();
        let kill_after = 1 + usize::from(u16::from_le_bytes(draw)) % 600;
        let acknowledged = run_and_kill(&path, kill_after);
        assert_sound(&path);
        runtime.block_on(assert_acknowledged(&path, &acknowledged));
        every_round.extend(acknowledged);
    }
    // A later round's crash did not undo an earlier round's writes.
    runtime.block_on(assert_acknowledged(&path, &every_round));
}

/// Starts the child on `path`, kills it once it has printed `kill_after` lines of
/// acknowledged writes, and returns every acknowledgement it printed before it died.
fn run_and_kill(path: &Path, kill_after: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < kill_after {
        let Some(line) = lines.next() else {
            panic!(
                "the child stopped after {} writes, before it was killed",
                acknowledged.len()
            );
        };
        let line = line.unwrap();
        if is_acknowledgement(&line) {
            acknowledged.push(line);
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
                           // Whatever the child printed before it died was acknowledged too; a line cut short
                           // by the kill is not one (it names no complete hash).
    acknowledged.extend(
        lines
            .map_while(Result::ok)
            .filter(|line| is_acknowledgement(line)),
    );
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "the child died of SIGKILL mid-run"
        );
    }
    #[cfg(not(unix))]
    assert!(!status.success());
    acknowledged
}

/// Whether `line` is a whole acknowledgement: a kind, then hashes of 64 hex digits.
fn is_acknowledgement(line: &str) -> bool {
    let mut words = line.split(' ');
    let hashes = match words.next() {
        Some("issued") => 2,
        Some("consumed" | "revoked") => 1,
        Some("rotated" | "redeemed") => 3,
        _ => return false,
    };
    let words: Vec<&str> = words.collect();
    words.len() == hashes
        && words
            .iter()
            .all(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The file opens, is sound, and holds no half of any write.
fn assert_sound(path: &Path) {
    let raw = rusqlite::Connection::open(path).unwrap();
    let count = |sql: &str| -> i64 { raw.query_row(sql, [], |row| row.get(0)).unwrap() };
    let check: String = raw
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        count("SELECT COUNT(*) FROM uses"),
        count("SELECT COUNT(*) FROM codes"),
        "every approval stored its single-use mark and its code together"
    );
    // Every consumed code is of a grant issued before it (consumed alone) or with it
    // (redeemed): a redemption stores its grant and consumes its code together.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM codes c WHERE c.consumed = 1 AND NOT EXISTS \
             (SELECT 1 FROM grants g WHERE g.id = c.grant_id)"
        ),
        0,
        "a consumed code without its grant"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM tokens t WHERE NOT EXISTS \
             (SELECT 1 FROM grants g WHERE g.id = t.grant_id)"
        ),
        0,
        "a token without its grant"
    );
    // An issuance stores a grant and two tokens; each rotation marks one refresh token
    // and stores two more.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM grants g WHERE \
             (SELECT COUNT(*) FROM tokens t WHERE t.grant_id = g.id) <> 2 + 2 * \
             (SELECT COUNT(*) FROM tokens t WHERE t.grant_id = g.id AND t.rotated = 1)"
        ),
        0,
        "a grant with a half-written issuance or rotation"
    );
}

/// Every write in `acknowledged` is in the store at `path`.
async fn assert_acknowledged(path: &Path, acknowledged: &[String]) {
    let store = SqliteStore::open(path).await.unwrap();
    let random = RandomSource::new();
    let mut counts = [0usize; 5];
    for line in acknowledged {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["issued", access, refresh] => {
                counts[0] += 1;
                for hash in [access, refresh] {
                    assert!(
                        store.get_token(&from_hex(hash)).await.unwrap().is_some(),
                        "an acknowledged issuance was lost"
                    );
                }
            }
            ["consumed", hash] => {
                counts[1] += 1;
                assert!(
                    matches!(
                        store.consume_code(&from_hex(hash)).await.unwrap(),
                        CodeConsumption::AlreadyConsumed(_)
                    ),
                    "an acknowledged consumption was lost"
                );
            }
            ["redeemed", code, access, refresh] => {
                counts[4] += 1;
                assert!(
                    matches!(
                        store.get_code(&from_hex(code)).await.unwrap(),
                        CodeLookup::Consumed(_)
                    ),
                    "an acknowledged redemption lost its consumption"
                );
                for hash in [access, refresh] {
                    assert!(
                        store.get_token(&from_hex(hash)).await.unwrap().is_some(),
                        "an acknowledged redemption lost its tokens"
                    );
                }
            }
            ["rotated", old, access, refresh] => {
                counts[2] += 1;
                let old = store.get_token(&from_hex(old)).await.unwrap().unwrap();
                assert!(old.rotated, "an acknowledged rotation was lost");
                let g = grant(&random);
                assert_eq!(
                    store
                        .rotate_refresh(&old.hash, &pair(&random, &g))
                        .await
                        .unwrap(),
                    Rotation::AlreadyRotated
                );
                for hash in [access, refresh] {
                    assert!(store.get_token(&from_hex(hash)).await.unwrap().is_some());
                }
            }
            ["revoked", hash] => {
                counts[3] += 1;
                let token = store.get_token(&from_hex(hash)).await.unwrap().unwrap();
                assert!(token.revoked, "an acknowledged revocation was lost");
            }
            _ => unreachable!("only acknowledgements are kept: {line}"),
        }
    }
    assert!(counts[0] > 0, "writes were checked: {counts:?}");
}

/// The child: [`TASKS`] tasks write as fast as they can and acknowledge each write on
/// stdout once the store returned. Bounded, and it stops when stdout closes (its parent
/// died).
fn child_write_loop(path: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(path).await.unwrap());
        let writers: Vec<_> = (0..TASKS)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let random = RandomSource::new();
                    for i in 0..100_000u32 {
                        let g = grant(&random);
                        let tokens = pair(&random, &g);
                        store.issue(&g, &tokens).await.unwrap();
                        let issued =
                            format!("issued {} {}", hex(&tokens[0].hash), hex(&tokens[1].hash));
                        if !acknowledge(&issued) {
                            return;
                        }
                        let c = code(&random, &g.id);
                        approve(&*store, c.clone()).await.unwrap();
                        store.consume_code(&c.hash).await.unwrap();
                        if !acknowledge(&format!("consumed {}", hex(&c.hash))) {
                            return;
                        }
                        let redeemed_grant = grant(&random);
                        let to_redeem = code(&random, &redeemed_grant.id);
                        approve(&*store, to_redeem.clone()).await.unwrap();
                        let redeemed_tokens = pair(&random, &redeemed_grant);
                        let redemption = store
                            .redeem_code(&to_redeem.hash, &redeemed_grant, &redeemed_tokens)
                            .await
                            .unwrap();
                        assert_eq!(redemption, Redemption::Issued);
                        let redeemed = format!(
                            "redeemed {} {} {}",
                            hex(&to_redeem.hash),
                            hex(&redeemed_tokens[0].hash),
                            hex(&redeemed_tokens[1].hash)
                        );
                        if !acknowledge(&redeemed) {
                            return;
                        }
                        let next = pair(&random, &g);
                        store.rotate_refresh(&tokens[1].hash, &next).await.unwrap();
                        let rotated = format!(
                            "rotated {} {} {}",
                            hex(&tokens[1].hash),
                            hex(&next[0].hash),
                            hex(&next[1].hash)
                        );
                        if !acknowledge(&rotated) {
                            return;
                        }
                        if i % 3 == 0 {
                            store.revoke_token(&next[0].hash).await.unwrap();
                            if !acknowledge(&format!("revoked {}", hex(&next[0].hash))) {
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
    });
}

/// Prints one acknowledgement, whole, and flushes it; `false` once the parent is gone.
fn acknowledge(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}
