//! Assertions on OAuth outcomes, with messages that say what was expected and what came.

use crate::authorization::AuthorizeOutcome;
use crate::error::{ErrorCode, OAuthError};
use crate::grant::TokenOutcome;
use crate::resource::{BearerError, Principal};
use crate::token::IssuedTokens;

/// The tokens of an outcome that must have issued some.
#[track_caller]
pub fn expect_tokens(outcome: TokenOutcome) -> IssuedTokens {
    match outcome {
        TokenOutcome::Issued(tokens) => tokens,
        TokenOutcome::Refused(error) => panic!(
            "expected tokens, but the token endpoint answered {} ({}): {}",
            error.code(),
            error.status(),
            error.description()
        ),
    }
}

/// Asserts that a token-endpoint outcome is the error `code`, with the status that code
/// takes and `Cache-Control: no-store`; returns the error for further checks.
#[track_caller]
pub fn assert_token_error(outcome: &TokenOutcome, code: ErrorCode) -> &OAuthError {
    let error = match outcome {
        TokenOutcome::Refused(error) => error,
        TokenOutcome::Issued(tokens) => panic!(
            "expected the error {code}, but tokens were issued (scope {:?})",
            tokens.scope.to_string()
        ),
    };
    assert!(
        error.code() == code,
        "expected the error {code}, got {} ({}): {}",
        error.code(),
        error.status(),
        error.description()
    );
    let expected_status = if error.retry_after().is_some() {
        429
    } else {
        code.default_status()
    };
    assert!(
        error.status() == expected_status,
        "the error {code} came with status {}, expected {expected_status}",
        error.status()
    );
    let response = outcome.to_response();
    assert!(
        response.header("Cache-Control") == Some("no-store"),
        "a token error response must carry Cache-Control: no-store"
    );
    error
}

/// Asserts that an authorization outcome redirects to the client with `error=code` (and
/// `iss`); returns the redirect's parameters.
#[track_caller]
pub fn assert_redirect_error(outcome: &AuthorizeOutcome, code: ErrorCode) -> Vec<(String, String)> {
    match outcome {
        AuthorizeOutcome::Redirect(redirect) => {
            let params = redirect.params();
            let error = params
                .iter()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.as_str());
            assert!(
                error == Some(code.as_str()),
                "expected a redirect with error={code}, got {}",
                redirect.location()
            );
            assert!(
                params.iter().any(|(k, _)| k == "iss"),
                "an authorization error redirect must carry iss (RFC 9207): {}",
                redirect.location()
            );
            params
        }
        AuthorizeOutcome::ErrorPage(error) => panic!(
            "expected a redirect with error={code}, got an error page: {} {}",
            error.code(),
            error.description()
        ),
        AuthorizeOutcome::Pending(pending) => panic!(
            "expected a redirect with error={code}, but the request is pending approval for {}",
            pending.client_id()
        ),
    }
}

/// Asserts that an authorization outcome is an error page (no redirect) with `code`.
#[track_caller]
pub fn assert_error_page(outcome: &AuthorizeOutcome, code: ErrorCode) -> &OAuthError {
    match outcome {
        AuthorizeOutcome::ErrorPage(error) => {
            assert!(
                error.code() == code,
                "expected an error page {code}, got an error page {}: {}",
                error.code(),
                error.description()
            );
            error
        }
        AuthorizeOutcome::Redirect(redirect) => panic!(
            "expected an error page {code} and no redirect, but it redirects to {}",
            redirect.location()
        ),
        AuthorizeOutcome::Pending(_) => {
            panic!("expected an error page {code}, but the request is pending approval")
        }
    }
}

/// Asserts that a resource-server check was refused with `status` (401, 400 or 403);
/// returns the refusal.
#[track_caller]
pub fn assert_bearer_error(result: &Result<Principal, BearerError>, status: u16) -> &BearerError {
    match result {
        Err(error) => {
            assert!(
                error.status() == status,
                "expected a {status} refusal, got {} ({})",
                error.status(),
                error.www_authenticate()
            );
            error
        }
        Ok(principal) => panic!(
            "expected a {status} refusal, but the token was accepted for {} with scope {:?}",
            principal.subject,
            principal.scope.to_string()
        ),
    }
}
