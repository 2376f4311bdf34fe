//! The command line: every command, argument and help text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use oauth_core::jose::Algorithm;
use oauth_core::GrantType;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Administers a finrift store: client registrations, the deployment's signing keys, the
/// purge of expired records, and the schema.
///
/// Every command works on the store given by --db or the FINRIFT_DB environment
/// variable: a SQLite database file (a path, or sqlite:PATH) or a PostgreSQL URL
/// (postgres:// or postgresql://). Every command but `migrate` refuses a store that does
/// not exist yet, so that a mistyped path never becomes a new, empty database.
#[derive(Debug, Parser)]
#[command(name = "finrift", version, propagate_version = true)]
pub struct Cli {
    /// The store: a SQLite file path (or sqlite:PATH), or a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "FINRIFT_DB",
        // A PostgreSQL URL may hold a password: `--help` must not print it.
        hide_env_values = true,
        value_name = "TARGET",
        value_parser = clap::value_parser!(OsString)
    )]
    pub db: Option<OsString>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Registers, lists, shows and removes clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Lists, rotates and retires the signing keys every instance of the deployment
    /// shares (kept sealed in the store), and makes a new key-encryption key.
    ///
    /// The signing keys are sealed under the key-encryption key that every instance is
    /// given: from the FINRIFT_KEY_ENCRYPTION_KEY environment variable, or the file that
    /// --key-encryption-key-file names. It is never taken as a value on the command line,
    /// where other users could read it in the process list.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Deletes the codes, tokens, grants and one-time-use marks that expired, in small
    /// batches, and prints how many went.
    Purge(PurgeArgs),
    /// Prints the store's schema version and whether it is the one this build writes.
    /// Changes nothing.
    Schema,
    /// Creates the store, or applies its pending schema migrations. The only command
    /// that creates a store.
    Migrate,
}

/// The `clients` commands.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Registers a client. A confidential client's new secret is printed once, alone on
    /// standard output; the store keeps only its hash.
    Add(AddArgs),
    /// Lists every client, one line each: id, kind, grant types, allowed scopes
    /// (tab-separated; `-` for none).
    List,
    /// Prints a client's registration (never its secret: only whether one is set).
    Show(IdArg),
    /// Removes a client. Its grants and tokens are refused from then on, and go at their
    /// expiry.
    Remove(IdArg),
}

/// The `keys` commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Lists the signing keys, one line each: key id, role (current, next or previous),
    /// algorithm, and since when it has had that role (RFC 3339), tab-separated. A store
    /// with no key set yet lists nothing, and says so on standard error.
    List(KeyArgs),
    /// Switches the signing key now: the next key, or a new one if none is published,
    /// becomes current and signs from now on; the current key becomes previous and still
    /// verifies the tokens it signed until it is retired. Prints the new key's id. On a
    /// store with no key set yet, creates the first one, with one current key.
    ///
    /// For a key that must stop signing at once (it may have leaked): a resource server
    /// whose cached JWKS predates the new key refuses its tokens until it fetches the
    /// JWKS again. The scheduled rotation, which the servers take step by step and which
    /// publishes a key long before it signs, needs no command.
    Rotate(RotateArgs),
    /// Drops a previous key: it leaves the JWKS, and the tokens it signed stop verifying.
    /// The current and the next key cannot be retired.
    Retire(RetireArgs),
    /// Prints a new random key-encryption key (base64url), for FINRIFT_KEY_ENCRYPTION_KEY
    /// in the configuration of every instance. Needs no store.
    NewEncryptionKey,
}

/// Where a `keys` command finds the key-encryption key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// A file holding the key-encryption key (base64url text), read instead of the
    /// FINRIFT_KEY_ENCRYPTION_KEY environment variable.
    #[arg(long, value_name = "PATH")]
    pub key_encryption_key_file: Option<PathBuf>,
}

/// `keys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The algorithm of a key generated now.
    #[arg(long, value_enum, default_value = "ES256", value_name = "ALG")]
    pub algorithm: AlgorithmArg,

    /// Where the key-encryption key is.
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `keys retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The id of the previous key to drop, as `keys list` prints it.
    // A kid is base64url, so it may start with `-`: it is still the kid, not an option.
    #[arg(allow_hyphen_values = true)]
    pub kid: String,

    /// Where the key-encryption key is.
    #[command(flatten)]
    pub key: KeyArgs,
}

/// An algorithm a key can be generated for, as `--algorithm` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// ECDSA with P-256 and SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// EdDSA with Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl AlgorithmArg {
    /// The core's algorithm.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Es256 => Algorithm::Es256,
            Self::EdDsa => Algorithm::EdDsa,
        }
    }
}

/// `clients add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The client id: 1 to 255 printable ASCII characters.
    // An id may start with `-`: it is still the id, not an option.
    #[arg(allow_hyphen_values = true)]
    pub id: String,

    /// A redirect URI (repeat for several). The authorization_code grant needs one.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,

    /// A scope the client may ask for (repeat, or give several separated by spaces).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// A scope it gets when it asks for none; each must also be an allowed --scope.
    #[arg(long = "default-scope", value_name = "SCOPE")]
    pub default_scopes: Vec<String>,

    /// A public client: no secret (a browser or native app, protected by PKCE).
    #[arg(long)]
    pub public: bool,

    /// A grant type it may use (repeat for several). Default: authorization_code and
    /// refresh_token.
    #[arg(long = "grant", value_name = "TYPE")]
    pub grants: Vec<GrantArg>,

    /// Replaces a registration with the same id, whole; a confidential client then gets
    /// a new secret and the old one stops working.
    #[arg(long)]
    pub replace: bool,
}

/// A grant type, as `--grant` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GrantArg {
    /// The authorization code grant, with PKCE.
    #[value(name = "authorization_code")]
    AuthorizationCode,
    /// The client credentials grant (confidential clients only).
    #[value(name = "client_credentials")]
    ClientCredentials,
    /// Refresh tokens from the code grant.
    #[value(name = "refresh_token")]
    RefreshToken,
}

impl GrantArg {
    /// The core's grant type.
    pub fn grant_type(self) -> GrantType {
        match self {
            Self::AuthorizationCode => GrantType::AuthorizationCode,
            Self::ClientCredentials => GrantType::ClientCredentials,
            Self::RefreshToken => GrantType::RefreshToken,
        }
    }
}

/// A command on one client.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The client id.
    #[arg(allow_hyphen_values = true)]
    pub id: String,
}

/// `purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Purge what could no longer matter at this RFC 3339 instant (as
    /// 2025-01-31T12:00:00Z); not later than now. Default: now.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub before: Option<OffsetDateTime>,
}

fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("not an RFC 3339 instant such as 2025-01-31T12:00:00Z ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Key ids are base64url and client ids may start with `-`: either is the argument,
    /// never read as an option.
    #[test]
    fn ids_that_start_with_a_hyphen_are_arguments() {
        for line in [
            ["finrift", "keys", "retire", "-9abcDEF"],
            ["finrift", "clients", "show", "-odd-client"],
            ["finrift", "clients", "remove", "-odd-client"],
        ] {
            assert!(Cli::try_parse_from(line).is_ok(), "{line:?}");
        }
    }
}
