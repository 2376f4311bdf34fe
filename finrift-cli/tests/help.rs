//! Every command's `--help` says what it does and names its arguments, and exits 0
//! without a store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::finrift;

#[test]
fn every_command_has_help_that_names_its_arguments() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[],
            &[
                "clients",
                "keys",
                "purge",
                "schema",
                "migrate",
                "--db",
                "FINRIFT_DB",
            ],
        ),
        (&["clients"], &["add", "list", "show", "remove"]),
        (
            &["clients", "add"],
            &[
                "<ID>",
                "--redirect-uri",
                "--scope",
                "--default-scope",
                "--public",
                "--grant",
                "client_credentials",
                "--replace",
                "printed once",
            ],
        ),
        (&["clients", "list"], &["one line each", "--db"]),
        (&["clients", "show"], &["<ID>", "never its secret"]),
        (&["clients", "remove"], &["<ID>", "Removes a client"]),
        (
            &["keys"],
            &[
                "list",
                "rotate",
                "retire",
                "new-encryption-key",
                "FINRIFT_KEY_ENCRYPTION_KEY",
                "--key-encryption-key-file",
            ],
        ),
        (
            &["keys", "list"],
            &["current", "next", "previous", "--key-encryption-key-file"],
        ),
        (
            &["keys", "rotate"],
            &[
                "--algorithm",
                "ES256",
                "EdDSA",
                "Prints the new key's id",
                "creates the first",
                "--key-encryption-key-file",
            ],
        ),
        (
            &["keys", "retire"],
            &["<KID>", "previous key", "--key-encryption-key-file"],
        ),
        (
            &["keys", "new-encryption-key"],
            &["FINRIFT_KEY_ENCRYPTION_KEY", "Needs no store"],
        ),
        (&["purge"], &["--before", "RFC 3339", "expired"]),
        (&["schema"], &["schema version", "Changes nothing"]),
        (&["migrate"], &["Creates the store", "migrations"]),
    ];
    for (command, mentions) in cases {
        let args = [*command, &["--help"]].concat();
        let run = finrift(&args);
        let help = run.ok();
        for mention in *mentions {
            assert!(
                help.contains(mention),
                "{command:?} --help lacks {mention}:\n{help}"
            );
        }
    }
}

#[test]
fn help_never_prints_the_value_of_finrift_db() {
    let run = common::finrift_with(&["--help"], Some("postgres://admin:hunter2@db.example/x"));
    assert!(run.ok().contains("FINRIFT_DB"));
    assert!(!run.stdout.contains("hunter2"));
}
