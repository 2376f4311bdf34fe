//! finrift flow tests: whole OAuth flows driven through the engine with no HTTP, on a
//! [`ManualClock`](oauth_core::ManualClock), with one test body run against every storage backend.
//!
//! Test bodies live in [`cases`] as `pub async fn`s taking a [`Harness`]; the
//! [`flow_tests!`] macro expands every one of them into a `#[tokio::test]` for a given
//! store constructor (see `tests/memory.rs`).

#![forbid(unsafe_code)]
// This crate is test code end to end: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![warn(missing_docs)]

pub mod cases;
mod harness;
mod openid_harness;

pub use harness::*;
pub use openid_harness::*;

/// Expands every flow test into `#[tokio::test]`s for the store built by `$store`.
#[macro_export]
macro_rules! flow_tests {
    ($store:expr) => {
        $crate::flow_tests!(@expand $store;
            happy_authorization_code_flow,
            happy_client_credentials_flow,
            happy_refresh_flow,
            kit_flow_walks_every_step,
            az01_redirect_uri_must_match_exactly,
            az02_loopback_port_may_differ,
            az04_unknown_client_or_ambiguous_redirect_is_an_error_page,
            az05_pkce_challenge_required_and_s256_only,
            az06_unsupported_or_missing_response_type,
            az07_every_authorization_response_carries_iss,
            az08_repeated_parameters,
            az09_invalid_or_unauthorized_scope,
            az10_state_round_trips_or_is_refused_past_limit,
            az11_denied_consent_redirects_with_access_denied,
            pending_authorization_expires_and_is_rechecked,
            pending_authorization_seal_is_tamper_proof,
            pending_authorization_is_answered_once,
            az13_consent_csrf_is_bound_to_its_sealed_request,
            oi02_prompt_none_answers_login_or_consent_required_without_a_page,
            oi02_prompt_login_and_max_age_force_a_fresh_login,
            openid_approval_keeps_the_nonce_and_the_sign_in,
            oi05_unsupported_and_malformed_openid_parameters,
            oi05_id_token_hint_names_the_expected_user,
            oi01_id_token_claims_at_the_code_exchange,
            oi01_no_nonce_no_sign_in_no_openid,
            oi01_rs256_by_default_and_es256_per_client,
            oi01_a_client_algorithm_without_a_key_is_refused,
            oi04_refreshed_id_token_keeps_sub_aud_auth_time_and_drops_nonce,
            oi05_discovery_document,
            oi03_userinfo_by_get_post_header_and_post_form,
            oi03_userinfo_bearer_rules,
            oi03_userinfo_needs_the_openid_scope,
            oi03_userinfo_claims_follow_the_granted_scopes,
            oi03_userinfo_failing_source_is_server_error,
            tk01_code_replay_revokes_first_tokens,
            tk02_invalid_replay_revokes_nothing,
            tk03_code_of_another_client_or_expired,
            tk04_code_verifier_missing_wrong_or_malformed,
            tk05_verifier_for_code_without_challenge_is_refused,
            tk06_redirect_uri_must_repeat_authorization_request,
            tk13_a_code_from_another_issuer_on_the_same_store_is_invalid_grant,
            tk07_wrong_client_secret,
            tk08_client_authentication_ambiguities,
            tk09_grant_type_checks,
            tk10_duplicate_or_malformed_token_parameters,
            tk11_token_responses_are_not_cacheable,
            tk12_minted_tokens_are_distinct_and_long,
            rf01_refresh_rotates,
            rf02_rotated_refresh_reuse_revokes_grant,
            rf03_refresh_token_of_another_client_or_without_auth,
            rf04_refresh_scope_may_narrow_never_widen,
            rf05_refresh_past_absolute_lifetime,
            rf06_refresh_rechecks_the_registration_and_the_scope_policy,
            rf06_revoking_a_subject_revokes_every_grant_of_that_user,
            removed_client_refresh_is_invalid_client,
            scope_policy_narrows_by_subject,
            purge_keeps_what_replay_detection_needs,
            ir01_introspection_requires_client_authentication,
            ir02_inactive_tokens_say_only_active_false,
            ir03_token_type_hint_is_only_a_hint,
            ir04_revoking_garbage_or_another_clients_token,
            ir05_revoking_refresh_token_ends_its_access_tokens,
            ir06_revoking_jwt_access_token_denies_its_jti,
            jw12_a_revoked_jwt_stays_refused_after_a_purge,
            ir07_metadata_document,
            jwt_access_tokens_for_every_algorithm,
            jwt_auth_time_is_the_approval_time,
            jwt_signing_key_rotation,
            jw11_resource_server_bearer_rules,
            dp01_token_endpoint_binds_jwt_access_tokens_to_the_proof_key,
            dp01_opaque_access_tokens_are_bound_and_introspect_with_cnf,
            dp01_a_required_server_nonce_is_asked_for_and_checked,
            dp02_an_opaque_bound_token_requires_the_proof_of_its_key,
            dp02_a_public_clients_refresh_token_is_bound_to_its_key,
            dp03_dpop_jkt_at_authorization_binds_the_code,
            dp03_a_pushed_request_binds_the_code_to_its_proof,
            dp02_resource_server_requires_the_proof_of_the_bound_key,
            events_of_a_full_flow,
            disabled_sink_is_handed_no_event,
            events_of_attacks,
            limits_trip_to_429_then_cool_down,
            limits_success_does_not_reset_the_callers_budget,
            dp04_a_request_uri_is_redeemed_once,
            dp04_a_request_uri_expires_after_about_a_minute,
            dp04_a_request_uri_belongs_to_one_client_and_one_engine,
            dp04_only_the_pushed_parameters_count,
            dp04_a_pushed_request_is_checked_like_an_authorization_request,
            dp04_requiring_pushed_requests_refuses_direct_ones,
            dp05_a_valid_assertion_authenticates_at_every_endpoint,
            dp06_the_fapi2_flow_and_its_metadata,
            dp06_a_request_not_pushed_is_refused,
            dp06_a_public_client_is_refused,
            dp06_secret_based_client_authentication_is_refused,
            dp06_an_unbound_access_token_is_never_issued,
            dp06_redirect_uri_and_issuer_audience_are_required,
            dp06_ps256_proofs_and_assertions_are_taken,
            dp05_a_replayed_assertion_is_invalid_client,
            dp05_expired_or_long_lived_assertions_are_refused,
            dp05_an_assertion_for_another_audience_is_refused,
            dp05_iss_or_sub_not_the_client_is_refused,
            dp05_unregistered_key_or_other_algorithm_is_refused,
            dp05_secrets_and_assertions_do_not_cross,
        );
        $crate::flow_tests!(@expand_mt $store;
            sc01_concurrent_code_redemptions_exactly_one_wins,
            sc02_concurrent_refreshes_exactly_one_wins,
        );
    };
    (@expand $store:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::cases::$name($crate::Harness::new($store).await).await;
            }
        )*
    };
    (@expand_mt $store:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::cases::$name($crate::Harness::new($store).await).await;
            }
        )*
    };
}

/// The README's code compiles (its examples run as doctests here).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
