//! `finrift clients`: registration, secrets, listing, showing and removal, end to end
//! through the built binary and a SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{database_bytes, finrift_on, finrift_with, migrated_db, open};
use oauth_core::{
    Client, ClientId, ClientStore, Config, Engine, FormRequest, ScopeSet, SystemClock,
    TokenOutcome, FORM_CONTENT_TYPE, MAX_CLIENT_PAGE,
};
use oauth_store_sqlite::{Durability, SqliteOptions, SqliteStore};

const ADD_SERVICE: &[&str] = &[
    "clients",
    "add",
    "billing",
    "--grant",
    "client_credentials",
    "--scope",
    "read:payments",
    "--default-scope",
    "read:payments",
];

/// Adds the confidential client `billing` and answers its secret.
fn add_service(db: &std::path::Path, extra: &[&str]) -> String {
    let mut args = ADD_SERVICE.to_vec();
    args.extend_from_slice(extra);
    let run = finrift_on(db, &args);
    let secret = run.ok().trim_end().to_owned();
    assert_eq!(run.stdout.lines().count(), 1, "the secret alone: {run:?}");
    assert!(run.stderr.contains("shown this once"), "{run:?}");
    secret
}

async fn token_for(engine: &Engine<SqliteStore, SystemClock>, secret: &str) -> TokenOutcome {
    let body = format!("grant_type=client_credentials&client_id=billing&client_secret={secret}");
    engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap()
}

#[tokio::test]
async fn confidential_secret_is_printed_once_stored_hashed_and_authenticates() {
    let (_dir, db) = migrated_db();
    let secret = add_service(&db, &[]);
    assert_eq!(secret.len(), 43, "256 random bits, base64url");
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    let bytes = database_bytes(&db);
    assert!(!bytes.is_empty());
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret itself is in the database"
    );

    let shown = finrift_on(&db, &["clients", "show", "billing"]);
    let shown = shown.ok();
    assert!(shown.contains("secret: set (hashed)\n"), "{shown}");
    assert!(!shown.contains(&secret));

    // A server on the same file authenticates the printed secret, and only it.
    let store = open(&db).await;
    let client = store
        .get_client(&ClientId::new("billing").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(client.verify_secret(&secret));
    assert!(!client.verify_secret("not-the-secret-not-the-secret-not-the-secret"));
    let config = Config::builder("https://auth.example").build().unwrap();
    let engine = Engine::builder(store, SystemClock, config).build().unwrap();
    match token_for(&engine, &secret).await {
        TokenOutcome::Issued(tokens) => assert_eq!(tokens.scope.to_string(), "read:payments"),
        other => panic!("the secret was refused: {other:?}"),
    }
    let wrong = secret.replace(&secret[..1], if &secret[..1] == "A" { "B" } else { "A" });
    assert!(matches!(
        token_for(&engine, &wrong).await,
        TokenOutcome::Refused(_)
    ));
}

#[tokio::test]
async fn a_duplicate_id_is_refused_unless_replaced() {
    let (_dir, db) = migrated_db();
    let first = add_service(&db, &[]);

    let again = finrift_on(&db, ADD_SERVICE);
    assert!(again.failed().contains("already registered"), "{again:?}");
    assert!(again.failed().contains("--replace"));
    assert_eq!(again.stdout, "", "no secret for a refused registration");

    let second = add_service(&db, &["--replace"]);
    assert_ne!(first, second);
    let store = open(&db).await;
    let client = store
        .get_client(&ClientId::new("billing").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(client.verify_secret(&second), "the new secret works");
    assert!(
        !client.verify_secret(&first),
        "the replaced one no longer does"
    );
}

#[test]
fn a_public_client_is_shown_whole_and_removed_once() {
    let (_dir, db) = migrated_db();
    // Through FINRIFT_DB this time.
    let env = Some(db.to_str().unwrap());
    let added = finrift_with(
        &[
            "clients",
            "add",
            "web-app",
            "--public",
            "--redirect-uri",
            "https://app.example/callback",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--scope",
            "read:users write:users",
            "--default-scope",
            "read:users",
        ],
        env,
    );
    assert_eq!(added.ok(), "client `web-app` registered (public)\n");

    let shown = finrift_with(&["clients", "show", "web-app"], env);
    assert_eq!(
        shown.ok(),
        "id: web-app\n\
         kind: public\n\
         secret: none\n\
         redirect_uri: https://app.example/callback\n\
         redirect_uri: http://127.0.0.1/callback\n\
         grant_types: authorization_code refresh_token\n\
         allowed_scopes: read:users write:users\n\
         default_scopes: read:users\n\
         pkce: required\n"
    );

    let removed = finrift_with(&["clients", "remove", "web-app"], env);
    assert_eq!(removed.ok(), "client `web-app` removed\n");
    let gone = finrift_with(&["clients", "show", "web-app"], env);
    assert!(gone.failed().contains("no client `web-app`"), "{gone:?}");
    let again = finrift_with(&["clients", "remove", "web-app"], env);
    assert!(again.failed().contains("no client `web-app`"), "{again:?}");
}

#[test]
fn registrations_the_core_refuses_are_refused_with_its_reason() {
    let (_dir, db) = migrated_db();
    let cases: &[(&[&str], &str)] = &[
        (
            &["x", "--public", "--grant", "client_credentials"],
            "public client cannot use the client_credentials grant",
        ),
        (&["x", "--public"], "needs at least one redirect URI"),
        (
            &["x", "--public", "--redirect-uri", "http://app.example/cb"],
            "redirect URI refused",
        ),
        (
            &["x", "--grant", "client_credentials", "--scope", "a\"b"],
            "invalid scope",
        ),
        (
            &[
                "x",
                "--grant",
                "client_credentials",
                "--default-scope",
                "admin",
            ],
            "default scopes must be a subset",
        ),
        (&[""], "invalid client id"),
    ];
    for (args, reason) in cases {
        let mut all = vec!["clients", "add"];
        all.extend_from_slice(args);
        let run = finrift_on(&db, &all);
        assert!(run.failed().contains(reason), "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let listed = finrift_on(&db, &["clients", "list"]);
    assert_eq!(listed.ok(), "", "nothing was stored");
    assert!(listed.stderr.contains("0 clients"));
}

#[tokio::test]
async fn list_pages_through_every_client_once() {
    let (_dir, db) = migrated_db();
    let total = 2 * MAX_CLIENT_PAGE + 201;
    {
        // Fast commits: this is test data, not a registry to keep.
        let store =
            SqliteStore::open_with(SqliteOptions::file(&db).durability(Durability::ProcessCrash))
                .await
                .unwrap();
        let scope = ScopeSet::parse("read").unwrap();
        for i in 0..total {
            let client = Client::public(format!("client-{i:05}"))
                .unwrap()
                .redirect_uri("https://app.example/cb")
                .unwrap()
                .allowed_scopes(scope.clone())
                .build()
                .unwrap();
            store.put_client(client).await.unwrap();
        }
    }
    let service_secret = add_service(&db, &[]);

    let listed = finrift_on(&db, &["clients", "list"]);
    let lines: Vec<&str> = listed.ok().lines().collect();
    assert_eq!(lines.len(), total + 1, "each client once");
    assert_eq!(
        lines[0],
        "billing\tconfidential\tclient_credentials\tread:payments"
    );
    assert_eq!(
        lines[1],
        "client-00000\tpublic\tauthorization_code,refresh_token\tread"
    );
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.starts_with(&format!("client-{i:05}\t")), "{i}: {line}");
    }
    assert!(listed.stderr.contains(&format!("{} clients", total + 1)));
    assert!(!listed.stdout.contains(&service_secret));
}

/// Runs `finrift --db <db> args...` with its standard output on `/dev/full`, where every
/// write fails.
#[cfg(target_os = "linux")]
fn finrift_into_full_disk(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_finrift"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FINRIFT_DB")
        .stdout(full)
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_secret_that_cannot_be_printed_undoes_its_registration() {
    let (_dir, db) = migrated_db();
    let id = ClientId::new("billing").unwrap();

    let lost = finrift_into_full_disk(&db, ADD_SERVICE);
    assert_eq!(lost.status.code(), Some(1));
    let stderr = String::from_utf8(lost.stderr).unwrap();
    assert!(stderr.contains("the registration was undone"), "{stderr}");
    assert!(open(&db).await.get_client(&id).await.unwrap().is_none());

    let kept = add_service(&db, &[]);
    let replaced = finrift_into_full_disk(&db, &[ADD_SERVICE, &["--replace"]].concat());
    assert_eq!(replaced.status.code(), Some(1));
    let client = open(&db).await.get_client(&id).await.unwrap().unwrap();
    assert!(
        client.verify_secret(&kept),
        "the previous registration is back"
    );
}
