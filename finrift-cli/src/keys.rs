//! `finrift keys`: the signing keys every instance of a deployment shares, kept sealed in
//! the store, worked on through the core's [`KeyVault`] so that an admin's change follows
//! the same rules as a server's (one compare-and-swap per change, the same roles).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use oauth_core::jose::{KeyEncryptionKey, KeyEntry, KeyRole, KeyVault, RotationStep};
use oauth_core::storage::KeySetStore;
use oauth_core::{Clock, SystemClock};
use time::format_description::well_known::Rfc3339;

use crate::cli::{KeyArgs, KeysCommand};
use crate::error::CliError;
use crate::note;

/// The environment variable that holds the key-encryption key, as every instance reads it.
pub const KEY_ENCRYPTION_KEY_VAR: &str = "FINRIFT_KEY_ENCRYPTION_KEY";

/// The `keys` commands' vault: the store's key set, sealed under the deployment's key.
type Vault = KeyVault<Arc<dyn KeySetStore>>;

/// Runs one `keys` command that works on a store, writing its answer to `out`.
pub async fn run(
    store: Arc<dyn KeySetStore>,
    command: &KeysCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        KeysCommand::List(key) => list(&vault(store, key)?, out).await,
        KeysCommand::Rotate(args) => {
            rotate(&vault(store, &args.key)?, args.algorithm.algorithm(), out).await
        }
        KeysCommand::Retire(args) => retire(&vault(store, &args.key)?, &args.kid, out).await,
        KeysCommand::NewEncryptionKey => new_encryption_key(out),
    }
}

/// Prints a new random key-encryption key. Needs no store.
pub fn new_encryption_key(out: &mut dyn Write) -> Result<(), CliError> {
    let text = KeyEncryptionKey::generate_text()
        .map_err(|e| CliError::keys("make a key-encryption key", &e))?;
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))?;
    note(&format!(
        "give it to every instance as {KEY_ENCRYPTION_KEY_VAR}, and keep it apart from the \
         database and its backups"
    ));
    Ok(())
}

fn vault(store: Arc<dyn KeySetStore>, key: &KeyArgs) -> Result<Vault, CliError> {
    Ok(KeyVault::new(store, encryption_key(key)?))
}

/// The key-encryption key: from the file `--key-encryption-key-file` names, else from
/// the environment. Neither the key nor any part of it is ever repeated in an error.
fn encryption_key(args: &KeyArgs) -> Result<KeyEncryptionKey, CliError> {
    let (text, source) = match &args.key_encryption_key_file {
        Some(path) => (read_key_file(path)?, format!("the key file {path:?}")),
        None => match std::env::var_os(KEY_ENCRYPTION_KEY_VAR) {
            Some(value) if !value.is_empty() => {
                let text = value.into_string().map_err(|_| {
                    CliError::new(format!("{KEY_ENCRYPTION_KEY_VAR} is not base64url text"))
                })?;
                (text, KEY_ENCRYPTION_KEY_VAR.to_owned())
            }
            _ => {
                return Err(CliError::new(format!(
                    "no key-encryption key: set {KEY_ENCRYPTION_KEY_VAR} (or pass \
                     --key-encryption-key-file) to the key every instance of the deployment \
                     is given; `finrift keys new-encryption-key` makes a new one"
                )))
            }
        },
    };
    KeyEncryptionKey::from_base64url(&text).map_err(|e| CliError::new(format!("{source}: {e}")))
}

fn read_key_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::new(format!(
            "cannot read the key-encryption key file {path:?}: {e}"
        ))
    })
}

/// Prints every key, the current first, then the next, then the previous ones from the
/// most recently retired from signing.
async fn list(vault: &Vault, out: &mut dyn Write) -> Result<(), CliError> {
    let mut entries = vault
        .list()
        .await
        .map_err(|e| CliError::keys("read the signing keys", &e))?;
    if entries.is_empty() {
        note("the store holds no signing keys yet: `finrift keys rotate` creates the first");
        return Ok(());
    }
    entries.sort_by_key(|entry| (rank(entry.role()), std::cmp::Reverse(entry.since())));
    for entry in &entries {
        writeln!(out, "{}", line(entry)?).map_err(|e| CliError::output(&e))?;
    }
    out.flush().map_err(|e| CliError::output(&e))
}

/// A key's line: kid, role, algorithm, since, tab-separated (a kid holds no tab).
fn line(entry: &KeyEntry) -> Result<String, CliError> {
    let since = entry
        .since()
        .format(&Rfc3339)
        .map_err(|e| CliError::new(format!("cannot print the date of a key: {e}")))?;
    Ok(format!(
        "{}\t{}\t{}\t{since}",
        entry.kid(),
        entry.role(),
        entry.algorithm()
    ))
}

fn rank(role: KeyRole) -> u8 {
    match role {
        KeyRole::Current => 0,
        KeyRole::Next => 1,
        _ => 2,
    }
}

/// Makes a new key sign now (creating the first key set on an empty store), and prints
/// its id.
async fn rotate(
    vault: &Vault,
    alg: oauth_core::jose::Algorithm,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // Whole seconds, as the key set keeps them.
    let now = SystemClock.now();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let step = vault
        .rotate_now(alg, now)
        .await
        .map_err(|e| CliError::keys("rotate the signing keys", &e))?;
    let (kid, remark) = match step {
        RotationStep::Created { kid } => (
            kid,
            "the store held no signing keys: created the first key set, whose one key signs",
        ),
        RotationStep::Activated { kid } => (
            kid,
            "signs from now on, at each instance's next poll of the store; the former \
             current key is previous, and verifies the tokens it signed until `finrift keys \
             retire` drops it",
        ),
        other => {
            return Err(CliError::new(format!(
                "the rotation did not switch keys (it answered {other:?}); nothing changed"
            )))
        }
    };
    writeln!(out, "{kid}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))?;
    note(&format!("key {kid}: {remark}"));
    Ok(())
}

/// Drops the previous key `kid`.
async fn retire(vault: &Vault, kid: &str, out: &mut dyn Write) -> Result<(), CliError> {
    vault
        .retire(kid)
        .await
        .map_err(|e| CliError::keys("retire the key", &e))?;
    writeln!(out, "key {kid} retired")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))
}
