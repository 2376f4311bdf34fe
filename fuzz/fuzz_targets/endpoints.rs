//! The endpoints as a whole, on a memory store with three registered clients: an
//! arbitrary form body and `Authorization` header into `Engine::token`,
//! `introspect` and `revoke` (through a `FormRequest`), and an arbitrary query into `authorize_query`
//! (then approve and deny). Placeholders in the input (`$CODE`, `$VERIFIER`, `$RT`,
//! `$AT`) are replaced by a live code, its verifier, a refresh token and an access token,
//! so the fuzzer reaches the grants' deeper checks (FZ-01, FZ-03, TK-*, IR-*).
//!
//! Input: one mode byte, then `body \n header`. Mode bits: 0-1 endpoint, 2-3 the header
//! (none, the input's, Basic for `conf`, Basic for `svc`), 4 set up live tokens first.
//!
//! Invariants: the engine never faults on input; every refusal carries an RFC error code
//! and a description within RFC 6749 §5.2; token, introspection and revocation responses
//! are JSON with `Cache-Control: no-store`; no header holds a control character; every
//! redirect goes to a registered URI.

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use finrift_fuzz::{
    block_on, check_error, check_headers, check_location, check_no_store_json, engine, SECRET,
};
use libfuzzer_sys::fuzz_target;
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, CodeChallenge, Engine, IntrospectionOutcome,
    ManualClock, RevocationOutcome, ScopeSet, TokenOutcome, MAX_STATE_LEN,
};
use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use oauth_store_memory::MemoryStore;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[derive(Default)]
struct Live {
    code: String,
    refresh_token: String,
    access_token: String,
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (body, header) = text.split_once('\n').unwrap_or((&text, ""));
    let engine = engine();
    let live = if mode & 0x10 != 0 {
        set_up(&engine)
    } else {
        Live::default()
    };
    let fill = |s: &str| {
        s.replace("$CODE", &live.code)
            .replace("$VERIFIER", VERIFIER)
            .replace("$RT", &live.refresh_token)
            .replace("$AT", &live.access_token)
    };
    let body = fill(body);
    let basic = |id: &str| format!("Basic {}", STANDARD.encode(format!("{id}:{SECRET}")));
    let header = match (mode >> 2) & 3 {
        0 => None,
        1 => Some(fill(header)),
        2 => Some(basic("conf")),
        _ => Some(basic("svc")),
    };
    let header = header.as_deref();
    match mode & 3 {
        0 => token(&engine, &body, header),
        1 => authorize(&engine, &body),
        2 => introspect(&engine, &body, header),
        _ => revoke(&engine, &body, header),
    }
});

/// A live code for `app` (verifier [`VERIFIER`]), and tokens from another code.
fn set_up(engine: &Engine<MemoryStore, ManualClock>) -> Live {
    let code = |engine: &Engine<MemoryStore, ManualClock>| {
        let query = format!(
            "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
             &scope=read+write&state=s&code_challenge={}&code_challenge_method=S256",
            CodeChallenge::from_verifier(VERIFIER).as_str()
        );
        let Ok(AuthorizeOutcome::Pending(pending)) = block_on(engine.authorize_query(&query))
        else {
            panic!("the set-up request is valid");
        };
        let Ok(AuthorizationResponse::Redirect(redirect)) =
            block_on(engine.approve(&pending, "alice", pending.scope()))
        else {
            panic!("approval redirects");
        };
        redirect.param("code").expect("a code")
    };
    let first = code(engine);
    let body = format!(
        "grant_type=authorization_code&code={first}&client_id=app\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier={VERIFIER}"
    );
    let Ok(TokenOutcome::Issued(tokens)) =
        block_on(engine.token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())))
    else {
        panic!("the set-up exchange issues tokens");
    };
    Live {
        code: code(engine),
        refresh_token: tokens.refresh_token.expect("a refresh token"),
        access_token: tokens.access_token,
    }
}

fn token(engine: &Engine<MemoryStore, ManualClock>, body: &str, header: Option<&str>) {
    let outcome = block_on(engine.token(
        &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()).with_authorization(header),
    ))
    .expect("no fault on any input");
    check_no_store_json(&outcome.to_response());
    match &outcome {
        TokenOutcome::Issued(tokens) => {
            assert!(tokens.expires_in > 0);
            let allowed = ScopeSet::parse("read write admin:all openid").expect("scopes");
            assert!(tokens.scope.is_subset(&allowed));
            assert!(!tokens.access_token.is_empty());
        }
        TokenOutcome::Refused(error) => check_error(error),
        other => panic!("an answer the target does not know: {other:?}"),
    }
}

fn authorize(engine: &Engine<MemoryStore, ManualClock>, query: &str) {
    match block_on(engine.authorize_query(query)).expect("no fault on any input") {
        AuthorizeOutcome::Pending(pending) => {
            assert!(pending.state().is_none_or(|s| s.len() <= MAX_STATE_LEN));
            check_location(&format!("{}?", pending.redirect_uri()));
            let sealed = engine.seal_pending(&pending).expect("sealing");
            assert_eq!(engine.open_pending(&sealed).expect("opens"), pending);
            let approved =
                block_on(engine.approve(&pending, "alice", pending.scope())).expect("no fault");
            answer(&approved);
            let denied = block_on(engine.deny(&pending)).expect("no fault");
            answer(&denied);
        }
        AuthorizeOutcome::Redirect(redirect) => {
            check_location(redirect.location());
            check_headers(&redirect.to_response());
            let error = redirect.param("error").expect("an error redirect");
            assert!(finrift_fuzz::RFC_CODES.contains(&error.as_str()));
            assert_eq!(redirect.param("iss").as_deref(), Some(finrift_fuzz::ISSUER));
        }
        AuthorizeOutcome::ErrorPage(error) => check_error(&error),
        other => panic!("an answer the target does not know: {other:?}"),
    }
}

fn answer(response: &AuthorizationResponse) {
    match response {
        AuthorizationResponse::Redirect(redirect) => {
            check_location(redirect.location());
            check_headers(&redirect.to_response());
            assert_eq!(redirect.param("iss").as_deref(), Some(finrift_fuzz::ISSUER));
        }
        AuthorizationResponse::ErrorPage(error) => check_error(error),
        other => panic!("an answer the target does not know: {other:?}"),
    }
}

fn introspect(engine: &Engine<MemoryStore, ManualClock>, body: &str, header: Option<&str>) {
    let outcome = block_on(engine.introspect(
        &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()).with_authorization(header),
    ))
    .expect("no fault on any input");
    check_no_store_json(&outcome.to_response());
    match &outcome {
        IntrospectionOutcome::Active(claims) => {
            assert_eq!(claims["active"], true);
        }
        IntrospectionOutcome::Inactive => {}
        IntrospectionOutcome::Refused(error) => check_error(error),
        other => panic!("an answer the target does not know: {other:?}"),
    }
}

fn revoke(engine: &Engine<MemoryStore, ManualClock>, body: &str, header: Option<&str>) {
    let outcome = block_on(engine.revoke(
        &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()).with_authorization(header),
    ))
    .expect("no fault on any input");
    let response = outcome.to_response();
    check_headers(&response);
    if let RevocationOutcome::Refused(error) = &outcome {
        check_error(error);
        check_no_store_json(&response);
    }
}
