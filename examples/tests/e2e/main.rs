//! End-to-end tests: each demo server runs in this process on a free loopback port and is
//! driven over real HTTP by an independent OAuth client (the `oauth2` crate) and plain
//! `reqwest` requests, the way a browser, an app and an attacker would.
//!
//! One body per case (`cases/`, by concern), run against both demos (and the axum one again on a
//! SQLite file, the default storage, and on PostgreSQL) by the macros below; and two demo
//! processes sharing one PostgreSQL database (`cases/instances.rs`).

// Tests: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod servers;

/// Expands each case into a `#[tokio::test]` that starts a demo with `$start`, runs the
/// case against its base URL, and stops the server.
macro_rules! e2e_tests {
    ($start:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let server = $start().await;
                crate::cases::$case(&server.base).await;
                server.stop().await;
            }
        )*
    };
}

/// Every case, for one demo.
macro_rules! all_cases {
    ($start:path) => {
        e2e_tests!($start;
            az12_login_page_sends_anti_framing_headers,
            az12_approval_answers_303_with_code_state_and_iss,
            code_flow_with_pkce_then_api_calls_and_refresh_rotation,
            bad_credentials_show_the_form_again_without_redirect,
            csrf_token_missing_or_wrong_is_refused,
            tampered_pending_request_is_refused,
            replayed_consent_form_is_an_error_page,
            az11_deny_redirects_with_access_denied,
            scope_policy_narrows_bob_to_read_users,
            client_credentials_for_demo_service,
            ir01_introspection_needs_client_authentication,
            introspection_sees_own_tokens_only,
            revoking_an_access_token_stops_it_at_the_api,
            ir05_revoking_the_refresh_token_ends_the_grant,
            az01_redirect_uri_mismatch_is_an_error_page_without_redirect,
            az05_missing_pkce_redirects_with_invalid_request,
            tk01_code_replay_is_refused_and_revokes_the_first_tokens,
            rf02_refresh_reuse_revokes_the_grant,
            jw11_api_answers_401_and_403_with_challenges,
            tk10_get_on_token_endpoint_is_405,
            tk10_non_form_body_is_invalid_request,
            tk11_token_responses_are_not_cached,
            body_over_64_kib_is_413,
            unknown_route_is_404_json,
            ir07_metadata_and_jwks_are_served,
            rl01_wrong_client_secrets_get_429_and_then_even_the_right_one_does,
            rl01_failed_client_authentications_are_counted_per_peer_address,
            rl01_failed_logins_are_limited_per_account_and_caller,
            rl01_failed_logins_are_limited_per_peer_address,
            metrics_are_served_in_the_prometheus_text_format,
            metrics_follow_a_flow_and_its_attacks,
            rl01_a_strangers_failures_do_not_lock_out_a_public_or_confidential_client,
            rl06_idle_connections_do_not_stop_a_real_request,
            rl04_a_flood_of_logins_does_not_stall_other_endpoints,
            rl01_login_failures_at_one_account_do_not_lock_it_for_others,
            ir08_every_response_carries_nosniff,
            head_is_answered_where_get_is,
            oidcc_server,
            oidcc_discovery_document_is_complete_and_honest,
            oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
            oidcc_scope_profile_and_email,
            oidcc_userinfo_get_post_header_and_post_body,
            oidcc_userinfo_needs_an_openid_token,
            oidcc_prompt_none_not_logged_in,
            oidcc_prompt_login_and_max_age,
            oidcc_malformed_max_age_or_prompt_is_invalid_request,
            oidcc_request_and_request_uri_rejected_as_unsupported,
            oidcc_codereuse,
            oidcc_refresh_token,
            oidcc_hints_are_accepted,
            oidcc_ensure_post_request_succeeds,
            dp03_pushed_request_and_dpop_bound_tokens_end_to_end,
        );
    };
}

mod axum_demo {
    all_cases!(crate::servers::start_axum);
}

mod axum_demo_on_sqlite {
    all_cases!(crate::servers::start_axum_sqlite);
}

mod actix_demo {
    all_cases!(crate::servers::start_actix);
}

mod axum_demo_on_postgres {
    all_cases!(crate::servers::start_axum_postgres);
}

/// Two demo processes (axum and actix-web) on two ports sharing one PostgreSQL database,
/// as two instances of one service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sc08_two_instances_share_one_postgres_database() {
    use crate::cases::instances::*;

    let pair = crate::servers::start_pair().await;
    both_instances_publish_one_jwks_and_accept_each_others_tokens(&pair).await;
    a_code_issued_by_one_is_redeemed_at_the_other(&pair).await;
    a_login_page_of_one_is_approved_at_the_other_once(&pair).await;
    a_token_issued_by_one_is_introspected_and_revoked_at_the_other(&pair).await;
    a_refresh_token_rotated_at_one_and_replayed_at_the_other_revokes_the_grant(&pair).await;
    fifty_concurrent_redemptions_across_both_have_one_winner(&pair).await;
    a_key_rotated_in_the_database_signs_at_both_instances(&pair).await;
    // Last: it leaves this caller blocked at both instances.
    failure_budgets_are_per_instance(&pair).await;
}
