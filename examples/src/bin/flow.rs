//! A whole OAuth 2.0 session in one process, with no HTTP: the authorization code grant
//! with PKCE, a refresh with rotation, a refresh-token reuse caught, and the client
//! credentials grant. Each step prints what an adapter would send over the wire.
//!
//! Run it with `cargo run -p examples --bin flow`.

use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use std::error::Error;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, Client, CodeChallenge, Config, Engine, GrantType,
    ManualClock, RandomSource, ScopeSet, SystemClock, TokenOutcome,
};
use oauth_store_memory::MemoryStore;
use time::Duration;

const ISSUER: &str = "https://auth.finrift.example";
const REDIRECT_URI: &str = "https://app.example/callback";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // A manual clock starting now, so the demo can jump forward in time.
    use oauth_core::Clock as _;
    let clock = ManualClock::new(SystemClock.now());
    let engine =
        Engine::builder(MemoryStore::new(), clock, Config::builder(ISSUER).build()?).build()?;
    let random = RandomSource::new();

    step("Register clients");
    let scopes = ScopeSet::parse("read:users write:users read:payments")?;
    engine
        .register_client(
            Client::public("web-app")?
                .redirect_uri(REDIRECT_URI)?
                .allowed_scopes(scopes.clone())
                .default_scopes(ScopeSet::parse("read:users")?)
                .build()?,
        )
        .await?;
    let billing_secret = random.secret()?;
    engine
        .register_client(
            Client::confidential("billing-service", &billing_secret)?
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(ScopeSet::parse("read:payments")?)
                .build()?,
        )
        .await?;
    println!("public client `web-app` and confidential client `billing-service` registered");
    println!("(the store keeps only the SHA-256 of billing-service's secret)");

    step("1. The browser arrives at the authorization endpoint");
    let mut verifier_bytes = [0u8; 32];
    random.fill(&mut verifier_bytes)?;
    let verifier = URL_SAFE_NO_PAD.encode(verifier_bytes);
    let challenge = CodeChallenge::from_verifier(&verifier);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "web-app"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "read:users write:users"),
            ("state", "af0ifjsldkj"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    println!("GET /authorize?{query}");
    let pending = match engine.authorize_query(&query).await? {
        AuthorizeOutcome::Pending(pending) => pending,
        other => return Err(format!("unexpected answer: {other:?}").into()),
    };
    println!(
        "valid: client `{}` asks for `{}`; the embedder now logs the user in and asks consent",
        pending.client_id(),
        pending.scope()
    );

    step("2. alice approves");
    let redirect = match engine.approve(&pending, "alice", pending.scope()).await? {
        AuthorizationResponse::Redirect(redirect) => redirect,
        AuthorizationResponse::ErrorPage(error) => return Err(error.into()),
        _ => return Err("an answer this example does not know".into()),
    };
    let response = redirect.to_response();
    println!("HTTP {} Location: {}", response.status, redirect.location());
    let code = redirect.param("code").ok_or("no code in the redirect")?;

    step("3. The client redeems the code with its PKCE verifier");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", "web-app"),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
    ]);
    let tokens = print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await?,
    )?;
    let first_refresh = tokens.refresh_token.clone().ok_or("no refresh token")?;

    step("4. Redeeming the same code again is refused, and revokes what it issued");
    print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await?,
    )
    .ok();
    println!("the refresh token from step 3 is now dead:");
    let retry = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &first_refresh),
        ("client_id", "web-app"),
    ]);
    print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), retry.as_bytes()))
            .await?,
    )
    .ok();

    step("5. A fresh login, then a refresh 20 minutes later: the refresh token rotates");
    let pending = match engine.authorize_query(&query).await? {
        AuthorizeOutcome::Pending(pending) => pending,
        other => return Err(format!("unexpected answer: {other:?}").into()),
    };
    let AuthorizationResponse::Redirect(redirect) =
        engine.approve(&pending, "alice", pending.scope()).await?
    else {
        return Err("approval did not redirect".into());
    };
    let code = redirect.param("code").ok_or("no code")?;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", "web-app"),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
    ]);
    let tokens = print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await?,
    )?;
    let refresh = tokens.refresh_token.ok_or("no refresh token")?;
    engine.clock().advance(Duration::minutes(20));
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("client_id", "web-app"),
        ("scope", "read:users"),
    ]);
    print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await?,
    )?;

    step("6. The old refresh token comes back: reuse detected, the grant is revoked");
    print_token_response(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await?,
    )
    .ok();

    step("7. billing-service asks for a token for itself (client credentials, Basic auth)");
    // RFC 6749 §2.3.1: form-urlencode each part, then base64 the pair.
    let credentials = form_component("billing-service") + ":" + &form_component(&billing_secret);
    let authorization = format!("Basic {}", STANDARD.encode(credentials));
    println!("POST /token  Authorization: Basic <client credentials>");
    print_token_response(
        engine
            .token(
                &FormRequest::new(
                    Some(FORM_CONTENT_TYPE),
                    b"grant_type=client_credentials&scope=read%3Apayments",
                )
                .with_authorization(Some(&authorization)),
            )
            .await?,
    )?;

    println!("\nDone: every step above ran through oauth-core with no HTTP and no sleeping.");
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn form_component(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Prints the response as an adapter would send it, with tokens shortened.
fn print_token_response(outcome: TokenOutcome) -> Result<oauth_core::IssuedTokens, Box<dyn Error>> {
    let response = outcome.to_response();
    let mut body: serde_json::Value = serde_json::from_str(&response.body)?;
    for field in ["access_token", "refresh_token"] {
        if let Some(value) = body.get_mut(field) {
            let text = value.as_str().unwrap_or_default();
            *value = format!("{}…", &text[..8.min(text.len())]).into();
        }
    }
    let headers: Vec<String> = response
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    println!("HTTP {}  [{}]\n{body}", response.status, headers.join("; "));
    match outcome {
        TokenOutcome::Issued(tokens) => Ok(tokens),
        TokenOutcome::Refused(error) => Err(error.into()),
        _ => Err("an answer this example does not know".into()),
    }
}
