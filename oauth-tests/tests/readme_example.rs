//! The test shown in the README, run as is (and `readme_shows_this_test` keeps the README's
//! copy identical).

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// README-EXAMPLE-START
use oauth_core::testing::{expect_tokens, public_client, test_engine, Flow, FlowClient};
use oauth_store_memory::MemoryStore;

#[tokio::test]
async fn login_then_refresh() {
    let engine = test_engine(MemoryStore::new());
    let client = public_client("app", "https://app.example/cb", "read:users");
    engine.register_client(client).await.unwrap();

    let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
    let tokens = flow.login("alice", "read:users").await; // authorize, PKCE, approve, exchange
    let refresh = tokens.refresh_token.clone().unwrap();
    let next = expect_tokens(flow.refresh(&refresh, None).await);
    assert_ne!(next.refresh_token, Some(refresh)); // rotated
}
// README-EXAMPLE-END

#[test]
fn readme_shows_this_test() {
    let source = include_str!("readme_example.rs");
    let start =
        source.find("// README-EXAMPLE-START\n").unwrap() + "// README-EXAMPLE-START\n".len();
    let end = source.find("// README-EXAMPLE-END").unwrap();
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&source[start..end]),
        "README.md must show tests/readme_example.rs verbatim"
    );
}
